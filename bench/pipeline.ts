/**
 * Product-path benchmark (`npm run bench:pipeline`): network depth + photometric tracking + TSDF fusion
 * + incremental mesh, all stages together as the workstation runs them (src/engine/pipeline), on
 * samples/phantom and samples/phantom-hard. In one run it measures:
 *   - paced at the clip's rate (30 fps) as a live source (drop-oldest intake): frames processed and
 *     dropped, processed fps, latency frame-in -> pose and frame-in -> mesh update (p50/p95), CPU per
 *     stage (per-thread CPU from /proc, threads attributed to the stage that created them);
 *   - unpaced as a file source (back-pressure, nothing dropped): throughput;
 *   - each stage alone on the same frames (the isolated kernel times), and the pipeline efficiency:
 *     their sum per frame divided by the product path's time per frame;
 *   - accuracy of both runs (ATE SE(3)/Sim(3), surface accuracy and completeness vs the ground truth),
 *     next to the identity-pose baseline, so speed is never bought with accuracy;
 *   - the fusion path alone (ground-truth depth and poses, every frame fused) against Open3D 0.16's
 *     in-process ScalableTSDFVolume.integrate on the same frames (Debian python3-open3d).
 * Frames are decoded before the clock starts (a live source's decoding happens in ffmpeg, another
 * process; bench:capture measures it). Options: --only phantom|phantom-hard, --runs N (paced runs per
 * sample, default 1).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatasetFrameSource } from '../src/engine/capture/dataset-source.js';
import { type DatasetInfo, readDatasetDepth } from '../src/engine/dataset/dataset.js';
import { GroundTruthPoseStage } from '../src/engine/pipeline/ground-truth-stages.js';
import { writeTrajectoryAndMesh } from '../src/engine/pipeline/output-folder.js';
import {
  DEFAULT_FUSION_SETTINGS,
  createFusionStage,
  createNetworkDepthStage,
  createTrackingStage,
} from '../src/engine/pipeline/product-stages.js';
import {
  LIVE_MESH_UPDATE_INTERVAL_MS,
  type ReconstructResult,
  runReconstruction,
} from '../src/engine/pipeline/reconstruct.js';
import type { DepthEstimate, DepthStage, PoseStage } from '../src/engine/pipeline/stages.js';
import { evaluateReconstruction } from '../src/eval/evaluate.js';
import { type DepthImage, type VideoFrame, sharedBytes, sharedFloats } from '../src/shared/frames.js';
import { identity4 } from '../src/shared/math/mat4.js';
import { threadBudget } from '../src/workers/thread-budget.js';
import { ThreadLedger } from './thread-cpu.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';
/** One ledger for the whole run: the native pool is created once per process, at a kernel's first use. */
const ledger = new ThreadLedger();
const NATIVE_POOL = 'native thread pool (tracking + fusion)';

interface Args {
  only: string | null;
  runs: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: null, runs: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') args.only = argv[++i] ?? null;
    else if (a === '--runs') {
      args.runs = Number(argv[++i]);
      if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs needs an integer >= 1');
    } else throw new Error(`unknown argument '${a}' (options: --only phantom|phantom-hard, --runs N)`);
  }
  return args;
}

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
};
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** A fresh frame buffer, as a source delivers one (on a SharedArrayBuffer, src/shared/frames.ts). */
function copyFrame(frame: VideoFrame): VideoFrame {
  const data = sharedBytes(frame.image.data.length);
  data.set(frame.image.data);
  return { ...frame, image: { ...frame.image, data } };
}

/** The preloaded frames as a live source: each frame is offered at its own time, whether or not taken. */
async function* paced(
  frames: VideoFrame[],
  fps: number,
  entered: Map<number, number>,
): AsyncGenerator<VideoFrame> {
  const t0 = performance.now() + 50;
  for (let i = 0; i < frames.length; i++) {
    const due = t0 + (i * 1000) / fps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    entered.set(frames[i]!.index, performance.now());
    yield copyFrame(frames[i]!);
  }
}

