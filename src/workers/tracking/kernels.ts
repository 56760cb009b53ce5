/**
 * Typed view of the native tracking kernels (native/src/tracking, `addon.tracking`). Intensities are
 * grey levels 0..255, depth millimetres along the optical axis, poses row-major 4x4.
 */
import { loadNativeAddon } from '../native-addon.js';

export interface FrameOptions {
  rgb: Uint8Array;
  width: number;
  height: number;
  /** mm, 0 or non-finite = unknown; without it the frame can be tracked but cannot be a keyframe. */
  depth?: Float32Array | null;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  /** Pyramid levels (default 4; fewer when the image is too small). */
  levels?: number;
  /** Any channel >= this is a specular highlight (default 250). */
  saturation?: number;
  /** Grey below this is the black border / outside the circular field of view (default 12). */
  dark?: number;
  darkMargin?: number;
  specularMargin?: number;
  /** Gradient (grey levels per pixel) a keyframe point needs (default 3). */
  minGradient?: number;
  /** Keyframe points at the finest level (default 12000; halved per level). */
  maxPoints?: number;
}

export interface FrameInfo {
  width: number;
  height: number;
  levels: number;
  hasDepth: boolean;
  /** Keyframe points per pyramid level (0 = finest). */
  points: number[];
  /** Median depth (mm) of the finest level's keyframe points; 0 when none. */
  medianDepth: number;
  usableFraction: number;
  /** Share of finest-level pixels that are usable and textured; ~0 for uniform/black frames. */
  texturedFraction: number;
}

/** A frame preprocessed for tracking: grey pyramid, gradients, mask, and keyframe points if it has depth. */
export interface NativeFrame {
  info(): FrameInfo;
}

export interface AlignOptions {
  maxIterationsCoarse?: number;
  maxIterationsFine?: number;
  finestLevel?: number;
  estimateAffine?: boolean;
  huberK?: number;
  truncation?: number;
  minSigma?: number;
  minPoints?: number;
  /** Initial affine brightness: I_frame ≈ gain * (I_keyframe - 128) + 128 + bias (normalised grey). */
  gain?: number;
  bias?: number;
  /**
   * Weight of the geometric term (frame depth minus warped point depth) when the tracked frame has
   * depth; residuals are normalised by their robust scales first. 0 = photometric only. Default 1.
   */
  depthWeight?: number;
  /** Floor of the depth residual scale (mm). Default 0.05. */
  minSigmaDepth?: number;
}

export interface AlignOutput {
  /** T_frame_keyframe: maps keyframe-camera points (mm) into the tracked frame's camera. */
  pose: Float64Array;
  ok: boolean;
  reason: string;
  gain: number;
  bias: number;
  iterations: number;
  levelIterations: number[];
  /** RMS photometric residual at the finest level (grey levels). */
  rms: number;
  sigma: number;
  cost: number;
  validPoints: number;
  totalPoints: number;
  inlierRatio: number;
  /** Points with a geometric residual at the finest level, and its RMS (mm). */
  depthPoints: number;
  depthRms: number;
  /** Estimated c in the geometric residual c * D_frame - z: the frame depth's scale relative to the keyframe's. */
  depthScale: number;
  checkedPoints: number;
  consistentPoints: number;
  reprojectionError: number;
}

export interface TrackingKernels {
  Frame: new (options: FrameOptions) => NativeFrame;
  align(
    keyframe: NativeFrame,
    frame: NativeFrame,
    poseInit: Float64Array,
    options?: AlignOptions,
  ): AlignOutput;
  /** Round-trip distance (px) under which a keyframe point counts as consistent with the frame's depth. */
  consistencyPx: number;
  /** Threads of the native pool (the calling thread included). */
  threads(): number;
}

export function loadTrackingKernels(): TrackingKernels {
  const addon = loadNativeAddon<{ tracking?: TrackingKernels }>();
  if (!addon.tracking)
    throw new Error('native addon was built without the tracking module; rebuild it (npm run native:build)');
  return addon.tracking;
}
