/**
 * Trajectory error metrics (Sturm et al. 2012, the TUM RGB-D benchmark):
 *
 * - ATE: the estimated camera positions are aligned to the true ones by the least-squares similarity
 *   (Sim(3), Umeyama; removes a monocular method's unknown scale) or rigid transform (SE(3)), then
 *   ATE RMSE = sqrt(mean |p*_i - (s R p_i + t)|^2), in mm.
 * - RPE over a frame delta D: E_i = (Q_i^-1 Q_{i+D})^-1 (P_i^-1 P_{i+D}) for true poses Q and estimated
 *   poses P; translation error |trans(E_i)| (mm) and rotation error angle(E_i) (degrees), as RMSE and
 *   mean over all i. RPE does not depend on the choice of world frame; with `scale` the estimated
 *   translations are multiplied by that factor first (e.g. the Sim(3) scale).
 */
import type { StampedPose } from '../engine/dataset/trajectory.js';
import { type Mat4, type Vec3, invertRigid, multiply4, translationOf } from '../shared/math/mat4.js';
import { rotationAngle, translationLength } from '../shared/math/se3.js';
import { umeyamaAlign } from '../shared/math/umeyama.js';

export interface AteResult {
  rmse: number;
  mean: number;
  median: number;
  max: number;
  /** Similarity scale of the alignment (1 for SE(3)). */
  scale: number;
  /** The alignment, estimated world -> true world (scale folded into the rotation block for Sim(3)). */
  alignment: Mat4;
}

export interface RpeResult {
  delta: number;
  pairs: number;
  translationRmse: number;
  translationMean: number;
  rotationRmseDeg: number;
  rotationMeanDeg: number;
}

export interface PosePair {
  estimated: Mat4;
  truth: Mat4;
  /** Index of the true pose in the ground-truth list (= the dataset frame index). */
  index: number;
}

/**
 * Pairs each estimated pose with the true pose of the nearest timestamp within `tolerance` seconds
 * (each true pose used at most once, in order). Estimated poses without a partner are skipped.
 */
export function associatePoses(
  estimated: readonly StampedPose[],
  truth: readonly StampedPose[],
  tolerance: number,
): PosePair[] {
  const out: PosePair[] = [];
  let j = 0;
  for (const e of estimated) {
    while (
      j + 1 < truth.length &&
      Math.abs(truth[j + 1]!.timestamp - e.timestamp) <= Math.abs(truth[j]!.timestamp - e.timestamp)
    )
      j++;
    const t = truth[j];
    if (t && Math.abs(t.timestamp - e.timestamp) <= tolerance) {
      out.push({ estimated: e.pose, truth: t.pose, index: j });
      j++;
    }
  }
  return out;
}

function stats(errors: Float64Array): { rmse: number; mean: number; median: number; max: number } {
  const n = errors.length;
  let sq = 0;
  let sum = 0;
  let max = 0;
  for (const e of errors) {
    sq += e * e;
    sum += e;
    max = Math.max(max, e);
  }
  const sorted = Float64Array.from(errors).sort();
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { rmse: Math.sqrt(sq / n), mean: sum / n, median, max };
}

/** Absolute trajectory error after SE(3) (`withScale` false) or Sim(3) (`withScale` true) alignment. */
export function absoluteTrajectoryError(pairs: readonly PosePair[], withScale: boolean): AteResult {
  if (pairs.length < 3) throw new RangeError(`ATE needs at least 3 associated poses, got ${pairs.length}`);
  const est: Vec3[] = pairs.map((p) => translationOf(p.estimated));
  const gt: Vec3[] = pairs.map((p) => translationOf(p.truth));
  let a;
  try {
    a = umeyamaAlign(est, gt, withScale);
  } catch {
    // All estimated positions identical (a tracker that never moved): no scale to solve for; align
    // the centroids only, which is the best any rigid or similar transform can do with one point.
    a = umeyamaAlign(est, gt, false);
  }
  const m = a.matrix;
  const errors = new Float64Array(pairs.length);
  pairs.forEach((_, i) => {
    const p = est[i]!;
    const q = gt[i]!;
    const x = m[0]! * p[0] + m[1]! * p[1] + m[2]! * p[2] + m[3]! - q[0];
    const y = m[4]! * p[0] + m[5]! * p[1] + m[6]! * p[2] + m[7]! - q[1];
    const z = m[8]! * p[0] + m[9]! * p[1] + m[10]! * p[2] + m[11]! - q[2];
    errors[i] = Math.hypot(x, y, z);
  });
  return { ...stats(errors), scale: a.scale, alignment: m };
}

/** Relative pose error over `delta` consecutive associated poses. */
export function relativePoseError(pairs: readonly PosePair[], delta = 1, scale = 1): RpeResult {
  if (!Number.isInteger(delta) || delta < 1)
    throw new RangeError(`RPE delta must be a positive integer, got ${delta}`);
  const n = pairs.length - delta;
  if (n < 1)
    throw new RangeError(`RPE over ${delta} frames needs more than ${delta} poses, got ${pairs.length}`);
  const te = new Float64Array(n);
  const re = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = pairs[i]!;
    const b = pairs[i + delta]!;
    const q = multiply4(invertRigid(a.truth), b.truth);
    const p = multiply4(invertRigid(a.estimated), b.estimated);
    p[3] = p[3]! * scale;
    p[7] = p[7]! * scale;
    p[11] = p[11]! * scale;
    const e = multiply4(invertRigid(q), p);
    te[i] = translationLength(e);
    re[i] = (rotationAngle(e) * 180) / Math.PI;
  }
  const t = stats(te);
  const r = stats(re);
  return {
    delta,
    pairs: n,
    translationRmse: t.rmse,
    translationMean: t.mean,
    rotationRmseDeg: r.rmse,
    rotationMeanDeg: r.mean,
  };
}