async function* unpaced(frames: VideoFrame[], entered: Map<number, number>): AsyncGenerator<VideoFrame> {
  for (const frame of frames) {
    entered.set(frame.index, performance.now());
    yield copyFrame(frame);
  }
}

interface Accuracy {
  ateSe3: number;
  ateSim3: number;
  surfaceMedian: number;
  completeness: number;
}

async function accuracyOf(
  ds: DatasetInfo,
  result: ReconstructResult,
  work: string,
  name: string,
): Promise<Accuracy> {
  const out = path.join(work, name);
  await mkdir(out, { recursive: true });
  await writeTrajectoryAndMesh(out, result);
  const m = await evaluateReconstruction(ds.root, out);
  return {
    ateSe3: m.trajectory?.ateSe3.rmse ?? NaN,
    ateSim3: m.trajectory?.ateSim3.rmse ?? NaN,
    surfaceMedian: m.surface?.accuracyMedian ?? NaN,
    completeness: m.surface?.completeness ?? NaN,
  };
}

/** The trivial baseline: the camera never moves (identity pose for every frame). */
async function identityBaseline(ds: DatasetInfo, frames: VideoFrame[], work: string): Promise<number> {
  const out = path.join(work, 'identity');
  await mkdir(out, { recursive: true });
  const result: ReconstructResult = {
    report: {} as ReconstructResult['report'],
    trajectory: frames.map((fr) => ({ timestamp: fr.timestamp, pose: identity4() })),
    mesh: null,
  };
  await writeTrajectoryAndMesh(out, result);
  const m = await evaluateReconstruction(ds.root, out);
  return m.trajectory?.ateSe3.rmse ?? NaN;
}

interface PathRun {
  result: ReconstructResult;
  poseLatency: number[];
  meshLatency: number[];
  cpu: Map<string, number>;
  wall: number;
}

/**
 * `everyFrame`: the schedule this product path had before (network depth on every frame, tracked with
 * the geometric term on it), kept as the named baseline of the same run.
 */
async function runProductPath(
  frames: VideoFrame[],
  ds: DatasetInfo,
  live: boolean,
  everyFrame = false,
): Promise<PathRun> {
  const k = ds.intrinsics;
  ledger.claim(NATIVE_POOL);
  const network = await createNetworkDepthStage({ intrinsics: k });
  // Without the split methods the pipeline runs the every-frame schedule.
  const depth: DepthStage = everyFrame
    ? {
        name: network.name,
        executionProvider: network.executionProvider,
        estimate: (frame) => network.estimate(frame),
        close: () => network.close(),
      }
    : network;
  ledger.claim('depth (worker + onnxruntime)');
  const poses = await createTrackingStage({ intrinsics: k });
  ledger.claim('tracking (worker)');
  const fusion = await createFusionStage({ ...DEFAULT_FUSION_SETTINGS });
  ledger.claim('fusion + mesh (worker)');
  const entered = new Map<number, number>();
  const source = live ? paced(frames, k.fps, entered) : unpaced(frames, entered);
  const poseLatency: number[] = [];
  const meshLatency: number[] = [];
  try {
    ledger.begin();
    const t0 = performance.now();
    const result = await runReconstruction({
      source,
      intrinsics: k,
      depth,
      poses,
      fusion,
      live,
      meshUpdateIntervalMs: LIVE_MESH_UPDATE_INTERVAL_MS,
      onEvent: (e) => {
        const now = performance.now();
        if (e.type === 'frame' && e.pose) poseLatency.push(now - entered.get(e.index)!);
        if (e.type === 'mesh') meshLatency.push(now - entered.get(e.frameIndex)!);
      },
    });
    const wall = performance.now() - t0;
    return { result, poseLatency, meshLatency, cpu: ledger.end(NATIVE_POOL), wall };
  } finally {
    await Promise.all([depth.close(), poses.close(), fusion.close()]);
  }
}

