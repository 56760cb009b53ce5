import { identity4, multiply4 } from '../../src/shared/math/mat4.js';
import { type Twist, se3Exp, se3Log } from '../../src/shared/math/se3.js';
import { loadTrackingKernels } from '../../src/workers/tracking/kernels.js';
import { renderView, testIntrinsics } from './analytic-scene.js';
const K = testIntrinsics(256, 192);
const kern = loadTrackingKernels();
const DEG = Math.PI / 180;
for (const [xi, sc] of [
  [[2, -1.5, 3, 0, 0, 0], {}],
  [[0, 0, 3, 0, 0, 0], {}],
  [[2, -1.5, 0, 0, 0, 0], {}],
  [[4, -3, 2, 3 * DEG, 2 * DEG, -2 * DEG], { noise: 2, seed: 7 }],
  [[4, -3, 2, 3 * DEG, 2 * DEG, -2 * DEG], {}],
  [[2, -1.5, 1, 1.5 * DEG, 1 * DEG, -1 * DEG], {}],
] as [Twist, object][]) {
  const m = se3Exp(xi);
  const a = renderView(identity4(), { intrinsics: K, ...sc });
  const b = renderView(m, { intrinsics: K, ...sc });
  const fa = new kern.Frame({ ...K, rgb: a.rgb.data, depth: a.depth.data });
  const fb = new kern.Frame({ ...K, rgb: b.rgb.data, depth: b.depth.data });
  for (const levels of [4, 3]) {
    const fa2 = new kern.Frame({ ...K, rgb: a.rgb.data, depth: a.depth.data, levels });
    const fb2 = new kern.Frame({ ...K, rgb: b.rgb.data, depth: b.depth.data, levels });
    const r = kern.align(fa2, fb2, identity4());
    const e = se3Log(multiply4(r.pose, m));
    console.log(levels, r.ok, r.levelIterations, r.rms.toFixed(2), r.gain.toFixed(3), r.bias.toFixed(1), r.validPoints, r.inlierRatio.toFixed(2), e.map((x, i) => (i < 3 ? x : x / DEG).toFixed(3)).join(' '));
  }
  void fa; void fb;
}
