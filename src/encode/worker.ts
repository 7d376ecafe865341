/**
 * An encode worker (a piscina worker thread): runs sharp-encode.ts on the
 * frames the pool moves in. The pool gives each worker one task at a time.
 *
 * Start-up is on the critical path of a short extraction, so this module
 * loads nothing of piscina: its `move()` would load the whole pool library
 * into every worker (about 30 ms) to save one copy of the encoded image, a
 * fraction of a millisecond. The image is posted back by copy (sharp's
 * buffer is external memory, which cannot be transferred).
 */

export { encodeImage as default } from './sharp-encode.js';
