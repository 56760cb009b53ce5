/**
 * Typed view of the native semi-global matcher (native/src/stereo, `addon.stereo`) and the depth it gives
 * on a rectified pair. Disparity d means x_right = x_left - d (the left view is the reference, as for the
 * rest of the pipeline); depth = fx * baseline / (d - disparityOffset) in mm, 0 = unknown.
 */
import type { PinholeIntrinsics } from '../../shared/camera.js';
import { type DepthImage, type RgbImage, assertRgbImage } from '../../shared/frames.js';
import { loadNativeAddon } from '../native-addon.js';

export interface SgmOptions {
  /** Smallest disparity searched (px, default 0). */
  minDisparity?: number;
  /** Disparities searched, a multiple of 8 (default 64). */
  numDisparities?: number;
  /** Penalty for a 1 px disparity step along a path, in census bits (default 10). */
  p1?: number;
  /** Penalty for a larger jump (default 120), lowered across intensity edges by p2Gradient. */
  p2?: number;
  /** Grey-level scale of the P2 reduction: P2' = P1 + (P2 - P1) g / (g + |dI|); 0 = constant P2 (default 24). */
  p2Gradient?: number;
  /**
   * Aggregation paths (default 8): 4 (horizontal + vertical), 5 (horizontal + the three from above, in
   * one sweep without a stored cost volume: fastest) or 8 (all).
   */
  paths?: 4 | 5 | 8;
  /** Percent by which the best cost must beat any non-adjacent disparity (default 5). */
  uniqueness?: number;
  /** Left-right check tolerance in px; -1 disables (default 1). */
  lrMaxDiff?: number;
  /** Connected regions smaller than this many pixels are removed as speckles; 0 disables (default 100). */
  speckleWindow?: number;
  /** Largest disparity step inside one region (px, default 1). */
  speckleRange?: number;
  /**
   * Census costs summed over a (2r+1)^2 box before aggregation, r in 0..3 (default 0: none); larger
   * support for the fast one-sweep mode, so it needs paths 5.
   */
  costBox?: number;
}

export interface SgmResult {
  /** px, 0 = invalid. */
  disparity: Float32Array;
  /** [0, 1], relative margin of the best aggregated cost over the best non-adjacent one; 0 = invalid. */
  confidence: Float32Array;
  /** mm, 0 = unknown; present when fx and baseline were given. */
  depth?: Float32Array;
  valid: number;
  rejectedUniqueness: number;
  rejectedLr: number;
  rejectedSpeckle: number;
  rejectedRange: number;
  /** Row bands matched in parallel on the native thread pool. */
  bands: number;
  /** The AVX2 build of the row kernels ran (else SSE2 / scalar). */
  avx2: boolean;
}

interface NativeMatcher {
  compute(input: {
    left: Uint8Array;
    right: Uint8Array;
    fx?: number;
    baseline?: number;
    disparityOffset?: number;
    minDepth?: number;
    maxDepth?: number;
  }): SgmResult;
}

interface StereoAddon {
  stereo: {
    Matcher: new (opts: SgmOptions & { width: number; height: number }) => NativeMatcher;
    remapRgb(
      src: Uint8Array,
      width: number,
      height: number,
      mapX: Float32Array,
      mapY: Float32Array,
      outWidth: number,
      outHeight: number,
    ): Uint8Array;
    threads(): number;
    censusBits: number;
  };
}

/** Bilinear resampling of an RGB image through per-pixel source coordinates (native, on the thread pool). */
export function nativeRemapRgb(
  img: RgbImage,
  mapX: Float32Array,
  mapY: Float32Array,
  width: number,
  height: number,
): RgbImage {
  assertRgbImage(img, 'remap source');
  const data = loadNativeAddon<StereoAddon>().stereo.remapRgb(
    img.data,
    img.width,
    img.height,
    mapX,
    mapY,
    width,
    height,
  );
  return { width, height, data };
}

/** Threads of the native pool the matcher runs on (the thread budget's; NAVWS_NATIVE_THREADS overrides). */
export function stereoThreads(): number {
  return loadNativeAddon<StereoAddon>().stereo.threads();
}

/** A rectified pair's geometry: depth = fx * baselineMm / (disparity - disparityOffset). */
export interface RectifiedGeometry {
  /** Left (reference) camera of the rectified pair at the matching size. */
  intrinsics: PinholeIntrinsics;
  baselineMm: number;
  /** cx_left - cx_right of the rectified pair (px); 0 when both share the principal point. */
  disparityOffset: number;
}

export interface StereoDepth {
  depth: DepthImage;
  confidence: Float32Array;
  disparity: Float32Array;
  stats: Omit<SgmResult, 'disparity' | 'confidence' | 'depth'>;
}

/** One matcher per image size; it keeps its cost volumes between frames. */
export class SgmMatcher {
  private readonly native: NativeMatcher;
  constructor(
    readonly width: number,
    readonly height: number,
    readonly options: SgmOptions = {},
  ) {
    this.native = new (loadNativeAddon<StereoAddon>().stereo.Matcher)({ width, height, ...options });
  }

  /** Raw disparity and confidence of a rectified pair (grey or RGB bytes of this matcher's size). */
  match(left: Uint8Array, right: Uint8Array): SgmResult {
    return this.native.compute({ left, right });
  }

  /** Depth (mm, 0 = unknown) of a rectified RGB pair at its own size. */
  depth(
    left: RgbImage,
    right: RgbImage,
    geometry: RectifiedGeometry,
    range: { minDepth?: number; maxDepth?: number } = {},
  ): StereoDepth {
    assertRgbImage(left, 'stereo left view');
    assertRgbImage(right, 'stereo right view');
    if (left.width !== right.width || left.height !== right.height) {
      throw new RangeError(
        `stereo pair: left view is ${left.width}x${left.height} but right view is ${right.width}x${right.height}`,
      );
    }
    if (left.width !== this.width || left.height !== this.height) {
      throw new RangeError(
        `stereo pair: views are ${left.width}x${left.height} but the matcher was made for ${this.width}x${this.height}`,
      );
    }
    const k = geometry.intrinsics;
    if (k.width !== left.width || k.height !== left.height) {
      throw new RangeError(
        `stereo pair: views are ${left.width}x${left.height} but the stereo calibration is for ${k.width}x${k.height}`,
      );
    }
    const r = this.native.compute({
      left: left.data,
      right: right.data,
      fx: k.fx,
      baseline: geometry.baselineMm,
      disparityOffset: geometry.disparityOffset,
      ...range,
    });
    const { disparity, confidence, depth, ...stats } = r;
    if (!depth) throw new Error('stereo: the native matcher returned no depth');
    return { depth: { width: this.width, height: this.height, data: depth }, confidence, disparity, stats };
  }
}
