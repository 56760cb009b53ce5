/**
 * Surface-metric benchmark: NavWS point-to-mesh distances (uniform triangle grid, src/eval) against
 * Open3D 0.16's RaycastingScene.compute_distance (Embree BVH; Debian python3-open3d, run through
 * /usr/bin/python3) on the same ~100k-vertex mesh and the same query points. Prints query throughput,
 * build times, the largest disagreement between the two, the ratio, and the full computeSurfaceMetrics
 * time (accuracy + completeness both ways) on a reconstruction-sized mesh pair.
 *
 *   npm run bench:eval -- [--spacing 0.33] [--queries 200000]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writePly } from '../src/engine/formats/ply.js';
import { TriangleGrid } from '../src/eval/point-mesh-distance.js';
import { computeSurfaceMetrics, sampleSurface } from '../src/eval/surface-metrics.js';
import { Phantom } from '../src/synth/index.js';
import { Rng } from '../src/synth/random.js';

const PYTHON = '/usr/bin/python3';
const { values: args } = parseArgs({
  options: {
    spacing: { type: 'string', default: '0.33' },
    queries: { type: 'string', default: '200000' },
  },
});

const phantom = new Phantom({ frames: 2, meshSpacing: Number(args.spacing) });
const truth = phantom.groundTruthMesh(false);
const nv = truth.positions.length / 3;
// Query points: surface samples pushed off the surface by up to +-2 mm, as reconstructed vertices are.
const rng = new Rng(11);
const queries = sampleSurface(truth, Number(args.queries), 5).map((x) => x + rng.uniform(-2, 2));
const nq = queries.length / 3;

let t0 = performance.now();
const grid = new TriangleGrid(truth);
const buildMs = performance.now() - t0;
t0 = performance.now();
const ours = new Float64Array(nq);
for (let i = 0; i < nq; i++)
  ours[i] = grid.distance(queries[3 * i]!, queries[3 * i + 1]!, queries[3 * i + 2]!);
const queryMs = performance.now() - t0;

console.log(`mesh: ${nv} vertices, ${truth.indices.length / 3} triangles; ${nq} query points`);
console.log(
  `NavWS TriangleGrid  build ${buildMs.toFixed(0)} ms, queries ${queryMs.toFixed(0)} ms (${(((nq / queryMs) * 1000) / 1e6).toFixed(2)} M/s)`,
);

const dir = await mkdtemp(path.join(os.tmpdir(), 'navws-bench-eval-'));
try {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found`);
  await writePly(path.join(dir, 'mesh.ply'), truth);
  await writeFile(path.join(dir, 'queries.f32'), Buffer.from(Float32Array.from(queries).buffer));
  const script = `
import sys, time, numpy as np, open3d as o3d
d = sys.argv[1]
m = o3d.io.read_triangle_mesh(d + '/mesh.ply')
q = np.fromfile(d + '/queries.f32', dtype=np.float32).reshape(-1, 3)
t = time.perf_counter()
scene = o3d.t.geometry.RaycastingScene()
scene.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(m))
dist = scene.compute_distance(o3d.core.Tensor(q)).numpy()  # first call builds the BVH
build = time.perf_counter() - t
t = time.perf_counter()
dist = scene.compute_distance(o3d.core.Tensor(q)).numpy()
query = time.perf_counter() - t
dist.astype(np.float64).tofile(d + '/o3d.f64')
print(build * 1000, query * 1000)
`;
  const [o3dBuild, o3dQuery] = execFileSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .map(Number) as [number, number];
  const theirs = new Float64Array((await readFile(path.join(dir, 'o3d.f64'))).buffer.slice(0));
  let maxDiff = 0;
  // The queries went to Open3D as float32; compare against our distances of the same rounded points.
  const rounded = Float32Array.from(queries);
  for (let i = 0; i < nq; i += 97) {
    const d = grid.distance(rounded[3 * i]!, rounded[3 * i + 1]!, rounded[3 * i + 2]!);
    maxDiff = Math.max(maxDiff, Math.abs(d - theirs[i]!));
  }
  console.log(
    `Open3D RaycastingScene (baseline)  first call incl. BVH ${o3dBuild.toFixed(0)} ms, queries ${o3dQuery.toFixed(0)} ms (${(((nq / o3dQuery) * 1000) / 1e6).toFixed(2)} M/s)`,
  );
  console.log(
    `ratio NavWS/Open3D query time: ${(queryMs / o3dQuery).toFixed(2)}x; largest distance disagreement ${maxDiff.toExponential(2)} mm`,
  );
} catch (err) {
  console.log(`baseline skipped: ${(err as Error).message.split('\n')[0]}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

// A full surface evaluation of a noisy reconstruction of the same size.
const recon = { positions: truth.positions.map((x) => x + rng.uniform(-0.3, 0.3)), indices: truth.indices };
t0 = performance.now();
const m = computeSurfaceMetrics(recon, truth);
console.log(
  `computeSurfaceMetrics (${m.reconstructedVertices} vertices vs ${m.groundTruthSamples} gt samples): ${(performance.now() - t0).toFixed(0)} ms; ` +
    `accuracy median ${m.accuracyMedian.toFixed(3)} mm, completeness ${m.completeness.toFixed(4)}`,
);
