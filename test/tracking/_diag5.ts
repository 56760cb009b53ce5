import { Phantom } from '../../src/synth/index.js';
import { PhotometricTracker } from '../../src/workers/tracking/tracker.js';
import { invertRigid, multiply4 } from '../../src/shared/math/mat4.js';
import { rotationAngle, translationLength } from '../../src/shared/math/se3.js';
const hard = process.argv[2] === 'hard';
const N = Number(process.argv[3] ?? 40);
let t0 = performance.now();
const ph = new Phantom({ seed: 3, frames: N, hard });
const frames = Array.from({ length: N }, (_, i) => ph.renderFrame(i));
console.log('render ms/frame', (performance.now() - t0) / N);
const tr = new PhotometricTracker({ intrinsics: ph.intrinsics });
let ms = 0;
for (const f of frames) {
  const r = tr.track({ index: f.index, timestamp: f.timestamp, rgb: f.rgb, depth: f.depth });
  ms += r.measures.ms;
  const e = r.pose ? multiply4(invertRigid(f.pose), r.pose) : null;
  if (f.index < 8 || f.index % 5 === 0 || r.state !== "tracking")
    console.log(f.index, r.state, r.isKeyframe ? 'KF' : '  ', r.reason, e ? translationLength(e).toFixed(3) : '-', e ? ((rotationAngle(e) * 180) / Math.PI).toFixed(3) : '-', r.measures.iterations, r.measures.finalError.toFixed(2), r.measures.gain.toFixed(3), r.measures.validPixels, r.measures.reprojectionErrorPx?.toFixed(3), r.measures.triangulatedPoints, r.measures.ms.toFixed(1), translationLength(f.pose).toFixed(2));
}
console.log('ms/frame', ms / N);
