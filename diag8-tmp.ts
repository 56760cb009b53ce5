import { DatasetFrameSource } from './src/engine/capture/dataset-source.js';
import { readDatasetDepth } from './src/engine/dataset/dataset.js';
import { GroundTruthPoseStage } from './src/engine/pipeline/ground-truth-stages.js';
import { createFusionStage, DEFAULT_FUSION_SETTINGS } from './src/engine/pipeline/product-stages.js';
import { runReconstruction } from './src/engine/pipeline/reconstruct.js';
const src = await DatasetFrameSource.open('samples/phantom');
const frames = []; for await (const f of src) frames.push(f);
const depths = []; for (let i = 0; i < frames.length; i++) depths.push(await readDatasetDepth(src.dataset, i));
for (let rep = 0; rep < 3; rep++) {
  const fusion = await createFusionStage({ ...DEFAULT_FUSION_SETTINGS });
  const t0 = performance.now();
  const r = await runReconstruction({ source: (async function*(){ for (const f of frames) yield {...f, image: {...f.image, data: f.image.data.slice()}}; })(), intrinsics: src.dataset.intrinsics,
    depth: { name: 'pre', executionProvider: null, async estimate(fr) { const d = depths[fr.index]!; return { depth: { ...d, data: d.data.slice() }, relativePose: null }; }, async close() {} },
    poses: new GroundTruthPoseStage(src.dataset), fusion, live: false });
  const wall = performance.now() - t0;
  console.log('per frame', (wall / frames.length).toFixed(2), JSON.stringify(Object.fromEntries(Object.entries(r.report.stages).map(([k, v]) => [k, v.meanMs.toFixed(2)]))));
  await fusion.close();
}
