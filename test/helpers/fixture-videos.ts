/**
 * Fixtures with the oracle's reading of them, made and probed once per test
 * file however many cases use them.
 */

import { fixtures, type Fixture } from './fixtures.js';
import { canMake, fixturePath } from './made-file.js';
import { probeVideo, type ProbedVideo } from './oracle.js';

export interface FixtureCase extends Fixture {
  /** False when this FFmpeg lacks the encoder: the fixture's tests are skipped. */
  available: boolean;
}

/** Every fixture of the table, each marked with whether it can be made here. */
export async function fixtureCases(): Promise<FixtureCase[]> {
  return Promise.all(fixtures.map(async (fixture) => ({ ...fixture, available: await canMake(fixture) })));
}

/** Codecs the wasm core has no software decoder for (its av1 decoder wants hardware). */
const notOnWasm: ReadonlySet<string> = new Set(['av1']);

/**
 * What the wasm backend's VSNAP_UNSUPPORTED_INPUT names for this fixture, or
 * undefined when it reads it (modes.test.ts proves the refusals).
 */
export function wasmRefusal(fixture: Fixture): string | undefined {
  if (notOnWasm.has(fixture.codec)) return fixture.codec;
  // The wasm timeline does not place frames by later packets (timeline.ts).
  if (fixture.traits.anchorsWithoutPts) return 'no presentation time';
  return undefined;
}

const videos = new Map<string, Promise<ProbedVideo>>();

/** The fixture's file, read by ffprobe. */
export function fixtureVideo(fixture: Fixture): Promise<ProbedVideo> {
  let video = videos.get(fixture.name);
  if (video === undefined) {
    video = fixturePath(fixture).then(probeVideo);
    videos.set(fixture.name, video);
  }
  return video;
}