interface Isolated {
  poseHeadMs: number;
  depthMs: number;
  trackingMs: number;
  keyframeRatio: number;
  fusionMsPerFrame: number;
  meshMsPerFrame: number;
  /** What the stages cost per frame under the keyframe schedule, each alone. */
  sumPerFrame: number;
}

/** Each stage alone on the same frames, one call at a time: what the kernels cost without the others. */
async function isolatedStages(frames: VideoFrame[], ds: DatasetInfo): Promise<Isolated> {
  const k = ds.intrinsics;
  ledger.begin();
  const depthStage = await createNetworkDepthStage({ intrinsics: k });
  const motions: (Float64Array | null)[] = [];
  const depths: DepthImage[] = [];
  const poseHeadMs: number[] = [];
  const depthMs: number[] = [];
  try {
    for (const fr of frames) {
      let t = performance.now();
      motions.push(await depthStage.estimateMotion!(copyFrame(fr)));
      poseHeadMs.push(performance.now() - t);
      t = performance.now();
      depths.push(await depthStage.estimateDepth!(copyFrame(fr)));
      depthMs.push(performance.now() - t);
    }
  } finally {
    await depthStage.close();
  }
  const tracker = await createTrackingStage({ intrinsics: k });
  const trackingMs: number[] = [];
  const keyframes: { frame: VideoFrame; depth: DepthImage; pose: Float64Array }[] = [];
  try {
    for (let i = 0; i < frames.length; i++) {
      const fr = copyFrame(frames[i]!);
      const t = performance.now();
      let r = await tracker.track({ frame: fr, depth: null, relativePose: motions[i]! });
      if (r.needsKeyframe) r = await tracker.addKeyframe!(fr, depths[i]!, r);
      trackingMs.push(performance.now() - t);
      if (r.isKeyframe && r.pose) keyframes.push({ frame: frames[i]!, depth: depths[i]!, pose: r.pose });
    }
  } finally {
    await tracker.close();
  }
  ledger.end(NATIVE_POOL);
  const fusion = await createFusionStage({ ...DEFAULT_FUSION_SETTINGS });
  let fusionMs = 0;
  let meshMs = 0;
  try {
    for (const kf of keyframes) {
      let t = performance.now();
      await fusion.integrate({ rgb: kf.frame.image, depth: kf.depth, pose: kf.pose, intrinsics: k });
      fusionMs += performance.now() - t;
      t = performance.now();
      await fusion.extractChanged();
      meshMs += performance.now() - t;
    }
  } finally {
    await fusion.close();
  }
  // The first calls pay one-off set-up (sessions, pyramids, pools): leave them out of the means.
  const r = {
    poseHeadMs: mean(poseHeadMs.slice(2)),
    depthMs: mean(depthMs.slice(2)),
    trackingMs: mean(trackingMs.slice(2)),
    keyframeRatio: keyframes.length / frames.length,
    fusionMsPerFrame: fusionMs / frames.length,
    meshMsPerFrame: meshMs / frames.length,
  };
  return {
    ...r,
    sumPerFrame:
      r.poseHeadMs + r.trackingMs + r.depthMs * r.keyframeRatio + r.fusionMsPerFrame + r.meshMsPerFrame,
  };
}

/** Network depth fused with ground-truth poses: the surface accuracy perfect tracking would give. */
async function groundTruthPoseBound(frames: VideoFrame[], ds: DatasetInfo, work: string): Promise<Accuracy> {
  const depth = await createNetworkDepthStage({ intrinsics: ds.intrinsics });
  const fusion = await createFusionStage({ ...DEFAULT_FUSION_SETTINGS });
  try {
    const entered = new Map<number, number>();
    const result = await runReconstruction({
      source: unpaced(frames, entered),
      intrinsics: ds.intrinsics,
      depth,
      poses: new GroundTruthPoseStage(ds),
      fusion,
      live: false,
    });
    return await accuracyOf(ds, result, work, 'gt-poses');
  } finally {
    await Promise.all([depth.close(), fusion.close()]);
  }
}

