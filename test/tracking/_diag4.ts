import { identity4, multiply4 } from '../../src/shared/math/mat4.js';
import { type Twist, se3Exp, se3Log } from '../../src/shared/math/se3.js';
import { loadTrackingKernels } from '../../src/workers/tracking/kernels.js';
import { renderView, testIntrinsics } from './analytic-scene.js';
const K = testIntrinsics(256, 192);
const kern = loadTrackingKernels();
const DEG = Math.PI / 180;
const a = renderView(identity4(), { intrinsics: K });
const fa = new kern.Frame({ ...K, rgb: a.rgb.data, depth: a.depth.data });
for (const xi of [[4,0,0,0,0,0],[0,-3,0,0,0,0],[0,0,2,0,0,0],[0,0,0,3*DEG,0,0],[0,0,0,0,2*DEG,0],[0,0,0,0,0,-2*DEG],[4,-3,2,0,0,0],[0,0,0,3*DEG,2*DEG,-2*DEG],[0,-6,0,0,0,0],[0,6,0,0,0,0],[6,0,0,0,0,0]] as Twist[]) {
  const m = se3Exp(xi);
  const b = renderView(m, { intrinsics: K });
  const fb = new kern.Frame({ ...K, rgb: b.rgb.data, depth: b.depth.data });
  for (const fl of [3, 0]) {
    const r = kern.align(fa, fb, identity4(), { finestLevel: fl, maxIterationsCoarse: 100, maxIterationsFine: 100 });
    const e = se3Log(multiply4(r.pose, m));
    console.log(xi.map((x) => x.toFixed(2)).join(','), fl, r.levelIterations, r.rms.toFixed(2), r.gain.toFixed(3), r.bias.toFixed(1), r.validPoints, e.map((x, i) => (i < 3 ? x : x / DEG).toFixed(3)).join(' '));
  }
}
