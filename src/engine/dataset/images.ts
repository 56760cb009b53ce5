/**
 * PNG images of the dataset contract: 8-bit RGB frames and 16-bit depth (value / depth_scale = mm,
 * 0 = unknown). Decoding validates bit depth and channels and names the file on error.
 */
import { writeFile } from 'node:fs/promises';
import { readInputFile } from './read-input-file.js';
import { decode, encode } from 'fast-png';
import { type DepthImage, type RgbImage, sharedBytes, sharedFloats } from '../../shared/frames.js';

export function decodeRgbPng(bytes: Uint8Array, file: string): RgbImage {
  let png;
  try {
    png = decode(bytes);
  } catch (err) {
    throw new Error(`${file}: not a readable PNG (${(err as Error).message})`, { cause: err });
  }
  if (png.depth !== 8) throw new Error(`${file}: expected an 8-bit PNG, got ${png.depth}-bit`);
  const { width, height, channels } = png;
  const src = png.data as Uint8Array;
  const out = sharedBytes(width * height * 3);
  if (channels === 3) {
    out.set(src.subarray(0, out.length));
  } else if (channels === 4) {
    for (let i = 0, j = 0; i < out.length; i += 3, j += 4) {
      out[i] = src[j]!;
      out[i + 1] = src[j + 1]!;
      out[i + 2] = src[j + 2]!;
    }
  } else if (channels === 1 || channels === 2) {
    for (let p = 0; p < width * height; p++)
      out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = src[p * channels]!;
  } else {
    throw new Error(`${file}: unsupported PNG with ${channels} channels`);
  }
  return { width, height, data: out };
}

export function encodeRgbPng(img: RgbImage): Uint8Array {
  return encode({ width: img.width, height: img.height, data: img.data, channels: 3, depth: 8 });
}

export function decodeDepthPng(bytes: Uint8Array, depthScale: number, file: string): DepthImage {
  let png;
  try {
    png = decode(bytes);
  } catch (err) {
    throw new Error(`${file}: not a readable PNG (${(err as Error).message})`, { cause: err });
  }
  if (png.depth !== 16 || png.channels !== 1) {
    throw new Error(
      `${file}: expected a 16-bit single-channel depth PNG, got ${png.depth}-bit with ${png.channels} channels`,
    );
  }
  const src = png.data as Uint16Array;
  const data = sharedFloats(png.width * png.height);
  const inv = 1 / depthScale;
  for (let i = 0; i < data.length; i++) data[i] = src[i]! * inv;
  return { width: png.width, height: png.height, data };
}

/** Depth in mm -> 16-bit PNG; unknown (0, NaN, negative) and out-of-range values are written as 0. */
export function encodeDepthPng(depth: DepthImage, depthScale: number): Uint8Array {
  const data = new Uint16Array(depth.width * depth.height);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(depth.data[i]! * depthScale);
    data[i] = v > 0 && v <= 65535 ? v : 0;
  }
  return encode({ width: depth.width, height: depth.height, data, channels: 1, depth: 16 });
}

export async function readRgbPng(file: string): Promise<RgbImage> {
  return decodeRgbPng(await readInputFile(file), file);
}

export async function readDepthPng(file: string, depthScale: number): Promise<DepthImage> {
  return decodeDepthPng(await readInputFile(file), depthScale, file);
}

export async function writeRgbPng(file: string, img: RgbImage): Promise<void> {
  await writeFile(file, encodeRgbPng(img));
}

export async function writeDepthPng(file: string, depth: DepthImage, depthScale: number): Promise<void> {
  await writeFile(file, encodeDepthPng(depth, depthScale));
}
