/**
 * Resampling between the camera's frame size and the network's input size, written straight into the
 * tensors' buffers (no intermediate images beyond one reusable scratch row buffer).
 *
 * Pixel centres are at integer coordinates (docs/conventions.md): output pixel x covers source
 * [x * s - 0.5, (x + 1) * s - 0.5] with s = srcSize / dstSize.
 */
import type { RgbImage } from '../../shared/frames.js';

/** Per-output-pixel source taps and weights along one axis. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

/**
 * Area (box) weights when shrinking, so every source pixel contributes (as cv2.INTER_AREA, which the
 * training data used); linear interpolation when enlarging.
 */
function axisTaps(src: number, dst: number): Taps {
  const s = src / dst;
  const stride = Math.max(2, Math.ceil(s) + 2);
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights = new Float32Array(dst * stride);
  for (let x = 0; x < dst; x++) {
    if (s > 1) {
      const lo = x * s;
      const hi = (x + 1) * s;
      const i0 = Math.floor(lo);
      const i1 = Math.min(src, Math.ceil(hi));
      start[x] = i0;
      count[x] = i1 - i0;
      for (let i = i0; i < i1; i++) {
        weights[x * stride + (i - i0)] = (Math.min(hi, i + 1) - Math.max(lo, i)) / s;
      }
    } else {
      const c = Math.min(src - 1, Math.max(0, (x + 0.5) * s - 0.5));
      const i0 = Math.min(src - 2, Math.floor(c));
      if (src === 1) {
        start[x] = 0;
        count[x] = 1;
        weights[x * stride] = 1;
        continue;
      }
      const f = c - i0;
      start[x] = i0;
      count[x] = 2;
      weights[x * stride] = 1 - f;
      weights[x * stride + 1] = f;
    }
  }
  return { start, count, weights, stride };
}

/** Resamples 8-bit RGB frames into planar float tensors (C, H, W) of a fixed size, value / 255. */
export class RgbToPlanar {
  private tapsFor: { w: number; h: number; x: Taps; y: Taps } | null = null;
  private scratch = new Float32Array(0);

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  /** Writes the 3 planes of `img` resized to width x height into dst starting at element `offset`. */
  write(img: RgbImage, dst: Float32Array, offset: number): void {
    const { width: dw, height: dh } = this;
    if (dst.length < offset + 3 * dw * dh) throw new RangeError('RgbToPlanar: destination too small');
    if (!this.tapsFor || this.tapsFor.w !== img.width || this.tapsFor.h !== img.height) {
      this.tapsFor = { w: img.width, h: img.height, x: axisTaps(img.width, dw), y: axisTaps(img.height, dh) };
      this.scratch = new Float32Array(img.height * dw * 3);
    }
    const { x: tx, y: ty } = this.tapsFor;
    const src = img.data;
    const sw = img.width;
    const rows = this.scratch;
    // Horizontal pass: every source row to dw RGB samples (interleaved).
    for (let y = 0; y < img.height; y++) {
      const rowIn = y * sw * 3;
      const rowOut = y * dw * 3;
      for (let x = 0; x < dw; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        const s0 = tx.start[x]!;
        const n = tx.count[x]!;
        const wo = x * tx.stride;
        for (let k = 0; k < n; k++) {
          const w = tx.weights[wo + k]!;
          const p = rowIn + (s0 + k) * 3;
          r += w * src[p]!;
          g += w * src[p + 1]!;
          b += w * src[p + 2]!;
        }
        rows[rowOut + x * 3] = r;
        rows[rowOut + x * 3 + 1] = g;
        rows[rowOut + x * 3 + 2] = b;
      }
    }
    // Vertical pass straight into the planes, with the 1/255 scaling folded in.
    const plane = dw * dh;
    for (let y = 0; y < dh; y++) {
      const s0 = ty.start[y]!;
      const n = ty.count[y]!;
      const wo = y * ty.stride;
      for (let x = 0; x < dw; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0; k < n; k++) {
          const w = ty.weights[wo + k]!;
          const p = ((s0 + k) * dw + x) * 3;
          r += w * rows[p]!;
          g += w * rows[p + 1]!;
          b += w * rows[p + 2]!;
        }
        const o = offset + y * dw + x;
        dst[o] = r / 255;
        dst[o + plane] = g / 255;
        dst[o + 2 * plane] = b / 255;
      }
    }
  }
}

/** Bilinear resize of a single-channel float map (network depth) to the frame size, into `out`. */
export function resizeBilinear(
  src: Float32Array,
  sw: number,
  sh: number,
  out: Float32Array,
  dw: number,
  dh: number,
): void {
  if (src.length < sw * sh || out.length < dw * dh) throw new RangeError('resizeBilinear: buffer too small');
  const sx = sw / dw;
  const sy = sh / dh;
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(sh - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(sw - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const wx = fx - x0;
      const top = src[y0 * sw + x0]! * (1 - wx) + src[y0 * sw + x1]! * wx;
      const bottom = src[y1 * sw + x0]! * (1 - wx) + src[y1 * sw + x1]! * wx;
      out[y * dw + x] = top * (1 - wy) + bottom * wy;
    }
  }
}

/** 8-bit level below which every channel counts as the scope's black border (training's BORDER_LEVEL). */
export const BLACK_BORDER_LEVEL = Math.round(0.04 * 255);

/** Sets depth to 0 (unknown) where the frame shows the black border outside the scope's field of view. */
export function maskBlackBorder(depth: Float32Array, rgb: RgbImage): void {
  const d = rgb.data;
  for (let i = 0, p = 0; i < depth.length; i++, p += 3) {
    if (d[p]! < BLACK_BORDER_LEVEL && d[p + 1]! < BLACK_BORDER_LEVEL && d[p + 2]! < BLACK_BORDER_LEVEL)
      depth[i] = 0;
  }
}
