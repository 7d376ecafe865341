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
