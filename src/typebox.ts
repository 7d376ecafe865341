/**
 * The parts of TypeBox that the options schema (option-schema.ts) uses: six
 * type builders and the value checker. They are gathered here so that the
 * build can bundle this one module (scripts/bundle-typebox.mjs replaces
 * dist/src/typebox.js with them and what they need, ~40 KB): importing
 * TypeBox's package entry loads its ~270 files, which took 190 ms of every
 * `import 'vsnap'` and 100 ms of every `vsnap extract`; the bundle loads in
 * under 10 ms. Type-only imports (TSchema, Static) come from the package as
 * usual.
 */

import { Array, Integer, Literal, Number, Object, Union } from '@sinclair/typebox';
import { Check } from '@sinclair/typebox/value';

/** TypeBox's builders, spelled as `Type.Integer(…)` as TypeBox's own documentation spells them. */
export const Type = { Array, Integer, Literal, Number, Object, Union };

/** TypeBox's value checker, as `Value.Check(schema, value)`. */
export const Value = { Check };
