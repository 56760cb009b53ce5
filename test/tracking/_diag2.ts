import { identity4, invertRigid, multiply4 } from '../../src/shared/math/mat4.js';
import { type Twist, se3Exp, se3Log } from '../../src/shared/math/se3.js';
import { loadTrackingKernels } from '../../src/workers/tracking/kernels.js';
import { renderView, testIntrinsics } from './analytic-scene.js';
const K = testIntrinsics(256, 192);
const kern = loadTrackingKernels();
const DEG = Math.PI / 180;
const m = se3Exp([2, -1.5, 0, 0, 0, 0] as Twist);
const a = renderView(identity4(), { intrinsics: K });
const b = renderView(m, { intrinsics: K });
const fa = new kern.Frame({ ...K, rgb: a.rgb.data, depth: a.depth.data });
const fb = new kern.Frame({ ...K, rgb: b.rgb.data, depth: b.depth.data });
for (const [name, init, o] of [
  ['truth 0it', invertRigid(m), { maxIterationsFine: 0, maxIterationsCoarse: 0 }],
  ['truth fine', invertRigid(m), { maxIterationsCoarse: 0, maxIterationsFine: 50 }],
  ['truth fine noaff', invertRigid(m), { maxIterationsCoarse: 0, maxIterationsFine: 50, estimateAffine: false }],
  ['id 100', identity4(), { maxIterationsCoarse: 100, maxIterationsFine: 100 }],
] as const) {
  const r = kern.align(fa, fb, init as Float64Array, o);
  const e = se3Log(multiply4(r.pose, m));
  console.log(name, r.ok, r.levelIterations, r.rms.toFixed(3), r.sigma.toFixed(2), r.gain.toFixed(3), r.bias.toFixed(1), e.map((x, i) => (i < 3 ? x : x / DEG).toFixed(3)).join(' '));
}
