import { Phantom } from '../../src/synth/index.js';
import { loadTrackingKernels } from '../../src/workers/tracking/kernels.js';
import { identity4, invertRigid, multiply4 } from '../../src/shared/math/mat4.js';
import { rotationAngle, translationLength } from '../../src/shared/math/se3.js';
const opts = JSON.parse(process.argv[2] ?? '{"hard":true}');
const ph = new Phantom({ seed: 3, frames: 8, ...opts });
const k = loadTrackingKernels();
const f0 = ph.renderFrame(0);
const fr0 = new k.Frame({ ...ph.intrinsics, rgb: f0.rgb.data, depth: f0.depth.data });
for (const i of (process.env.IDX ?? "1,2,4").split(",").map(Number)) {
  const f = ph.renderFrame(i);
  const fr = new k.Frame({ ...ph.intrinsics, rgb: f.rgb.data, depth: f.depth.data });
  const truth = invertRigid(f.pose); // T_i_0 (0 is world)
  for (const [nm, init] of [['truth', truth], ['id', identity4()]] as const) {
    for (const fl of [3, 2, 1, 0]) {
      const r = k.align(fr0, fr, init, { finestLevel: fl });
      const e = multiply4(r.pose, f.pose);
      console.log(i, nm, fl, r.levelIterations, r.rms.toFixed(2), r.sigma.toFixed(2), r.gain.toFixed(3), r.bias.toFixed(1), translationLength(e).toFixed(3), (rotationAngle(e) * 57.3).toFixed(3), 'gt step', translationLength(f.pose).toFixed(2), (rotationAngle(f.pose) * 57.3).toFixed(2));
    }
  }
}
