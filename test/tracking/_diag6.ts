import { Phantom } from '../../src/synth/index.js';
import { writeRgbPng } from '../../src/engine/dataset/images.js';
import { loadTrackingKernels } from '../../src/workers/tracking/kernels.js';
const ph = new Phantom({ seed: 3, frames: 8, hard: true });
const k = loadTrackingKernels();
for (const i of [0, 4]) {
  const f = ph.renderFrame(i);
  await writeRgbPng(`/tmp/trk_hard_${i}.png`, f.rgb);
  const fr = new k.Frame({ ...ph.intrinsics, rgb: f.rgb.data, depth: f.depth.data });
  console.log(fr.info());
  let sat = 0; for (let p = 0; p < f.rgb.data.length; p += 3) if (Math.max(f.rgb.data[p]!, f.rgb.data[p+1]!, f.rgb.data[p+2]!) >= 250) sat++;
  console.log('sat frac', sat / (f.rgb.data.length / 3));
}
