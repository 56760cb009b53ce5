/**
 * Depth error metrics of the monocular-depth literature (Eigen et al. 2014; Monodepth2's evaluation):
 *
 *   AbsRel  = mean |d - d*| / d*          SqRel = mean (d - d*)^2 / d*
 *   RMSE    = sqrt(mean (d - d*)^2)       logRMSE = sqrt(mean (ln d - ln d*)^2)
 *   delta_k = fraction of pixels with max(d / d*, d* / d) < 1.25^k, k = 1, 2, 3
 *
 * d is the prediction, d* the ground truth (mm). A pixel counts when d* is valid (finite, > minDepth,
 * <= maxDepth, inside the optional mask) and the prediction is valid (finite, > 0); predictions are
 * clamped to [minDepth, maxDepth] as in Monodepth2. Median scaling multiplies the prediction by
 * median(d*) / median(d) over the counted pixels first, which removes the unknown scale of a monocular
 * method. Metrics of a sequence are the means of the per-frame metrics (the field's convention).
 */
import type { DepthImage } from '../shared/frames.js';

export interface DepthMetrics {
  absRel: number;
  sqRel: number;
  /** mm */
  rmse: number;
  logRmse: number;
  delta1: number;
  delta2: number;
  delta3: number;
  /** Pixels counted. */
  count: number;
  /** Counted pixels / pixels with valid ground truth (how much of the truth the prediction covers). */
  coverage: number;
  /** Factor applied to the prediction (1 unless median-scaled). */
  scale: number;
}

export interface DepthEvalOptions {
  /** Ground truth at or below this (mm) is invalid; predictions are clamped up to it. Default 1e-3. */
  minDepth?: number;
  /** Depth cap (mm): ground truth beyond it is ignored, predictions are clamped to it. Default Infinity. */
  maxDepth?: number;
  /** Optional validity mask, non-zero = evaluate (same size as the images). */
  mask?: Uint8Array;
  /** Median-scale the prediction to the ground truth first. Default false. */
  medianScaling?: boolean;
}

function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** Metrics of one frame; null when no pixel can be counted. */
export function computeDepthMetrics(
  pred: DepthImage,
  gt: DepthImage,
  options: DepthEvalOptions = {},
): DepthMetrics | null {
  if (pred.width !== gt.width || pred.height !== gt.height) {
    throw new RangeError(
      `depth metrics: prediction is ${pred.width}x${pred.height}, ground truth ${gt.width}x${gt.height}`,
    );
  }
  const minDepth = options.minDepth ?? 1e-3;
  const maxDepth = options.maxDepth ?? Infinity;
  if (!(maxDepth > minDepth))
    throw new RangeError(`depth metrics: maxDepth ${maxDepth} must exceed minDepth ${minDepth}`);
  const mask = options.mask;
  if (mask && mask.length !== gt.data.length)
    throw new RangeError(`depth metrics: mask has ${mask.length} values for ${gt.data.length} pixels`);
  const n = gt.data.length;
  const p = new Float64Array(n);
  const g = new Float64Array(n);
  let validGt = 0;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const t = gt.data[i]!;
    if (!(Number.isFinite(t) && t > minDepth && t <= maxDepth) || (mask && mask[i] === 0)) continue;
    validGt++;
    const d = pred.data[i]!;
    if (!(Number.isFinite(d) && d > 0)) continue;
    p[m] = d;
    g[m] = t;
    m++;
  }
  if (m === 0) return null;
  const pv = p.subarray(0, m);
  const gv = g.subarray(0, m);
  const scale = options.medianScaling ? median(gv) / median(pv) : 1;
  let absRel = 0;
  let sqRel = 0;
  let sq = 0;
  let logSq = 0;
  let d1 = 0;
  let d2 = 0;
  let d3 = 0;
  for (let i = 0; i < m; i++) {
    const d = Math.min(maxDepth, Math.max(minDepth, pv[i]! * scale));
    const t = gv[i]!;
    const diff = d - t;
    absRel += Math.abs(diff) / t;
    sqRel += (diff * diff) / t;
    sq += diff * diff;
    const ld = Math.log(d) - Math.log(t);
    logSq += ld * ld;
    const ratio = Math.max(d / t, t / d);
    if (ratio < 1.25) d1++;
    if (ratio < 1.25 ** 2) d2++;
    if (ratio < 1.25 ** 3) d3++;
  }
  return {
    absRel: absRel / m,
    sqRel: sqRel / m,
    rmse: Math.sqrt(sq / m),
    logRmse: Math.sqrt(logSq / m),
    delta1: d1 / m,
    delta2: d2 / m,
    delta3: d3 / m,
    count: m,
    coverage: m / validGt,
    scale,
  };
}

/** Per-frame means (count is the total); null for an empty list. */
export function meanDepthMetrics(frames: readonly DepthMetrics[]): DepthMetrics | null {
  if (frames.length === 0) return null;
  const keys = [
    'absRel',
    'sqRel',
    'rmse',
    'logRmse',
    'delta1',
    'delta2',
    'delta3',
    'coverage',
    'scale',
  ] as const;
  const out: DepthMetrics = {
    absRel: 0,
    sqRel: 0,
    rmse: 0,
    logRmse: 0,
    delta1: 0,
    delta2: 0,
    delta3: 0,
    count: 0,
    coverage: 0,
    scale: 0,
  };
  for (const f of frames) {
    for (const k of keys) out[k] += f[k];
    out.count += f.count;
  }
  for (const k of keys) out[k] /= frames.length;
  return out;
}
