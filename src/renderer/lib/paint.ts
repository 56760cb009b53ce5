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
  const samples: number[] = [];
  const step = 7;
  for (let i = 0; i < depth.data.length; i += step) {
    const d = depth.data[i]!;
    if (d > 0 && Number.isFinite(d)) samples.push(d);
  }
  if (samples.length < 8) return null;
  samples.sort((a, b) => a - b);
  const near = samples[Math.floor(samples.length * 0.02)]!;
  const far = samples[Math.floor(samples.length * 0.98)]!;
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

/**
 * Video with the depth overlay blended in, into one ImageData: one texture upload per frame instead of
 * two stacked canvases. Returns the fraction of pixels with known depth.
 */
export function composeFrame(
  rgb: RgbImage,
  depth: DepthImage | null,
  range: DepthRange | null,
  alpha: number,
  target: PixelTarget,
): number {
  const src = rgb.data;
  const dst = target.data;
  const n = rgb.width * rgb.height;
  const d = depth && range && depth.width === rgb.width && depth.height === rgb.height ? depth.data : null;
  const scale = range ? 255 / Math.max(1e-6, range.farMm - range.nearMm) : 0;
  const a = d ? Math.min(1, Math.max(0, alpha)) : 0;
  const keep = 1 - a;
  let known = 0;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const k = i * 4;
    const z = d ? d[i]! : 0;
    if (z > 0) {
      known++;
      if (a > 0) {
        const t = Math.min(255, Math.max(0, Math.round((range!.farMm - z) * scale))) * 3;
        dst[k] = src[j]! * keep + TURBO_LUT[t]! * a;
        dst[k + 1] = src[j + 1]! * keep + TURBO_LUT[t + 1]! * a;
        dst[k + 2] = src[j + 2]! * keep + TURBO_LUT[t + 2]! * a;
        dst[k + 3] = 255;
        continue;
      }
    }
    dst[k] = src[j]!;
    dst[k + 1] = src[j + 1]!;
    dst[k + 2] = src[j + 2]!;
    dst[k + 3] = 255;
  }
  return d ? known / n : 0;
}
