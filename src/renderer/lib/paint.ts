/** Pixel conversion of binary frames into canvas ImageData (no base64, no intermediate images). */
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import { TURBO_LUT } from './turbo.js';

/** RGBA pixels to fill (an ImageData). */
export interface PixelTarget {
  data: Uint8ClampedArray;
}

export interface DepthRange {
  nearMm: number;
  farMm: number;
}

/** 2nd and 98th percentile of known depth on a sparse grid: robust to speckle, cheap per frame. */
export function robustDepthRange(depth: DepthImage): DepthRange | null {
  const step = 7;
  // A typed array sorts numerically in native code: a few times faster than number[] with a comparator.
  const samples = new Float32Array(Math.ceil(depth.data.length / step));
  let count = 0;
  for (let i = 0; i < depth.data.length; i += step) {
    const d = depth.data[i]!;
    if (d > 0 && Number.isFinite(d)) samples[count++] = d;
  }
  if (count < 8) return null;
  const known = samples.subarray(0, count).sort();
  const near = known[Math.floor(count * 0.02)]!;
  const far = known[Math.floor(count * 0.98)]!;
  return far > near ? { nearMm: near, farMm: far } : { nearMm: near, farMm: near + 1 };
}

/**
 * Smooths the colour range between frames so the legend and colours do not flicker; it follows a
 * changed scene within about half a second at 30 fps.
 */
export function smoothRange(prev: DepthRange | null, next: DepthRange, alpha = 0.15): DepthRange {
  if (!prev) return next;
  return {
    nearMm: prev.nearMm + alpha * (next.nearMm - prev.nearMm),
    farMm: prev.farMm + alpha * (next.farMm - prev.farMm),
  };
}

const OPAQUE = 0xff000000;

/**
 * Video with the depth overlay blended in, into one ImageData: one texture upload per frame instead of
 * two stacked canvases. Returns the fraction of pixels with known depth. It runs on the UI thread for
 * every frame, so it writes whole pixels (one 32-bit store, RGBA in little-endian byte order) and takes
 * the blend from tables built once per frame rather than per pixel.
 */
export function composeFrame(
  rgb: RgbImage,
  depth: DepthImage | null,
  range: DepthRange | null,
  alpha: number,
  target: PixelTarget,
): number {
  const src = rgb.data;
  const n = rgb.width * rgb.height;
  const dst = new Uint32Array(target.data.buffer, target.data.byteOffset, n);
  const d = depth && range && depth.width === rgb.width && depth.height === rgb.height ? depth.data : null;
  const a = d ? Math.min(1, Math.max(0, alpha)) : 0;
  let known = 0;
  if (!d || a === 0) {
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      dst[i] = OPAQUE | (src[j + 2]! << 16) | (src[j + 1]! << 8) | src[j]!;
      if (d && d[i]! > 0) known++;
    }
    return d ? known / n : 0;
  }
  const far = range!.farMm;
  const scale = 255 / Math.max(1e-6, far - range!.nearMm);
  // video * (1 - a) + turbo * a, +0.5 so truncation rounds to nearest.
  const keep = new Float32Array(256);
  for (let v = 0; v < 256; v++) keep[v] = v * (1 - a);
  const tint = new Float32Array(256 * 3);
  for (let t = 0; t < 256 * 3; t++) tint[t] = TURBO_LUT[t]! * a + 0.5;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const z = d[i]!;
    const r = src[j]!;
    const g = src[j + 1]!;
    const b = src[j + 2]!;
    if (z > 0) {
      known++;
      const c = (z >= far ? 0 : Math.min(255, ((far - z) * scale + 0.5) | 0)) * 3;
      dst[i] =
        OPAQUE |
        (((keep[b]! + tint[c + 2]!) | 0) << 16) |
        (((keep[g]! + tint[c + 1]!) | 0) << 8) |
        ((keep[r]! + tint[c]!) | 0);
    } else {
      dst[i] = OPAQUE | (b << 16) | (g << 8) | r;
    }
  }
  return known / n;
}
