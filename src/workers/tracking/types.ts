/**
 * The tracking stage's public types. Units: millimetres and seconds; poses are camera-to-world 4x4
 * (row-major), world = the camera frame of the first keyframe (normally frame 0).
 */
import type { TrackingState } from '../../engine/pipeline/events.js';
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import type { Mat4 } from '../../shared/math/mat4.js';
import type { Seconds } from '../../shared/units.js';

export type { TrackingState };

export interface TrackerOptions {
  intrinsics: PinholeIntrinsics;
  /** Pyramid levels (default 4 for ~384x288; each level halves the resolution). */
  levels?: number;
  /** Keyframe points kept at the finest level (default 12000). */
  maxPoints?: number;
  /** Finest pyramid level aligned (default 0; 1 trades accuracy for ~3x speed). */
  finestLevel?: number;
  /** Estimate the affine brightness change (gain, bias) per frame pair (default true). */
  estimateAffine?: boolean;
  /**
   * Weight of the geometric (depth) residual when a frame comes with depth (default 1; 0 = purely
   * photometric). With ground-truth or good network depth it removes the bias motion blur and the
   * moving light put into the photometric optimum.
   */
  depthWeight?: number;
  /** Any channel at or above this is a specular highlight and ignored (default 250). */
  saturation?: number;
  /** Grey below this is the black border / outside the circular field of view (default 12). */
  dark?: number;
  keyframe?: Partial<KeyframePolicy>;
  lost?: Partial<LostPolicy>;
}

/** A new keyframe is taken (from a frame that has depth) when any criterion is exceeded. */
export interface KeyframePolicy {
  /** Share of the keyframe's points still landing on usable pixels of the frame. */
  minOverlap: number;
  /** Translation from the keyframe divided by the keyframe's median scene depth. */
  maxTranslationRatio: number;
  /** Rotation from the keyframe, radians. */
  maxRotation: number;
  /** RMS photometric error relative to the error of the first frame tracked against the keyframe. */
  maxErrorGrowth: number;
}

/** A frame is 'lost' when its alignment fails any of these. */
export interface LostPolicy {
  minValidPoints: number;
  /** Share of the keyframe's points that land on usable pixels. */
  minOverlap: number;
  /** Share of valid residuals inside the robust threshold. */
  minInlierRatio: number;
  /** RMS photometric residual, grey levels. */
  maxRms: number;
  /** Largest plausible motion between consecutive tracked frames, relative to scene depth / radians. */
  maxStepTranslationRatio: number;
  maxStepRotation: number;
  /** How many recent keyframes relocalisation tries. */
  relocaliseKeyframes: number;
}

export interface TrackInput {
  index: number;
  timestamp: Seconds;
  rgb: RgbImage;
  /** Depth of this frame (mm, 0 = unknown) from the depth stage or ground truth; null when none. */
  depth: DepthImage | null;
  /** Camera-to-world guess (e.g. from the depth network's pose head); replaces constant velocity. */
  poseHint?: Mat4 | null;
}

/** The method's per-frame measures (docs/tracking.md defines them). */
export interface TrackMeasures {
  /**
   * Mean reprojection error (px): keyframe points warped into this frame with the estimated pose,
   * back-projected with this frame's depth and reprojected into the keyframe; mean distance over the
   * points whose round trip stays within the consistency threshold. null without depth for this frame.
   */
  reprojectionErrorPx: number | null;
  /** Keyframe points whose 3D position this frame's depth confirms (round trip within threshold). */
  triangulatedPoints: number;
  /** Keyframe points that landed on usable pixels of this frame (finest level). */
  validPixels: number;
  /** Keyframe points at the finest level. */
  keyframePoints: number;
  iterations: number;
  /** RMS photometric residual after alignment, grey levels (0..255). */
  finalError: number;
  inlierRatio: number;
  /** Affine brightness on normalised grey: I_frame ≈ gain * (I_keyframe - 128) + 128 + bias. */
  gain: number;
  bias: number;
  /** Time spent tracking this frame (ms, inside the worker). */
  ms: number;
}

export interface TrackResult {
  index: number;
  timestamp: Seconds;
  /** Camera-to-world (mm); null while lost or before the first keyframe. */
  pose: Mat4 | null;
  state: TrackingState;
  /** True when this frame became a keyframe. */
  isKeyframe: boolean;
  /**
   * The frame should become a keyframe but came without depth (the keyframe schedule runs the depth
   * network only on such frames): give its depth to `addKeyframe` before the next frame.
   */
  needsKeyframe: boolean;
  /** Frame index of the keyframe this frame was aligned against (null when none). */
  keyframeIndex: number | null;
  /** Why the frame is lost / not initialised; empty otherwise. */
  reason: string;
  measures: TrackMeasures;
}

/** Depth for the frame the last `track` call asked to become a keyframe. */
export interface KeyframeInput {
  index: number;
  depth: DepthImage;
}

export interface KeyframeResult {
  /** False when the depth left too few usable points: tracking goes on against the previous keyframe. */
  isKeyframe: boolean;
  /** Camera-to-world of the frame: identity for the first keyframe, else its tracked pose. */
  pose: Mat4 | null;
  state: TrackingState;
  keyframeIndex: number | null;
  reason: string;
  keyframePoints: number;
}
