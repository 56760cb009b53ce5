import { DatasetFrameSource } from './src/engine/capture/dataset-source.js';
import { loadTrackingKernels } from './src/workers/tracking/kernels.js';
const src = await DatasetFrameSource.open('samples/phantom');
const frames = []; for await (const f of src) frames.push(f);
const k = src.dataset.intrinsics;
const K = loadTrackingKernels();
for (let r = 0; r < 15; r++) for (const f of frames) new K.Frame({ rgb: f.image.data, width: k.width, height: k.height, depth: null, fx: k.fx, fy: k.fy, cx: k.cx, cy: k.cy, levels: 4, maxPoints: 12000, saturation: 250, dark: 12 });
