/** Pixel conversion of binary frames into canvas ImageData (no base64, no intermediate images). */
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import { TURBO_LUT } from './turbo.js';

export interface DepthRange {
  nearMm: number;
  farMm: number;
}

export function rgbToImageData(rgb: RgbImage, target: ImageData): void {
  const src = rgb.data;
  const dst = target.data;
  const n = rgb.width * rgb.height;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const k = i * 4;
    dst[k] = src[j]!;
    dst[k + 1] = src[j + 1]!;
    dst[k + 2] = src[j + 2]!;
    dst[k + 3] = 255;
  }
}

/** Known depth coloured with Turbo, near = red, far = blue; unknown depth stays transparent. */
export function depthToImageData(depth: DepthImage, range: DepthRange, target: ImageData): void {
  const src = depth.data;
  const dst = target.data;
  const scale = 255 / Math.max(1e-6, range.farMm - range.nearMm);
  const n = depth.width * depth.height;
  for (let i = 0; i < n; i++) {
    const d = src[i]!;
    const k = i * 4;
    if (!(d > 0)) {
      dst[k + 3] = 0;
      continue;
    }
    const t = Math.min(255, Math.max(0, Math.round((range.farMm - d) * scale))) * 3;
    dst[k] = TURBO_LUT[t]!;
    dst[k + 1] = TURBO_LUT[t + 1]!;
    dst[k + 2] = TURBO_LUT[t + 2]!;
    dst[k + 3] = 255;
  }
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