/** Ground-truth depth, already decoded: the fusion path alone must not be charged for PNG reading. */
class PreloadedDepth implements DepthStage {
  readonly name = 'depth:gt-preloaded';
  readonly executionProvider = null;
  constructor(private readonly depths: DepthImage[]) {}
  async estimate(frame: VideoFrame): Promise<DepthEstimate> {
    const d = this.depths[frame.index]!;
    const data = sharedFloats(d.data.length);
    data.set(d.data);
    return { depth: { ...d, data }, relativePose: null };
  }
  async close(): Promise<void> {}
}

function open3dMissing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import open3d, numpy'], { encoding: 'utf8' });
  return r.status === 0 ? null : 'python3-open3d is not installed (apt-get install -y python3-open3d)';
}

async function fusionPath(
  frames: VideoFrame[],
  ds: DatasetInfo,
  work: string,
): Promise<{ navwsMs: number; open3dMs: number | null; note: string }> {
  const depths: DepthImage[] = [];
  for (let i = 0; i < frames.length; i++) depths.push(await readDatasetDepth(ds, i));
  const poses: PoseStage = new GroundTruthPoseStage(ds);
  const fusion = await createFusionStage({ ...DEFAULT_FUSION_SETTINGS });
  let navwsMs: number;
  try {
    const entered = new Map<number, number>();
    const t0 = performance.now();
    await runReconstruction({
      source: unpaced(frames, entered),
      intrinsics: ds.intrinsics,
      depth: new PreloadedDepth(depths),
      poses,
      fusion,
      live: false,
    });
    navwsMs = (performance.now() - t0) / frames.length;
  } finally {
    await fusion.close();
  }
  const missing = open3dMissing();
  if (missing) return { navwsMs, open3dMs: null, note: `Open3D baseline MISSING: ${missing}` };
  const k = ds.intrinsics;
  const dir = path.join(work, 'o3d-frames');
  await mkdir(dir, { recursive: true });
  const px = k.width * k.height;
  const depthAll = new Float32Array(frames.length * px);
  const rgbAll = new Uint8Array(frames.length * px * 3);
  const posesAll = new Float64Array(frames.length * 16);
  let maxDepth = 0;
  for (let i = 0; i < frames.length; i++) {
    depthAll.set(depths[i]!.data, i * px);
    rgbAll.set(frames[i]!.image.data, i * px * 3);
    posesAll.set(ds.groundTruth![i]!.pose, i * 16);
    for (const d of depths[i]!.data) if (d > maxDepth) maxDepth = d;
  }
  await writeFile(path.join(dir, 'depth.f32'), depthAll);
  await writeFile(path.join(dir, 'rgb.u8'), rgbAll);
  await writeFile(path.join(dir, 'poses.f64'), new Uint8Array(posesAll.buffer));
  await writeFile(
    path.join(dir, 'meta.json'),
    JSON.stringify({
      frames: frames.length,
      width: k.width,
      height: k.height,
      intrinsics: { fx: k.fx, fy: k.fy, cx: k.cx, cy: k.cy },
    }),
  );
  const voxel = DEFAULT_FUSION_SETTINGS.voxelSize;
  const stdout = execFileSync(
    PYTHON,
    [
      path.join(root, 'bench', 'open3d_fusion.py'),
      '--frames',
      dir,
      '--voxel',
      String(voxel),
      '--trunc',
      String(4 * voxel),
      '--max-depth',
      String(Math.ceil(maxDepth + 1)),
      '--extract-runs',
      '1',
      '--out',
      path.join(work, 'o3d.ply'),
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const o3d = JSON.parse(stdout.trim().split('\n').pop()!) as { integrateMs: number[] };
  // Like for like: the pipeline's figure is its wall time over all frames (first frames' block
  // allocation included), so Open3D's is its integrate time summed over the same frames.
  return {
    navwsMs,
    open3dMs: mean(o3d.integrateMs),
    note: `Open3D integrate median ${f(quantile(o3d.integrateMs, 0.5), 2)} ms`,
  };
}

async function loadFrames(dir: string): Promise<{ ds: DatasetInfo; frames: VideoFrame[] }> {
  const source = await DatasetFrameSource.open(dir);
  const frames: VideoFrame[] = [];
  for await (const fr of source) frames.push(fr);
  return { ds: source.dataset, frames };
}

function cpuLine(cpu: Map<string, number>, wallMs: number): string {
  const total = [...cpu.values()].reduce((a, b) => a + b, 0);
  const parts = [...cpu.entries()]
    .filter(([, s]) => s > 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([g, s]) => `${g} ${f((100 * s * 1000) / wallMs, 0)}%`);
  return `${parts.join(', ')}; total ${f((100 * total * 1000) / wallMs, 0)}% of one core (${os.availableParallelism()} cores)`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const budget = threadBudget();
  console.log(
    `product path: network depth + photometric tracking + TSDF fusion (${DEFAULT_FUSION_SETTINGS.voxelSize} mm) + live mesh updates (at most every ${LIVE_MESH_UPDATE_INTERVAL_MS} ms), as the workstation runs it`,
  );
  console.log(
    `thread budget on ${budget.cores} cores: onnxruntime ${budget.onnxThreads} intra-op thread(s), spinning ${budget.onnxSpinning ? 'on' : 'off'}; native pool ${budget.nativeThreads} thread(s)`,
  );
  const work = await mkdtemp(path.join(os.tmpdir(), 'navws-bench-pipeline-'));
  const targets: string[] = [];
  try {
    for (const name of ['phantom', 'phantom-hard']) {
      if (args.only && args.only !== name) continue;
      const dir = path.join(root, 'samples', name);
      if (!existsSync(path.join(dir, 'intrinsics.json'))) {
        console.log(`\n${name}: samples/${name} missing, skipped`);
        continue;
      }
      const { ds, frames } = await loadFrames(dir);
      const fps = ds.intrinsics.fps;
      console.log(
        `\n== samples/${name}: ${frames.length} frames ${ds.intrinsics.width}x${ds.intrinsics.height} @ ${fps} fps`,
      );
      const iso = await isolatedStages(frames, ds);
      const kernelSum = iso.sumPerFrame;
      console.log(
        `isolated stages: pose head ${f(iso.poseHeadMs)} ms/frame, tracking ${f(iso.trackingMs)} ms/frame (incl. keyframe builds), depth network ${f(iso.depthMs)} ms/call on ${f(100 * iso.keyframeRatio, 0)}% of frames (keyframes), fusion ${f(iso.fusionMsPerFrame, 2)} ms/frame, mesh ${f(iso.meshMsPerFrame, 2)} ms/frame; sum ${f(kernelSum)} ms/frame`,
      );

      const file = await runProductPath(frames, ds, false);
      const fileFps = (1000 * file.result.report.framesProcessed) / file.wall;
      const perFrame = file.wall / frames.length;
      const efficiency = kernelSum / perFrame;
      const fileAcc = await accuracyOf(ds, file.result, work, `${name}-file`);
      const before = await runProductPath(frames, ds, false, true);
      const beforeAcc = await accuracyOf(ds, before.result, work, `${name}-before`);
      const beforeFps = (1000 * before.result.report.framesProcessed) / before.wall;
      console.log(
        `unpaced (file source): ${file.result.report.framesProcessed}/${frames.length} frames, ${f(fileFps)} fps (${f(perFrame)} ms/frame), ${file.result.report.keyframes} keyframes; schedule ${file.result.report.schedule}, onnxruntime provider ${file.result.report.executionProvider}`,
      );
      console.log(`  CPU: ${cpuLine(file.cpu, file.wall)}`);
      console.log(`  pipeline efficiency (isolated sum / product-path time per frame): ${f(efficiency, 2)}`);

      for (let run = 0; run < args.runs; run++) {
        const live = await runProductPath(frames, ds, true);
        const r = live.result.report;
        const liveAcc = await accuracyOf(ds, live.result, work, `${name}-live-${run}`);
        console.log(
          `paced ${fps} fps (live source): processed ${r.framesProcessed}, dropped ${r.framesDropped} of ${r.framesIn}; ${f((1000 * r.framesProcessed) / live.wall)} fps processed; ${r.keyframes} keyframes, ${r.lostFrames} lost`,
        );
        console.log(
          `  latency frame-in -> pose   p50 ${f(quantile(live.poseLatency, 0.5))} ms  p95 ${f(quantile(live.poseLatency, 0.95))} ms`,
        );
        console.log(
          `  latency frame-in -> mesh   p50 ${f(quantile(live.meshLatency, 0.5))} ms  p95 ${f(quantile(live.meshLatency, 0.95))} ms  (${live.meshLatency.length} updates)`,
        );
        console.log(`  CPU: ${cpuLine(live.cpu, live.wall)}`);
        console.log(
          `  accuracy: ATE ${f(liveAcc.ateSe3, 2)} mm SE(3), ${f(liveAcc.ateSim3, 2)} mm Sim(3); surface median ${f(liveAcc.surfaceMedian, 2)} mm, completeness ${f(liveAcc.completeness, 3)}`,
        );
        if (name === 'phantom' && run === 0) {
          const p95 = quantile(live.poseLatency, 0.95);
          targets.push(
            `${r.framesDropped === 0 ? 'PASS' : 'FAIL'} 0 processing drops at ${fps} fps (${r.framesDropped})`,
            `${p95 < 100 ? 'PASS' : 'FAIL'} latency p95 < 100 ms (${f(p95)})`,
            `${fileFps >= 30 ? 'PASS' : 'FAIL'} unpaced >= 30 fps (${f(fileFps)})`,
            `${efficiency >= 0.7 ? 'PASS' : 'FAIL'} pipeline efficiency >= 0.7 (${f(efficiency, 2)})`,
          );
        }
      }
      const identity = await identityBaseline(ds, frames, work);
      const bound = await groundTruthPoseBound(frames, ds, work);
      console.log(
        `accuracy, unpaced: ATE ${f(fileAcc.ateSe3, 2)} mm SE(3), ${f(fileAcc.ateSim3, 2)} mm Sim(3); surface median ${f(fileAcc.surfaceMedian, 2)} mm, completeness ${f(fileAcc.completeness, 3)}`,
      );
      console.log(
        `  baseline, the previous schedule (depth network on every frame, geometric term): unpaced ${f(beforeFps)} fps; ATE ${f(beforeAcc.ateSe3, 2)} mm SE(3), ${f(beforeAcc.ateSim3, 2)} mm Sim(3); surface median ${f(beforeAcc.surfaceMedian, 2)} mm, completeness ${f(beforeAcc.completeness, 3)}`,
      );
      console.log(
        `  baselines: identity pose (camera never moves) ATE ${f(identity, 2)} mm; network depth + ground-truth poses (every frame fused): surface median ${f(bound.surfaceMedian, 2)} mm, completeness ${f(bound.completeness, 3)}`,
      );

      const fp = await fusionPath(frames, ds, work);
      if (fp.open3dMs === null)
        console.log(`fusion path alone (gt depth + poses): ${f(fp.navwsMs, 2)} ms/frame; ${fp.note}`);
      else {
        console.log(
          `fusion path alone (gt depth + poses, every frame fused): NavWS pipeline ${f(fp.navwsMs, 2)} ms/frame (wall / frames) vs Open3D in-process integrate ${f(fp.open3dMs, 2)} ms/frame (summed / frames; ${fp.note}): ${f(fp.open3dMs / fp.navwsMs, 2)}x`,
        );
        if (name === 'phantom')
          targets.push(
            `${fp.navwsMs <= fp.open3dMs ? 'PASS' : 'FAIL'} fusion path at least as fast as Open3D's integrate (${f(fp.navwsMs, 2)} vs ${f(fp.open3dMs, 2)} ms)`,
          );
      }
    }
    if (targets.length) console.log(`\ntargets (samples/phantom): ${targets.join('; ')}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:pipeline: ${(err as Error).message}`);
  process.exit(1);
});
