import { DatasetFrameSource } from './src/engine/capture/dataset-source.js';
import { loadTrackingKernels } from './src/workers/tracking/kernels.js';
import { PhotometricTracker } from './src/workers/tracking/tracker.js';
import { readDatasetDepth } from './src/engine/dataset/dataset.js';
const src = await DatasetFrameSource.open('samples/phantom');
const frames = []; for await (const f of src) frames.push(f);
const depths = []; for (let i = 0; i < frames.length; i++) depths.push(await readDatasetDepth(src.dataset, i));
const k = src.dataset.intrinsics;
const K = loadTrackingKernels();
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
let c = cpu();
for (let r = 0; r < 3; r++) for (const f of frames) new K.Frame({ rgb: f.image.data, width: k.width, height: k.height, depth: null, fx: k.fx, fy: k.fy, cx: k.cx, cy: k.cy, levels: 4, maxPoints: 12000, saturation: 250, dark: 12 });
console.log('Frame (no depth) cpu ms', ((cpu() - c) / 180).toFixed(2));
c = cpu();
for (let r = 0; r < 20; r++) new K.Frame({ rgb: frames[0]!.image.data, width: k.width, height: k.height, depth: depths[0]!.data, fx: k.fx, fy: k.fy, cx: k.cx, cy: k.cy, levels: 4, maxPoints: 12000, saturation: 250, dark: 12 });
console.log('Frame (depth) cpu ms', ((cpu() - c) / 20).toFixed(2));
const tr = new PhotometricTracker({ intrinsics: k });
c = cpu(); let iters = 0;
for (let i = 0; i < frames.length; i++) {
  const r = tr.track({ index: i, timestamp: i / 30, rgb: frames[i]!.image, depth: null });
  if (r.needsKeyframe) tr.addKeyframe({ index: i, depth: depths[i]! });
  iters += r.measures.iterations;
}
console.log('track cpu ms/frame', ((cpu() - c) / frames.length).toFixed(2), 'iterations/frame', (iters / frames.length).toFixed(1), 'kf', tr.keyframeCount);
