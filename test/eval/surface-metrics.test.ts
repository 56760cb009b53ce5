import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TriangleGrid, pointTriangleDistanceSquared } from '../../src/eval/point-mesh-distance.js';
import { computeSurfaceMetrics, sampleSurface, surfaceArea } from '../../src/eval/surface-metrics.js';
import type { TriangleMesh } from '../../src/shared/mesh.js';
import { Rng } from '../../src/synth/random.js';

const close = (a: number, b: number, what: string, tol = 1e-9): void =>
  assert.ok(Math.abs(a - b) < tol, `${what}: ${a} vs ${b}`);

/** A grid of n x n quads over [x0, x1] x [0, size] at height z(x, y). */
function sheet(
  n: number,
  x0: number,
  x1: number,
  size: number,
  z: (x: number, y: number) => number,
): TriangleMesh {
  const positions = new Float32Array((n + 1) * (n + 1) * 3);
  for (let j = 0; j <= n; j++) {
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = (size * j) / n;
      positions.set([x, y, z(x, y)], 3 * (j * (n + 1) + i));
    }
  }
  const indices: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const v = j * (n + 1) + i;
      indices.push(v, v + n + 2, v + 1, v, v + n + 1, v + n + 2);
    }
  }
  return { positions, indices: Uint32Array.from(indices) };
}

test('point-to-triangle distance: face, edge and vertex regions', () => {
  const tri = [0, 0, 0, 1, 0, 0, 0, 1, 0];
  close(pointTriangleDistanceSquared(tri, 0, 0.2, 0.2, 1), 1, 'above the face');
  close(pointTriangleDistanceSquared(tri, 0, 2, 0, 0), 1, 'beyond vertex b');
  close(pointTriangleDistanceSquared(tri, 0, -1, -1, 0), 2, 'beyond vertex a');
  close(pointTriangleDistanceSquared(tri, 0, 1, 1, 0), 0.5, 'beyond the hypotenuse');
  close(pointTriangleDistanceSquared(tri, 0, 0.5, -2, 0), 4, 'beyond edge ab');
  close(pointTriangleDistanceSquared([0, 0, 0, 1, 0, 0, 2, 0, 0], 0, 1, 1, 0), 1, 'degenerate triangle');
});

test('grid search equals brute force, near and far from the mesh', () => {
  const mesh = sheet(30, 0, 30, 30, (x, y) => 3 * Math.sin(x / 4) * Math.cos(y / 5));
  const grid = new TriangleGrid(mesh);
  const tri = new Float64Array(mesh.indices.length * 3);
  mesh.indices.forEach((v, i) => tri.set(mesh.positions.subarray(3 * v, 3 * v + 3), 3 * i));
  const rng = new Rng(3);
  for (let q = 0; q < 300; q++) {
    const far = q % 10 === 0 ? 80 : 0;
    const p = [rng.uniform(-5 - far, 35 + far), rng.uniform(-5, 35), rng.uniform(-6, 6 + far)] as const;
    let best = Infinity;
    for (let t = 0; t < tri.length / 9; t++)
      best = Math.min(best, pointTriangleDistanceSquared(tri, 9 * t, p[0], p[1], p[2]));
    close(grid.distance(p[0], p[1], p[2]), Math.sqrt(best), `query ${q}`, 1e-9);
  }
});

test('surface sampling is uniform by area and deterministic', () => {
  const mesh = sheet(4, 0, 10, 10, () => 0);
  close(surfaceArea(mesh), 100, 'area');
  const a = sampleSurface(mesh, 4000, 7);
  assert.deepEqual(a, sampleSurface(mesh, 4000, 7));
  let left = 0;
  for (let i = 0; i < 4000; i++) if (a[3 * i]! < 5) left++;
  assert.ok(Math.abs(left / 4000 - 0.5) < 0.03, `left half holds ${left / 4000}`);
});

test('identical surfaces: zero distances, full completeness and F-score', () => {
  const mesh = sheet(20, 0, 20, 20, (x, y) => Math.sin(x / 3) + 0.1 * y);
  const m = computeSurfaceMetrics(mesh, mesh);
  close(m.accuracyMedian, 0, 'accuracy', 1e-5);
  close(m.chamfer, 0, 'chamfer', 1e-5);
  assert.equal(m.completeness, 1);
  assert.equal(m.fscore, 1);
});

test('a plane 0.5 mm (then 2 mm) off the truth, and a reconstruction of half the surface', () => {
  const truth = sheet(10, 0, 10, 10, () => 0);
  const near = computeSurfaceMetrics(
    sheet(10, 0, 10, 10, () => 0.5),
    truth,
  );
  close(near.accuracyMedian, 0.5, 'accuracy median', 1e-6);
  close(near.accuracyP90, 0.5, 'accuracy p90', 1e-6);
  close(near.chamfer, 0.5, 'chamfer', 1e-6);
  assert.equal(near.completeness, 1);
  assert.equal(near.fscore, 1);
  const far = computeSurfaceMetrics(
    sheet(10, 0, 10, 10, () => 2),
    truth,
  );
  assert.equal(far.completeness, 0);
  assert.equal(far.precision, 0);
  assert.equal(far.fscore, 0);
  close(far.chamfer, 2, 'chamfer', 1e-6);
  // Half the square: every reconstructed vertex is exact; the truth within 1 mm is x <= 6, i.e. 60 %.
  const half = computeSurfaceMetrics(
    sheet(10, 0, 5, 10, () => 0),
    truth,
    { sampleDensity: 100 },
  );
  close(half.accuracyMedian, 0, 'accuracy', 1e-6);
  assert.equal(half.precision, 1);
  assert.ok(Math.abs(half.completeness - 0.6) < 0.02, `completeness ${half.completeness}`);
  close(half.fscore, (2 * half.completeness) / (1 + half.completeness), 'F-score', 1e-12);
  assert.throws(
    () => computeSurfaceMetrics({ positions: new Float32Array(3), indices: new Uint32Array(0) }, truth),
    /no triangles/,
  );
});
