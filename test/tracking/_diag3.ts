import { identity4, multiply4, invertRigid } from '../../src/shared/math/mat4.js';
import { type Twist, se3Exp, se3Log } from '../../src/shared/math/se3.js';
import { loadTrackingKernels } from '../../src/workers/tracking/kernels.js';
import { renderView, testIntrinsics } from './analytic-scene.js';
const K = testIntrinsics(256, 192);
const kern = loadTrackingKernels();
const DEG = Math.PI / 180;
const m = se3Exp([4, -3, 2, 3 * DEG, 2 * DEG, -2 * DEG] as Twist);
const a = renderView(identity4(), { intrinsics: K });
const b = renderView(m, { intrinsics: K });
const fa = new kern.Frame({ ...K, rgb: a.rgb.data, depth: a.depth.data });
const fb = new kern.Frame({ ...K, rgb: b.rgb.data, depth: b.depth.data });
console.log(fa.info(), fb.info());
for (const fl of [3, 2, 1, 0]) {
  for (const [nm, init] of [['id', identity4()], ['truth', invertRigid(m)]] as const) {
    for (const aff of [true, false]) {
      const r = kern.align(fa, fb, init, { finestLevel: fl, estimateAffine: aff, maxIterationsCoarse: 100, maxIterationsFine: 100 });
      const e = se3Log(multiply4(r.pose, m));
      console.log(fl, nm, aff, r.levelIterations, r.rms.toFixed(2), r.sigma.toFixed(2), r.gain.toFixed(3), r.bias.toFixed(1), r.validPoints, e.map((x, i) => (i < 3 ? x : x / DEG).toFixed(3)).join(' '));
    }
  }
}
