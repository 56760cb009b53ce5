/**
 * Tracking benchmark (`npm run bench:tracking`): NavWS photometric tracker vs Open3D 0.16
 * compute_rgbd_odometry (colour term and hybrid term, frame-to-frame chained), on phantom sequences
 * with ground-truth depth: samples/phantom (slow motion) and samples/phantom-hard (fast motion, blur,
 * smoke, highlights); when a sample is missing, the sequence is rendered with the phantom generator
 * into a temporary folder. Prints ATE (SE(3)-aligned), RPE, the method's tracking measures against
 * ground truth (src/eval/tracking-metrics.ts), ms per frame, lost frames, and ratios.
 *
 * Options: --frames N (default: all), --only phantom|phantom-hard.
 * Needs Debian's python3-open3d for the baseline (/usr/bin/python3); without it only NavWS is measured.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type DatasetInfo,
  DatasetWriter,
  openDataset,
  readDatasetDepth,
  readDatasetRgb,
} from '../src/engine/dataset/dataset.js';
import { computeTrackingMetrics } from '../src/eval/tracking-metrics.js';
import { type PosePair, absoluteTrajectoryError, relativePoseError } from '../src/eval/trajectory-metrics.js';
import type { DepthImage, RgbImage } from '../src/shared/frames.js';
import { type Mat4, mat4FromArray } from '../src/shared/math/mat4.js';
import { writePhantomDataset } from '../src/synth/index.js';
import { TrackerClient, type TrackerOptions } from '../src/workers/tracking/client.js';
import { loadTrackingKernels } from '../src/workers/tracking/kernels.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';

interface Args {
  frames: number | null;
  only: string | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { frames: null, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--frames') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 3) throw new Error('--frames needs an integer >= 3');
      args.frames = n;
    } else if (a === '--only') {
      args.only = argv[++i] ?? null;
    } else {
      throw new Error(`unknown argument '${a}' (options: --frames N, --only phantom|phantom-hard)`);
    }
  }
  return args;
}

interface Sequence {
  name: string;
  ds: DatasetInfo;
  frames: number;
  rgb: RgbImage[];
  /** Depth given to the trackers (mm). */
  depth: DepthImage[];
  /** Exact depth, for the evaluation (src/eval/tracking-metrics.ts). */
  gtDepth: DepthImage[];
  truth: Mat4[];
}

async function loadSequence(
  name: string,
  hard: boolean,
  maxFrames: number | null,
  tmp: string,
): Promise<Sequence> {
  let dir = path.join(root, 'samples', name);
  let ds: DatasetInfo | null;
  try {
    ds = existsSync(dir) ? await openDataset(dir) : null;
    if (ds && (!ds.groundTruth || ds.depthFiles.length === 0 || ds.frameCount === null)) ds = null;
  } catch (err) {
    console.log(`  ${dir}: not usable (${(err as Error).message}); rendering instead`);
    ds = null;
  }
  if (!ds) {
    dir = path.join(tmp, name);
    const frames = maxFrames ?? (hard ? 30 : 60);
    console.log(`  rendering ${name} (${frames} frames) with the phantom generator into ${dir}`);
    await writePhantomDataset(dir, { seed: hard ? 2 : 1, frames, hard });
    ds = await openDataset(dir);
  }
  const n = Math.min(ds.frameCount ?? 0, maxFrames ?? Infinity);
  const rgb: RgbImage[] = [];
  const depth: DepthImage[] = [];
  for (let i = 0; i < n; i++) {
    rgb.push(await readDatasetRgb(ds, i));
    depth.push(await readDatasetDepth(ds, i));
  }
  if (ds.video) {
    // Open3D's script reads PNG frames: give it the very frames NavWS decoded from the clip.
    const copy = path.join(tmp, `${name}-png`);
    const writer = await DatasetWriter.create(copy, ds.intrinsics, true);
    for (let i = 0; i < n; i++) {
      await writer.writeRgb(i, rgb[i]!);
      await writer.writeDepth(i, depth[i]!);
    }
    await writer.writeGroundTruth(ds.groundTruth!.slice(0, n));
    ds = await openDataset(copy);
  }
  return {
    name,
    ds,
    frames: n,
    rgb,
    depth,
    gtDepth: depth,
    truth: ds.groundTruth!.slice(0, n).map((p) => p.pose),
  };
}

/**
 * The same sequence with depth as a depth network would give it: every frame scaled by its own random
 * factor (±5%) and a smooth ±2% ripple; written as a dataset so Open3D sees the same depth.
 */
