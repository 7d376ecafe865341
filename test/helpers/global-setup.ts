/** Makes every test file once before the workers start, so that no two workers make the same one. */

import { audioVideos } from './audio-videos.js';
import { badInputSources } from './bad-inputs.js';
import { fixtures } from './fixtures.js';
import { hdrVideos } from './hdr-videos.js';
import { indexVideos } from './index-videos.js';
import { makeAll } from './made-file.js';
import { rangeReadVideo } from './range-video.js';
import { serviceVideos } from './service-videos.js';

export default async function setup(): Promise<void> {
  await makeAll([...fixtures, ...audioVideos, ...badInputSources, ...serviceVideos, ...indexVideos, ...hdrVideos, rangeReadVideo]);
}
