/**
 * Tracking metrics of the method (section 4.2.2): how well the estimated pose of a tracked frame
 * explains the keyframe's points.
 *
 * Definition. Take a keyframe K with depth D_K (the depth the tracker aligned against; in evaluation
 * the ground-truth depth of K), intrinsics k, and a tracked frame F. Every `stride`-th pixel p of K
 * with valid depth gives the point X_p = backproject(p, D_K(p)) in K's camera frame. It is projected
 * into F twice: with the estimated relative pose, u^_p = pi(T^_F^-1 T^_K X_p), and with the true one,
 * u*_p = pi(T*_F^-1 T*_K X_p). Points whose true projection falls outside F's image or behind its
 * camera (not observable in F) are not counted; neither are points occluded in F when F's true depth
 * is given (true depth of X_p in F more than `occlusionTolerance` mm behind D_F(u*_p)).
 *
 * - meanReprojectionError: mean over the counted points of |u^_p - u*_p| in pixels, where a point whose
 *   estimated projection is behind the camera counts as `maxError` (so a lost pose cannot look good).
 * - triangulatedPoints: counted points whose estimated projection lands inside the image within
 *   `threshold` pixels of the true one: points the estimated pose would place (triangulate) correctly.
 * - observablePoints: the number of counted points (the denominator).
 */
import type { PinholeIntrinsics } from '../shared/camera.js';
import type { DepthImage } from '../shared/frames.js';
import { type Mat4, invertRigid, multiply4 } from '../shared/math/mat4.js';

export interface TrackingEvalOptions {
  /** Pixel step of the keyframe point grid. Default 4. */
  stride?: number;
  /** Reprojection threshold of a successfully triangulated point (px). Default 2. */
  threshold?: number;
  /** Error charged to a point the estimated pose puts behind the camera (px). Default 100. */
  maxError?: number;
  /** Depth tolerance of the occlusion test (mm). Default 1. */
  occlusionTolerance?: number;
}

export interface TrackingMetrics {
  meanReprojectionError: number;
  medianReprojectionError: number;
  triangulatedPoints: number;
  observablePoints: number;
}

export function computeTrackingMetrics(
  k: PinholeIntrinsics,
  keyframeDepth: DepthImage,
  keyframe: { estimated: Mat4; truth: Mat4 },
  frame: { estimated: Mat4; truth: Mat4 },
  frameTrueDepth: DepthImage | null = null,
  options: TrackingEvalOptions = {},
): TrackingMetrics {
  const stride = options.stride ?? 4;
  const threshold = options.threshold ?? 2;
  const maxError = options.maxError ?? 100;
  const occlusionTolerance = options.occlusionTolerance ?? 1;
  if (keyframeDepth.width !== k.width || keyframeDepth.height !== k.height) {
    throw new RangeError(
      `tracking metrics: keyframe depth is ${keyframeDepth.width}x${keyframeDepth.height}, camera ${k.width}x${k.height}`,
    );
  }
  const est = multiply4(invertRigid(frame.estimated), keyframe.estimated);
  const tru = multiply4(invertRigid(frame.truth), keyframe.truth);
  const errors: number[] = [];
  let triangulated = 0;
  for (let v = 0; v < k.height; v += stride) {
    for (let u = 0; u < k.width; u += stride) {
      const z = keyframeDepth.data[v * k.width + u]!;
      if (!(Number.isFinite(z) && z > 0)) continue;
      const x = ((u - k.cx) * z) / k.fx;
      const y = ((v - k.cy) * z) / k.fy;
      const tz = tru[8]! * x + tru[9]! * y + tru[10]! * z + tru[11]!;
      if (!(tz > 0)) continue;
      const tu = (k.fx * (tru[0]! * x + tru[1]! * y + tru[2]! * z + tru[3]!)) / tz + k.cx;
      const tv = (k.fy * (tru[4]! * x + tru[5]! * y + tru[6]! * z + tru[7]!)) / tz + k.cy;
      if (!(tu >= -0.5 && tu < k.width - 0.5 && tv >= -0.5 && tv < k.height - 0.5)) continue;
      if (frameTrueDepth) {
        const dz = frameTrueDepth.data[Math.round(tv) * k.width + Math.round(tu)]!;
        if (dz > 0 && tz - dz > occlusionTolerance) continue;
      }
      const ez = est[8]! * x + est[9]! * y + est[10]! * z + est[11]!;
      if (!(ez > 0)) {
        errors.push(maxError);
        continue;
      }
      const eu = (k.fx * (est[0]! * x + est[1]! * y + est[2]! * z + est[3]!)) / ez + k.cx;
      const ev = (k.fy * (est[4]! * x + est[5]! * y + est[6]! * z + est[7]!)) / ez + k.cy;
      const e = Math.min(maxError, Math.hypot(eu - tu, ev - tv));
      errors.push(e);
      if (e <= threshold && eu >= -0.5 && eu < k.width - 0.5 && ev >= -0.5 && ev < k.height - 0.5)
        triangulated++;
    }
  }
  if (errors.length === 0) {
    return {
      meanReprojectionError: NaN,
      medianReprojectionError: NaN,
      triangulatedPoints: 0,
      observablePoints: 0,
    };
  }
  const sorted = Float64Array.from(errors).sort();
  const n = sorted.length;
  return {
    meanReprojectionError: errors.reduce((s, e) => s + e, 0) / n,
    medianReprojectionError: n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2,
    triangulatedPoints: triangulated,
    observablePoints: n,
  };
}
