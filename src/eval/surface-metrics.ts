/**
 * Surface reconstruction metrics (as in the multi-view stereo benchmarks, e.g. Knapitsch et al. 2017,
 * "Tanks and Temples"), in mm:
 *
 * - accuracy: distance from each reconstructed vertex to the ground-truth surface (median, p90, mean);
 * - completeness: fraction of ground-truth surface samples (uniform by area) within `threshold` of the
 *   reconstructed surface;
 * - Chamfer distance: (mean accuracy distance + mean completeness distance) / 2;
 * - F-score@threshold: harmonic mean of precision (vertices within the threshold of the truth) and
 *   recall (= completeness).
 */
import type { TriangleMesh } from '../shared/mesh.js';
import { Rng } from '../synth/random.js';
import { TriangleGrid } from './point-mesh-distance.js';

export interface SurfaceMetrics {
  threshold: number;
  accuracyMedian: number;
  accuracyP90: number;
  accuracyMean: number;
  completeness: number;
  completenessMean: number;
  chamfer: number;
  precision: number;
  recall: number;
  fscore: number;
  reconstructedVertices: number;
  groundTruthSamples: number;
}

export interface SurfaceEvalOptions {
  /** Distance threshold of completeness, precision, recall and F-score (mm). Default 1. */
  threshold?: number;
  /** Ground-truth surface samples per mm^2. Default 4 (0.5 mm spacing), capped at maxSamples. */
  sampleDensity?: number;
  maxSamples?: number;
  /** Seed of the surface sampling. Default 1. */
  seed?: number;
}

/** Points drawn uniformly by area over the mesh's triangles (deterministic for a seed). */
export function sampleSurface(mesh: TriangleMesh, count: number, seed = 1): Float64Array {
  const nt = mesh.indices.length / 3;
  const p = mesh.positions;
  const cumulative = new Float64Array(nt);
  let total = 0;
  for (let t = 0; t < nt; t++) {
    total += triangleArea(mesh, t);
    cumulative[t] = total;
  }
  const out = new Float64Array(count * 3);
  if (total === 0) return out.subarray(0, 0);
  const rng = new Rng(seed);
  for (let i = 0; i < count; i++) {
    const target = rng.next() * total;
    let lo = 0;
    let hi = nt - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    let a = rng.next();
    let b = rng.next();
    if (a + b > 1) {
      a = 1 - a;
      b = 1 - b;
    }
    const i0 = mesh.indices[3 * lo]! * 3;
    const i1 = mesh.indices[3 * lo + 1]! * 3;
    const i2 = mesh.indices[3 * lo + 2]! * 3;
    for (let k = 0; k < 3; k++)
      out[3 * i + k] = p[i0 + k]! + a * (p[i1 + k]! - p[i0 + k]!) + b * (p[i2 + k]! - p[i0 + k]!);
  }
  return out;
}

export function surfaceArea(mesh: TriangleMesh): number {
  let total = 0;
  for (let t = 0; t < mesh.indices.length / 3; t++) total += triangleArea(mesh, t);
  return total;
}

function triangleArea(mesh: TriangleMesh, t: number): number {
  const p = mesh.positions;
  const a = mesh.indices[3 * t]! * 3;
  const b = mesh.indices[3 * t + 1]! * 3;
  const c = mesh.indices[3 * t + 2]! * 3;
  const ex = p[b]! - p[a]!,
    ey = p[b + 1]! - p[a + 1]!,
    ez = p[b + 2]! - p[a + 2]!;
  const fx = p[c]! - p[a]!,
    fy = p[c + 1]! - p[a + 1]!,
    fz = p[c + 2]! - p[a + 2]!;
  return 0.5 * Math.hypot(ey * fz - ez * fy, ez * fx - ex * fz, ex * fy - ey * fx);
}

/** Vertices referenced by at least one triangle (isolated vertices are not part of the surface). */
function surfaceVertices(mesh: TriangleMesh): Float64Array {
  const used = new Uint8Array(mesh.positions.length / 3);
  for (const i of mesh.indices) used[i] = 1;
  const out: number[] = [];
  used.forEach((u, v) => {
    if (u) out.push(mesh.positions[3 * v]!, mesh.positions[3 * v + 1]!, mesh.positions[3 * v + 2]!);
  });
  return Float64Array.from(out);
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function distances(points: Float64Array, grid: TriangleGrid): Float64Array {
  const n = points.length / 3;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = grid.distance(points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!);
  return out;
}

export function computeSurfaceMetrics(
  reconstruction: TriangleMesh,
  truth: TriangleMesh,
  options: SurfaceEvalOptions = {},
): SurfaceMetrics {
  const threshold = options.threshold ?? 1;
  if (!(threshold > 0)) throw new RangeError(`surface metrics: threshold must be positive, got ${threshold}`);
  if (reconstruction.indices.length === 0)
    throw new RangeError('surface metrics: the reconstructed mesh has no triangles');
  if (truth.indices.length === 0)
    throw new RangeError('surface metrics: the ground-truth mesh has no triangles');
  const density = options.sampleDensity ?? 4;
  const maxSamples = options.maxSamples ?? 300_000;
  const samples = sampleSurface(
    truth,
    Math.max(1000, Math.min(maxSamples, Math.round(surfaceArea(truth) * density))),
    options.seed ?? 1,
  );
  const verts = surfaceVertices(reconstruction);
  const acc = distances(verts, new TriangleGrid(truth)).sort();
  const comp = distances(samples, new TriangleGrid(reconstruction)).sort();
  const mean = (a: Float64Array): number => a.reduce((s, x) => s + x, 0) / a.length;
  const within = (a: Float64Array): number => a.reduce((s, x) => s + (x <= threshold ? 1 : 0), 0) / a.length;
  const precision = within(acc);
  const recall = within(comp);
  return {
    threshold,
    accuracyMedian: quantile(acc, 0.5),
    accuracyP90: quantile(acc, 0.9),
    accuracyMean: mean(acc),
    completeness: recall,
    completenessMean: mean(comp),
    chamfer: (mean(acc) + mean(comp)) / 2,
    precision,
    recall,
    fscore: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    reconstructedVertices: verts.length / 3,
    groundTruthSamples: samples.length / 3,
  };
}
