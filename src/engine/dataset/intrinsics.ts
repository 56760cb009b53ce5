/** intrinsics.json of a dataset folder (docs/formats.md): the camera, depth PNG scale and frame rate. */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { readInputFile, parseJsonInput } from './read-input-file.js';
import type { PinholeIntrinsics } from '../../shared/camera.js';
import { validateIntrinsics } from '../../shared/camera.js';

export interface DatasetIntrinsics extends PinholeIntrinsics {
  /** PNG units per millimetre: depth_mm = png_value / depth_scale. */
  depth_scale: number;
  /** Nominal frames per second of the sequence. */
  fps: number;
}

const schema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fx: z.number().positive(),
  fy: z.number().positive(),
  cx: z.number(),
  cy: z.number(),
  depth_scale: z.number().positive(),
  fps: z.number().positive(),
});

export function parseIntrinsics(text: string, file = 'intrinsics.json'): DatasetIntrinsics {
  const data = parseJsonInput(text, file, schema);
  validateIntrinsics(data, file);
  return data;
}

export async function readIntrinsics(file: string): Promise<DatasetIntrinsics> {
  return parseIntrinsics((await readInputFile(file)).toString('utf8'), file);
}

export async function writeIntrinsics(file: string, k: DatasetIntrinsics): Promise<void> {
  const { width, height, fx, fy, cx, cy, depth_scale, fps } = k;
  await writeFile(file, JSON.stringify({ width, height, fx, fy, cx, cy, depth_scale, fps }, null, 2) + '\n');
}
