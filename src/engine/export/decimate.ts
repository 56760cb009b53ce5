/**
 * Decimation by vertex clustering (Rossignac & Borrel 1993) with quadric-optimal representatives
 * (Lindstrom 2000): vertices in one grid cell merge into one, placed where the summed plane
 * quadrics of their faces are smallest (so edges and folds stay sharp) and kept inside the cell.
 * Linear time, robust on the noisy, open meshes fusion produces. `decimateToTriangles` searches
 * the cell size that meets a triangle budget.
 */
import type { TriangleMesh } from '../../shared/mesh.js';
import { validateMesh } from '../../shared/mesh.js';
import type { Millimetres } from '../../shared/units.js';
import { computeVertexNormals } from './normals.js';
import { type ExportProgress, progressTicker } from './progress.js';

const AXIS_CELLS = 1 << 17;

export function decimateByClustering(
  mesh: TriangleMesh,
  cellSize: Millimetres,
  progress?: ExportProgress,
): TriangleMesh {
  validateMesh(mesh);
  if (!(cellSize > 0 && Number.isFinite(cellSize)))
    throw new RangeError(`cell size must be > 0 mm, got ${cellSize}`);
  const p = mesh.positions;
  const n = p.length / 3;
  if (n === 0) return mesh;
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < p.length; i++) {
    min[i % 3] = Math.min(min[i % 3]!, p[i]!);
    max[i % 3] = Math.max(max[i % 3]!, p[i]!);
  }
  for (let a = 0; a < 3; a++) {
    if ((max[a]! - min[a]!) / cellSize >= AXIS_CELLS) {
      throw new RangeError(
        `cell size ${cellSize} mm is too small for a mesh ${(max[a]! - min[a]!).toFixed(1)} mm wide`,
      );
    }
  }
  const cellOf = new Map<number, number>();
  const cluster = new Uint32Array(n);
  const tickV = progressTicker(progress, 'decimate', n + mesh.indices.length / 3);
  for (let v = 0; v < n; v++) {
    tickV(v);
    const ix = Math.floor((p[3 * v]! - min[0]!) / cellSize);
    const iy = Math.floor((p[3 * v + 1]! - min[1]!) / cellSize);
    const iz = Math.floor((p[3 * v + 2]! - min[2]!) / cellSize);
    const key = (ix * AXIS_CELLS + iy) * AXIS_CELLS + iz;
    let c = cellOf.get(key);
    if (c === undefined) {
      c = cellOf.size;
      cellOf.set(key, c);
    }
    cluster[v] = c;
  }
  const m = cellOf.size;
  // Per cluster: position sum, count, colour sum, quadric (A: 6 unique entries, b: 3, c unused).
  const sum = new Float64Array(3 * m);
  const count = new Uint32Array(m);
  const col = mesh.colors ? new Float64Array(3 * m) : null;
  const qa = new Float64Array(6 * m);
  const qb = new Float64Array(3 * m);
  for (let v = 0; v < n; v++) {
    const c = cluster[v]!;
    count[c]!++;
    for (let k = 0; k < 3; k++) {
      sum[3 * c + k] = sum[3 * c + k]! + p[3 * v + k]!;
      if (col) col[3 * c + k] = col[3 * c + k]! + mesh.colors![3 * v + k]!;
    }
  }
  const idx = mesh.indices;
  for (let t = 0; t < idx.length; t += 3) {
    const a = 3 * idx[t]!;
    const b = 3 * idx[t + 1]!;
    const d = 3 * idx[t + 2]!;
    const ux = p[b]! - p[a]!,
      uy = p[b + 1]! - p[a + 1]!,
      uz = p[b + 2]! - p[a + 2]!;
    const vx = p[d]! - p[a]!,
      vy = p[d + 1]! - p[a + 1]!,
      vz = p[d + 2]! - p[a + 2]!;
    let nx = uy * vz - uz * vy,
      ny = uz * vx - ux * vz,
      nz = ux * vy - uy * vx;
    const len = Math.hypot(nx, ny, nz);
    if (len === 0) continue;
    const area = len / 2;
    nx /= len;
    ny /= len;
    nz /= len;
    const off = -(nx * p[a]! + ny * p[a + 1]! + nz * p[a + 2]!);
    for (const vi of [idx[t]!, idx[t + 1]!, idx[t + 2]!]) {
      const c = cluster[vi]!;
      // Plane quadric n n^T (area-weighted) and its linear part n * d.
      qa[6 * c] = qa[6 * c]! + area * nx * nx;
      qa[6 * c + 1] = qa[6 * c + 1]! + area * nx * ny;
      qa[6 * c + 2] = qa[6 * c + 2]! + area * nx * nz;
      qa[6 * c + 3] = qa[6 * c + 3]! + area * ny * ny;
      qa[6 * c + 4] = qa[6 * c + 4]! + area * ny * nz;
      qa[6 * c + 5] = qa[6 * c + 5]! + area * nz * nz;
      qb[3 * c] = qb[3 * c]! + area * nx * off;
      qb[3 * c + 1] = qb[3 * c + 1]! + area * ny * off;
      qb[3 * c + 2] = qb[3 * c + 2]! + area * nz * off;
    }
  }
  const positions = new Float32Array(3 * m);
  for (let c = 0; c < m; c++) {
    const mean = [sum[3 * c]! / count[c]!, sum[3 * c + 1]! / count[c]!, sum[3 * c + 2]! / count[c]!] as const;
    const x = quadricOptimum(qa.subarray(6 * c, 6 * c + 6), qb.subarray(3 * c, 3 * c + 3), mean, cellSize);
    positions[3 * c] = x[0];
    positions[3 * c + 1] = x[1];
    positions[3 * c + 2] = x[2];
  }
  const tris: number[] = [];
  const seen = new Set<string>();
  for (let t = 0; t < idx.length; t += 3) {
    tickV(n + t / 3);
    const a = cluster[idx[t]!]!;
    const b = cluster[idx[t + 1]!]!;
    const c = cluster[idx[t + 2]!]!;
    if (a === b || b === c || a === c) continue;
    // Rotate so the smallest index leads, keeping orientation: a face and its flip stay distinct.
    const r = a < b && a < c ? [a, b, c] : b < c ? [b, c, a] : [c, a, b];
    const key = `${r[0]},${r[1]},${r[2]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    tris.push(a, b, c);
  }
  // Drop clusters no triangle uses (isolated vertices) and renumber.
  const used = new Int32Array(m).fill(-1);
  let k = 0;
  for (const v of tris) if (used[v] === -1) used[v] = k++;
  const outPos = new Float32Array(3 * k);
  const outCol = col ? new Uint8Array(3 * k) : undefined;
  for (let c = 0; c < m; c++) {
    const j = used[c]!;
    if (j < 0) continue;
    for (let q = 0; q < 3; q++) {
      outPos[3 * j + q] = positions[3 * c + q]!;
      if (outCol) outCol[3 * j + q] = Math.round(col![3 * c + q]! / count[c]!);
    }
  }
  const indices = Uint32Array.from(tris, (v) => used[v]!);
  progress?.('decimate', 1);
  const out: TriangleMesh = { positions: outPos, indices };
  if (outCol) out.colors = outCol;
  if (mesh.normals) out.normals = computeVertexNormals(outPos, indices);
  return out;
}

/**
 * Minimises x^T A x + 2 b^T x, regularised towards the cluster mean (so flat or degenerate
 * clusters stay at their centroid), and clamps the result to within one cell of the mean.
 */
function quadricOptimum(
  a: Float64Array,
  b: Float64Array,
  mean: readonly [number, number, number],
  cellSize: number,
): [number, number, number] {
  const trace = a[0]! + a[3]! + a[5]!;
  const reg = 1e-3 * (trace > 0 ? trace : 1);
  // (A + reg I) x = -b + reg * mean
  const m00 = a[0]! + reg,
    m01 = a[1]!,
    m02 = a[2]!,
    m11 = a[3]! + reg,
    m12 = a[4]!,
    m22 = a[5]! + reg;
  const r0 = -b[0]! + reg * mean[0],
    r1 = -b[1]! + reg * mean[1],
    r2 = -b[2]! + reg * mean[2];
  const c00 = m11 * m22 - m12 * m12;
  const c01 = m02 * m12 - m01 * m22;
  const c02 = m01 * m12 - m02 * m11;
  const det = m00 * c00 + m01 * c01 + m02 * c02;
  if (!(Math.abs(det) > 1e-30)) return [mean[0], mean[1], mean[2]];
  const c11 = m00 * m22 - m02 * m02;
  const c12 = m01 * m02 - m00 * m12;
  const c22 = m00 * m11 - m01 * m01;
  const x = [
    (c00 * r0 + c01 * r1 + c02 * r2) / det,
    (c01 * r0 + c11 * r1 + c12 * r2) / det,
    (c02 * r0 + c12 * r1 + c22 * r2) / det,
  ];
  const dist = Math.hypot(x[0]! - mean[0], x[1]! - mean[1], x[2]! - mean[2]);
  if (!Number.isFinite(dist) || dist > cellSize) return [mean[0], mean[1], mean[2]];
  return [x[0]!, x[1]!, x[2]!];
}

/** Largest detail (smallest cell) whose result has at most `maxTriangles` triangles. */
export function decimateToTriangles(
  mesh: TriangleMesh,
  maxTriangles: number,
  progress?: ExportProgress,
): TriangleMesh {
  if (!Number.isInteger(maxTriangles) || maxTriangles < 1)
    throw new RangeError(`triangle budget must be >= 1, got ${maxTriangles}`);
  if (mesh.indices.length / 3 <= maxTriangles) return mesh;
  const p = mesh.positions;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < p.length; i++) {
    lo[i % 3] = Math.min(lo[i % 3]!, p[i]!);
    hi[i % 3] = Math.max(hi[i % 3]!, p[i]!);
  }
  const diag = Math.hypot(hi[0]! - lo[0]!, hi[1]! - lo[1]!, hi[2]! - lo[2]!);
  let small = diag / AXIS_CELLS;
  let large = diag;
  let best: TriangleMesh | null = null;
  for (let iter = 0; iter < 18; iter++) {
    progress?.('decimate', iter / 18);
    const cell = Math.sqrt(small * large);
    const result = decimateByClustering(mesh, cell);
    if (result.indices.length / 3 <= maxTriangles) {
      best = result;
      large = cell;
    } else {
      small = cell;
    }
    if (large / small < 1.02) break;
  }
  progress?.('decimate', 1);
  return best ?? decimateByClustering(mesh, large);
}