async function withNetworkLikeDepth(seq: Sequence, tmp: string): Promise<Sequence> {
  const dir = path.join(tmp, `${seq.name}-noisy-depth`);
  const writer = await DatasetWriter.create(dir, seq.ds.intrinsics, true);
  for (const [i, img] of seq.rgb.entries()) await writer.writeRgb(i, img);
  let state = 12345;
  const rand = (): number => ((state = (state * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const w = seq.ds.intrinsics.width;
  const depth = seq.depth.map((d) => {
    const scale = 1 + 0.05 * rand();
    const phase = 3 * rand();
    const data = d.data.map(
      (z, p) =>
        z * scale * (1 + 0.02 * Math.sin((p % w) / 25 + phase) * Math.cos(Math.floor(p / w) / 31 - phase)),
    );
    return { width: d.width, height: d.height, data };
  });
  for (const [i, d] of depth.entries()) await writer.writeDepth(i, d);
  await writer.writeGroundTruth(seq.truth.map((pose, i) => ({ timestamp: i / seq.ds.intrinsics.fps, pose })));
  const ds = await openDataset(dir);
  return { ...seq, name: `${seq.name} + network-like depth (±5% scale/frame, ±2% ripple)`, ds, depth };
}

interface MethodResult {
  method: string;
  poses: (Mat4 | null)[];
  ms: number[];
  lost: number;
  note?: string;
}

async function runNavws(
  seq: Sequence,
  method: string,
  options: Omit<TrackerOptions, 'intrinsics'>,
): Promise<MethodResult> {
  const k = seq.ds.intrinsics;
  const client = TrackerClient.start({ intrinsics: k, ...options });
  const poses: (Mat4 | null)[] = [];
  const ms: number[] = [];
  let lost = 0;
  let keyframes = 0;
  try {
    for (let i = 0; i < seq.frames; i++) {
      const r = await client.track({
        index: i,
        timestamp: i / k.fps,
        rgb: seq.rgb[i]!,
        depth: seq.depth[i]!,
      });
      poses.push(r.pose);
      if (i > 0) ms.push(r.measures.ms);
      if (r.state === 'lost') lost++;
      if (r.isKeyframe) keyframes++;
    }
  } finally {
    await client.close();
  }
  return { method, poses, ms, lost, note: `${keyframes} keyframes` };
}

function runOpen3d(seq: Sequence, term: 'color' | 'hybrid'): MethodResult | string {
  const script = path.join(root, 'bench', 'open3d_odometry.py');
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const p = spawnSync(PYTHON, [script, seq.ds.root, term, String(seq.frames)], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: {
      ...process.env,
      OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? String(os.availableParallelism()),
    },
  });
  let out: { error?: string; poses?: number[][]; ms?: number[]; failed?: number[] };
  try {
    out = JSON.parse(p.stdout.trim().split('\n').at(-1) ?? '{}');
  } catch {
    return `open3d_odometry.py failed (exit ${p.status}): ${p.stderr.trim().split('\n').at(-1) ?? ''}`;
  }
  if (out.error || !out.poses || !out.ms)
    return out.error ?? `open3d_odometry.py gave no poses (exit ${p.status})`;
  return {
    method: `open3d-${term}`,
    poses: out.poses.map((m) => mat4FromArray(m)),
    ms: out.ms,
    lost: out.failed?.length ?? 0,
  };
}

interface Scores {
  ate: number;
  rpeT: number;
  rpeR: number;
  reproj: number;
  triangulated: number;
  msMean: number;
  msP95: number;
  lost: number;
  tracked: number;
}

function score(seq: Sequence, r: MethodResult): Scores {
  const pairs: PosePair[] = [];
  r.poses.forEach((p, i) => {
    if (p) pairs.push({ estimated: p, truth: seq.truth[i]!, index: i });
  });
  const ate = pairs.length >= 3 ? absoluteTrajectoryError(pairs, false).rmse : NaN;
  const rpe = pairs.length >= 2 ? relativePoseError(pairs, 1) : null;
  // The method's measures against ground truth, frame-to-frame (keyframe = previous frame).
  let reproj = 0;
  let tri = 0;
  let counted = 0;
  for (let i = 1; i < seq.frames; i++) {
    const a = r.poses[i - 1];
    const b = r.poses[i];
    if (!a || !b) continue;
    const m = computeTrackingMetrics(
      seq.ds.intrinsics,
      seq.gtDepth[i - 1]!,
      { estimated: a, truth: seq.truth[i - 1]! },
      { estimated: b, truth: seq.truth[i]! },
      seq.gtDepth[i]!,
    );
    reproj += m.meanReprojectionError;
    tri += m.triangulatedPoints;
    counted++;
  }
  const sorted = [...r.ms].sort((x, y) => x - y);
  return {
    ate,
    rpeT: rpe?.translationRmse ?? NaN,
    rpeR: rpe?.rotationRmseDeg ?? NaN,
    reproj: counted ? reproj / counted : NaN,
    triangulated: counted ? tri / counted : 0,
    msMean: r.ms.reduce((s, x) => s + x, 0) / Math.max(1, r.ms.length),
    msP95: sorted[Math.floor(0.95 * (sorted.length - 1))] ?? NaN,
    lost: r.lost,
    tracked: pairs.length,
  };
}

async function benchSequence(seq: Sequence, summary: string[]): Promise<void> {
  const name = seq.name;
  console.log(`\n== ${name}`);
  const pathLength = seq.truth.slice(1).reduce((s, p, i) => {
    const q = seq.truth[i]!;
    return s + Math.hypot(p[3]! - q[3]!, p[7]! - q[7]!, p[11]! - q[11]!);
  }, 0);
  console.log(
    `  ${seq.frames} frames ${seq.ds.intrinsics.width}x${seq.ds.intrinsics.height} from ${seq.ds.root}; true path ${pathLength.toFixed(1)} mm`,
  );
  // The product default uses the frame's depth in a geometric term too (like Open3D's hybrid term);
  // 'navws-photo' is the purely photometric method (like Open3D's colour term).
  const results: MethodResult[] = [
    await runNavws(seq, 'navws', {}),
    await runNavws(seq, 'navws-photo', { depthWeight: 0 }),
  ];
  for (const term of ['color', 'hybrid'] as const) {
    const r = runOpen3d(seq, term);
    if (typeof r === 'string') console.log(`  open3d-${term}: NOT MEASURED — ${r}`);
    else results.push(r);
  }
  console.log(
    '  method          ATE[mm]  RPE-t[mm]  RPE-r[deg]  reproj[px]  triangulated  ms/frame  p95[ms]  lost  tracked',
  );
  const scores = new Map<string, Scores>();
  for (const r of results) {
    const s = score(seq, r);
    scores.set(r.method, s);
    console.log(
      `  ${r.method.padEnd(14)} ${f(s.ate).padStart(8)} ${f(s.rpeT).padStart(10)} ${f(s.rpeR).padStart(11)} ${f(s.reproj, 2).padStart(11)} ${f(s.triangulated, 0).padStart(13)} ${f(s.msMean, 1).padStart(9)} ${f(s.msP95, 1).padStart(8)} ${String(s.lost).padStart(5)} ${String(s.tracked).padStart(8)}${r.note ? `  (${r.note})` : ''}`,
    );
  }
  for (const [mine, base] of [
    ['navws', 'open3d-hybrid'],
    ['navws', 'open3d-color'],
    ['navws-photo', 'open3d-color'],
  ] as const) {
    const a = scores.get(mine)!;
    const b = scores.get(base);
    if (!b) continue;
    const line = `${mine} vs ${base}: ATE ratio ${f(a.ate / b.ate, 3)} (< 1 = better), speed-up ${f(b.msMean / a.msMean, 1)}x`;
    console.log(`  ${line}`);
    summary.push(`${name}: ${line}`);
  }
}

const f = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const kernels = loadTrackingKernels();
  console.log(
    `NavWS tracking benchmark — native kernels on ${kernels.threads()} thread(s), ${os.cpus().length} CPU(s) here`,
  );
  console.log(
    'Baseline: Open3D compute_rgbd_odometry (python3-open3d), frame-to-frame chained, depth gates in mm',
  );
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'navws-bench-tracking-'));
  const summary: string[] = [];
  try {
    for (const [name, hard] of [
      ['phantom', false],
      ['phantom-hard', true],
    ] as const) {
      if (args.only && args.only !== name) continue;
      const seq = await loadSequence(name, hard, args.frames, tmp);
      await benchSequence(seq, summary);
      if (!hard) await benchSequence(await withNetworkLikeDepth(seq, tmp), summary);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (summary.length) console.log(`\nSummary\n  ${summary.join('\n  ')}`);
  console.log(
    'Targets: ATE below open3d-color and no worse than open3d-hybrid; >= 5x faster per frame than either.',
  );
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exitCode = 1;
});
