/** Test inputs made by the project itself: analytic frames, datasets, and ffmpeg-encoded videos. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RgbImage } from '../../src/shared/frames.js';
import { DatasetWriter } from '../../src/engine/dataset/dataset.js';
import { getFfmpeg } from '../../src/engine/capture/ffmpeg.js';

const run = promisify(execFile);

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `navws-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A frame with structure at every scale (gradients, a moving disc, a checker) that differs per index. */
export function analyticFrame(width: number, height: number, index: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const cx = (width * (0.3 + 0.05 * index)) % width;
  const cy = height / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = 3 * (y * width + x);
      const inDisc = (x - cx) ** 2 + (y - cy) ** 2 < (height / 5) ** 2;
      const checker = ((x >> 3) + (y >> 3) + index) & 1;
      data[o] = inDisc ? 240 : (x * 255) / (width - 1);
      data[o + 1] = (y * 255) / (height - 1);
      data[o + 2] = checker ? 200 : (index * 37) & 255;
    }
  }
  return { width, height, data };
}

/**
 * The committed sample (samples/phantom) when present, else a small analytic dataset written to
 * `dir`: either way a dataset folder with rgb/NNNNNN.png frames.
 */
export async function sampleDataset(dir: string, frames = 12): Promise<string> {
  const sample = path.join(REPO_ROOT, 'samples', 'phantom');
  if (
    existsSync(path.join(sample, 'intrinsics.json')) &&
    existsSync(path.join(sample, 'rgb', '000000.png'))
  ) {
    return sample;
  }
  const root = path.join(dir, 'dataset');
  const width = 96;
  const height = 72;
  const writer = await DatasetWriter.create(
    root,
    { width, height, fx: 80, fy: 80, cx: 47.5, cy: 35.5, depth_scale: 100, fps: 30 },
    false,
  );
  for (let i = 0; i < frames; i++) await writer.writeRgb(i, analyticFrame(width, height, i));
  return root;
}

/** Encodes rgb/%06d.png of a dataset losslessly with ffmpeg (`codec`: 'ffv1' -> .mkv, 'x264rgb' -> .mp4). */
export async function encodeDatasetVideo(
  dataset: string,
  out: string,
  fps: number,
  codec: 'ffv1' | 'x264rgb',
  maxFrames?: number,
): Promise<void> {
  const ffmpeg = await getFfmpeg();
  const codecArgs =
    codec === 'ffv1' ? ['-c:v', 'ffv1'] : ['-c:v', 'libx264rgb', '-qp', '0', '-preset', 'ultrafast'];
  await run(ffmpeg.path, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-framerate',
    String(fps),
    '-i',
    path.join(dataset, 'rgb', '%06d.png'),
    ...(maxFrames !== undefined ? ['-frames:v', String(maxFrames)] : []),
    ...codecArgs,
    out,
  ]);
}

export async function ffmpegRun(args: string[]): Promise<void> {
  const ffmpeg = await getFfmpeg();
  await run(ffmpeg.path, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}
