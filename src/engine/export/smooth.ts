/**
 * Taubin lambda|mu smoothing (Taubin 1995): a shrinking Laplacian step (lambda > 0) followed by an
 * inflating one (mu < -lambda) per iteration, which removes noise without the volume loss of plain
 * Laplacian smoothing. Uniform weights over the edge neighbours; boundary vertices of an open
 * surface stay fixed by default (the rim of an endoscopic reconstruction would otherwise retract).
 */
import type { TriangleMesh } from '../../shared/mesh.js';
import { validateMesh } from '../../shared/mesh.js';
import { computeVertexNormals } from './normals.js';
import { type ExportProgress, progressTicker } from './progress.js';

export interface TaubinOptions {
  iterations?: number;
  lambda?: number;
  mu?: number;
  fixBoundary?: boolean;
}

/** Vertex adjacency in CSR form, and which vertices lie on an open boundary. */
export function vertexNeighbours(mesh: TriangleMesh): {
  offsets: Uint32Array;
  neighbours: Uint32Array;
  boundary: Uint8Array;
} {
  const n = mesh.positions.length / 3;
  const edgeUse = new Map<number, number>();
  const key = (a: number, b: number): number => (a < b ? a * n + b : b * n + a);
  const idx = mesh.indices;
  for (let t = 0; t < idx.length; t += 3) {
    for (let e = 0; e < 3; e++) {
      const k = key(idx[t + e]!, idx[t + ((e + 1) % 3)]!);
      edgeUse.set(k, (edgeUse.get(k) ?? 0) + 1);
    }
  }
  const degree = new Uint32Array(n);
  const boundary = new Uint8Array(n);
  for (const [k, uses] of edgeUse) {
    const a = Math.floor(k / n);
    const b = k - a * n;
    degree[a]!++;
    degree[b]!++;
    if (uses === 1) boundary[a] = boundary[b] = 1;
  }
  const offsets = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) offsets[v + 1] = offsets[v]! + degree[v]!;
  const fill = offsets.slice(0, n);
  const neighbours = new Uint32Array(offsets[n]!);
  for (const k of edgeUse.keys()) {
    const a = Math.floor(k / n);
    const b = k - a * n;
    neighbours[fill[a]!++] = b;
    neighbours[fill[b]!++] = a;
  }
  return { offsets, neighbours, boundary };
}

export function taubinSmooth(
  mesh: TriangleMesh,
  options: TaubinOptions = {},
  progress?: ExportProgress,
): TriangleMesh {
  validateMesh(mesh);
  const iterations = options.iterations ?? 10;
  const lambda = options.lambda ?? 0.5;
  const mu = options.mu ?? -0.53;
  if (!(lambda > 0 && mu < -lambda))
    throw new RangeError(`Taubin smoothing needs lambda > 0 and mu < -lambda (got ${lambda}, ${mu})`);
  const fixBoundary = options.fixBoundary ?? true;
  const { offsets, neighbours, boundary } = vertexNeighbours(mesh);
  const n = mesh.positions.length / 3;
  let cur = Float32Array.from(mesh.positions);
  let next = new Float32Array(cur.length);
  const tick = progressTicker(progress, 'smooth', iterations * 2);
  for (let step = 0; step < iterations * 2; step++) {
    tick(step);
    const factor = step % 2 === 0 ? lambda : mu;
    for (let v = 0; v < n; v++) {
      const start = offsets[v]!;
      const end = offsets[v + 1]!;
      if (end === start || (fixBoundary && boundary[v])) {
        next[3 * v] = cur[3 * v]!;
        next[3 * v + 1] = cur[3 * v + 1]!;
        next[3 * v + 2] = cur[3 * v + 2]!;
        continue;
      }
      let sx = 0;
      let sy = 0;
      let sz = 0;
      for (let k = start; k < end; k++) {
        const u = 3 * neighbours[k]!;
        sx += cur[u]!;
        sy += cur[u + 1]!;
        sz += cur[u + 2]!;
      }
      const inv = 1 / (end - start);
      next[3 * v] = cur[3 * v]! + factor * (sx * inv - cur[3 * v]!);
      next[3 * v + 1] = cur[3 * v + 1]! + factor * (sy * inv - cur[3 * v + 1]!);
      next[3 * v + 2] = cur[3 * v + 2]! + factor * (sz * inv - cur[3 * v + 2]!);
    }
    [cur, next] = [next, cur];
  }
  progress?.('smooth', 1);
  const out: TriangleMesh = { positions: cur, indices: mesh.indices };
  if (mesh.colors) out.colors = mesh.colors;
  if (mesh.normals) out.normals = computeVertexNormals(cur, mesh.indices);
  return out;
}
