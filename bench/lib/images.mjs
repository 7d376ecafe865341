// Pictures reduced to what the agreement checks compare: luma at half
// resolution (a 2x2 box), from the JPEGs the contenders wrote (decoded by
// sharp) and from the source video's frames (decoded by ffmpeg to RGB). Half
// resolution keeps the frame-to-frame differences of the test video, moving
// shapes and temporal noise, while it evens out JPEG ringing.
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import { formatCommand } from './process.mjs';

export async function lumaOfImage(path, width, height) {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new Error(`${path}: expected ${width}x${height} RGB, decoded ${info.width}x${info.height} with ${info.channels} channels`);
  }
  return halfLuma(data, width, height);
}

/** Decodes the frames at these display indices; resolves a Map index → luma. */
export function lumaOfVideoFrames(input, indices, width, height) {
  const wanted = [...new Set(indices)].sort((a, b) => a - b);
  const select = `select='${balancedSum(wanted.map((i) => `eq(n,${i})`))}'`;
  const argv = [
    'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-i', input,
    '-vf', select, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
  const shown = formatCommand(argv.map((arg) => (arg === select ? 'select=…' : arg)));
  const frameBytes = width * height * 3;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const frames = new Map();
    const pending = Buffer.alloc(frameBytes);
    let filled = 0;
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(pending, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          frames.set(wanted[frames.size], halfLuma(pending, width, height));
          filled = 0;
        }
      }
    });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', (err) => reject(new Error(`cannot start ffmpeg: ${err.message}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`reference decode of ${wanted.length} frames failed (exit code ${code}): ${shown}\n${stderr.slice(-2000)}`));
      } else if (frames.size !== wanted.length || filled !== 0) {
        reject(new Error(`reference decode returned ${frames.size} of ${wanted.length} frames: ${shown}`));
      } else {
        resolve(frames);
      }
    });
  });
}

/** Peak signal-to-noise ratio in dB of two lumas; Infinity when identical. */
export function psnr(a, b) {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / sum);
}

// ffmpeg's expression evaluator fails on a long flat chain of terms (ENOMEM
// at filter init past about a hundred); a balanced tree stays shallow.
function balancedSum(terms) {
  if (terms.length === 1) return terms[0];
  const mid = terms.length >> 1;
  return `(${balancedSum(terms.slice(0, mid))}+${balancedSum(terms.slice(mid))})`;
}

function halfLuma(rgb, width, height) {
  const w = width >> 1;
  const h = height >> 1;
  const out = new Uint8Array(w * h);
  const stride = width * 3;
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      const p = 2 * y * stride + 6 * x;
      const q = p + stride;
      const r = rgb[p] + rgb[p + 3] + rgb[q] + rgb[q + 3];
      const g = rgb[p + 1] + rgb[p + 4] + rgb[q + 1] + rgb[q + 4];
      const b = rgb[p + 2] + rgb[p + 5] + rgb[q + 2] + rgb[q + 5];
      out[y * w + x] = Math.round((0.299 * r + 0.587 * g + 0.114 * b) / 4);
    }
  }
  return out;
}
