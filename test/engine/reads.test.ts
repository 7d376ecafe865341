/**
 * What decoding reads: in containers indexed by timestamp, a keyframe-mode
 * seek lands on the keyframe itself, so each output reads one packet of the
 * video stream and decodes one frame; exact mode reads no more packets than
 * the GOPs up to its targets hold.
 */

import { afterAll, describe, expect, it } from 'vitest';
import { shutdown } from '../../src/index.js';
import { fixtureNamed } from '../helpers/fixtures.js';
import { fixturePath } from '../helpers/made-file.js';
import { collect } from '../helpers/snapshot-run.js';

afterAll(shutdown);

describe('packets read', () => {
  it.each(['mp4-bframes', 'mp4-long-gop', 'mkv-h264', 'webm-vp9', 'mov-h264'])(
    'keyframe mode on %s reads one packet per output',
    async (name) => {
      const path = await fixturePath(fixtureNamed(name));
      const { outputs, stats } = await collect(path, { mode: 'keyframe', interval: 1 });
      expect(outputs.length).toBeGreaterThan(0);
      expect(stats.packetsRead).toBe(outputs.length);
      expect(stats.framesDecoded).toBe(outputs.length);
    },
  );

  it('exact mode reads nothing past the last target of a GOP', async () => {
    // Keyframes at 0, 1.5 and 3 s, each a target: each GOP's only target is
    // its keyframe, so the decoder is drained right after that packet
    // instead of being fed the B-frames' reordering delay.
    const path = await fixturePath(fixtureNamed('mp4-bframes'));
    const { outputs, stats } = await collect(path, { mode: 'exact', interval: 1.5 });
    expect(outputs.map((output) => output.frameTime)).toEqual([0, 1.5, 3]);
    expect(stats.packetsRead).toBe(outputs.length);
    expect(stats.framesDecoded).toBe(outputs.length);
  });

  it('exact mode reads fewer packets than the scan when targets are sparse', async () => {
    const path = await fixturePath(fixtureNamed('mp4-long-gop'));
    const { stats } = await collect(path, { mode: 'exact', interval: 5 });
    expect(stats.packetsRead).toBeLessThan(stats.scanPackets);
    expect(stats.framesDecoded).toBeLessThan(stats.scanPackets);
  });
});
