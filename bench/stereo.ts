/**
 * Stereo benchmark: NavWS's native semi-global matcher vs OpenCV's StereoSGBM (Debian python3-opencv, run
 * as a subprocess through /usr/bin/python3) on the same rectified pair, with the same disparity range and
 * the same metric code (src/eval/opencas-stereo.ts).
 *
 * Data: the Open-CAS porcine liver pair with its CT surface in the left camera frame (Maier-Hein et al.,
 * "Comparative validation of single-shot optical techniques for laparoscopic 3-D surface reconstruction",
 * IEEE TMI 2014; ../shared/data/real/opencas-liver). Both methods' parameters were tuned on this frame
 * (OpenCV: block size, P1/P2 factors and uniqueness by grid search; ours: P1/P2/uniqueness), so both get
 * the same advantage.
 *
 * Timing: ms per frame (median of --repeats calls after a warm-up), at 720x576 (the data's size) and at
 * 384x288 (area-downscaled, both methods get the same images). OpenCV's MODE_SGBM is single-threaded per
 * call; MODE_SGBM_3WAY is its parallel variant (cv::parallel_for_ over the pool OpenCV reports). Ours runs
 * on the native thread pool (its size is printed), and once more in a child process with one thread.
 *
 * Then the product path on a stereo phantom (src/synth rendered as a rectified pair, exact depth, poses and
 * mesh): `navws reconstruct --depth stereo` vs `--depth network` on the same frames, ATE and surface accuracy.
 *
 *   npm run bench:stereo -- [--data DIR] [--repeats 15] [--phantom-frames 60] [--phantom-seed 3] [--phantom-baseline 4]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readRgbPng, writeRgbPng } from '../src/engine/dataset/images.js';
import {
  type CtDepthError,
  type OpenCasAtSize,
  depthErrorVsCt,
  loadOpenCasRaw,
  loadOpenCasStereo,
  openCasAtSize,
} from '../src/eval/opencas-stereo.js';
import { parseStereoCalibration } from '../src/engine/dataset/stereo-calibration.js';
import { StereoDepthEngine } from '../src/workers/stereo/stereo-depth.js';
import type { DepthImage } from '../src/shared/frames.js';
import { DEFAULT_STEREO_MATCHER, FAST_STEREO_MATCHER } from '../src/workers/stereo/client.js';
import { SgmMatcher, type SgmOptions, stereoThreads } from '../src/workers/stereo/sgm.js';
import { writePhantomDataset } from '../src/synth/index.js';

const PYTHON = '/usr/bin/python3';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: path.join(root, '..', 'shared', 'data', 'real', 'opencas-liver') },
    repeats: { type: 'string', default: '15' },
    'phantom-frames': { type: 'string', default: '60' },
    'phantom-seed': { type: 'string', default: '3' },
    'phantom-baseline': { type: 'string', default: '4' },
    'timing-only': { type: 'boolean', default: false },
  },
});
const repeats = Number(args.repeats);

interface SizeSetup {
  width: number;
  height: number;
  /** Same search range for both methods: the liver lies at 29..45 px at 720x576. */
  minDisparity: number;
  numDisparities: number;
  /** OpenCV block size tuned at this size. */
  blockSize: number;
}

const SIZES: SizeSetup[] = [
  { width: 720, height: 576, minDisparity: 16, numDisparities: 48, blockSize: 15 },
  { width: 384, height: 288, minDisparity: 8, numDisparities: 32, blockSize: 9 },
];

/** Ours: the product path's settings (tuned on the liver frame, src/workers/stereo/client.ts). */
const OURS: SgmOptions = DEFAULT_STEREO_MATCHER;
/** Ours, the faster one-sweep setting (5 paths over 7x7-box census costs). */
const FAST: SgmOptions = FAST_STEREO_MATCHER;
const FAST_NAME = 'NavWS SGM fast (5 paths, 7x7 box of census)';

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function timeOurs(
  sample: OpenCasAtSize,
  setup: SizeSetup,
  options: SgmOptions = OURS,
): { ms: number; depth: DepthImage } {
  const m = new SgmMatcher(setup.width, setup.height, {
    ...options,
    minDisparity: setup.minDisparity,
    numDisparities: setup.numDisparities,
  });
  let r = m.depth(sample.left, sample.right, sample.geometry);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    r = m.depth(sample.left, sample.right, sample.geometry);
    times.push(performance.now() - t0);
  }
  return { ms: median(times), depth: r.depth };
}

interface OpenCvRun {
  ms: number;
  threads: number;
  version: string;
  depth: DepthImage;
}

async function runOpenCv(
  sample: OpenCasAtSize,
  setup: SizeSetup,
  mode: 'sgbm' | '3way',
  dir: string,
): Promise<OpenCvRun> {
  const tag = `${setup.width}x${setup.height}`;
  const left = path.join(dir, `left-${tag}.png`);
  const right = path.join(dir, `right-${tag}.png`);
  if (!existsSync(left)) {
    await writeRgbPng(left, sample.left);
    await writeRgbPng(right, sample.right);
  }
  const out = path.join(dir, `disp-${tag}-${mode}.f32`);
  const p = spawnSync(
    PYTHON,
    [
      path.join(root, 'bench', 'opencv_sgbm.py'),
      left,
      right,
      out,
      '--min-disparity',
      String(setup.minDisparity),
      '--num-disparities',
      String(setup.numDisparities),
      '--block-size',
      String(setup.blockSize),
      '--mode',
      mode,
      '--uniqueness',
      '10',
      // The same left-right tolerance as ours.
      '--lr-max-diff',
      String(OURS.lrMaxDiff ?? 1),
      '--repeats',
      String(repeats),
    ],
    { encoding: 'utf8' },
  );
  if (p.status !== 0) throw new Error(`opencv_sgbm.py failed (${p.status}): ${p.stderr || p.error?.message}`);
  const info = JSON.parse(p.stdout.trim().split('\n').pop()!) as {
    ms: number;
    threads: number;
    version: string;
  };
  const bytes = await readFile(out);
  const disparity = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const k = sample.geometry.intrinsics;
  const depth = new Float32Array(k.width * k.height);
  for (let i = 0; i < depth.length; i++) {
    const d = disparity[i]! - sample.geometry.disparityOffset;
    if (disparity[i]! > 0 && d > 0) depth[i] = (k.fx * sample.geometry.baselineMm) / d;
  }
  return { ...info, depth: { width: k.width, height: k.height, data: depth } };
}

function constantDepth(sample: OpenCasAtSize): DepthImage {
  const ct = Array.from(sample.ctDepth.data).filter((z) => z > 0);
  const z = median(ct);
  return {
    width: sample.ctDepth.width,
    height: sample.ctDepth.height,
    data: new Float32Array(ct.length ? sample.ctDepth.data.length : 0).fill(z),
  };
}

interface Row {
  method: string;
  size: string;
  threads: string;
  ms: number | null;
  err: CtDepthError;
}

const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '-');
const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;

async function main(): Promise<void> {
  if (!existsSync(args.data)) {
    console.log(
      `bench:stereo: ${args.data} not found (the Open-CAS liver pair of ../shared/data/real); skipped`,
    );
    return;
  }
  const data = await loadOpenCasStereo(args.data);
  if (args['timing-only']) {
    const out: Record<string, number> = {};
    for (const s of SIZES) {
      const sample = openCasAtSize(data, s.width, s.height);
      out[`${s.width}x${s.height}`] = timeOurs(sample, s).ms;
      out[`${s.width}x${s.height} fast`] = timeOurs(sample, s, FAST).ms;
    }
    console.log(JSON.stringify({ threads: stereoThreads(), ms: out }));
    return;
  }
  const g = data.geometry;
  console.log(
    `Open-CAS liver (Maier-Hein et al., IEEE TMI 2014), rectified 720x576: fx ${g.intrinsics.fx.toFixed(2)} px, baseline ${g.baselineMm.toFixed(3)} mm, disparity offset ${g.disparityOffset.toFixed(3)} px; ${data.points.length} CT points`,
  );
  // Ours with one thread, measured in a child process (the native pool's size is fixed per process).
  const single = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      new URL(import.meta.url).pathname,
      '--timing-only',
      '--data',
      args.data,
      '--repeats',
      String(repeats),
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, NAVWS_NATIVE_THREADS: '1' },
    },
  );
  if (single.status !== 0) throw new Error(`single-thread run failed: ${single.stderr}`);
  const singleMs = (JSON.parse(single.stdout.trim().split('\n').pop()!) as { ms: Record<string, number> }).ms;

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'navws-stereo-'));
  const rows: Row[] = [];
  const speed: string[] = [];
  let cvVersion = '';
  try {
    for (const setup of SIZES) {
      const size = `${setup.width}x${setup.height}`;
      const sample = openCasAtSize(data, setup.width, setup.height);
      const ours = timeOurs(sample, setup);
      const threads = stereoThreads();
      rows.push({
        method: `NavWS SGM (census 9x7, ${OURS.paths} paths)`,
        size,
        threads: String(threads),
        ms: ours.ms,
        err: depthErrorVsCt(ours.depth, sample),
      });
      rows.push({
        method: `NavWS SGM (census 9x7, ${OURS.paths} paths)`,
        size,
        threads: '1',
        ms: singleMs[size]!,
        err: rows[rows.length - 1]!.err,
      });
      const fast = timeOurs(sample, setup, FAST);
      rows.push({
        method: FAST_NAME,
        size,
        threads: String(threads),
        ms: fast.ms,
        err: depthErrorVsCt(fast.depth, sample),
      });
      rows.push({
        method: FAST_NAME,
        size,
        threads: '1',
        ms: singleMs[`${size} fast`]!,
        err: rows[rows.length - 1]!.err,
      });
      const cv = await runOpenCv(sample, setup, 'sgbm', tmp);
      cvVersion = cv.version;
      rows.push({
        method: `OpenCV StereoSGBM MODE_SGBM (bs ${setup.blockSize})`,
        size,
        threads: '1',
        ms: cv.ms,
        err: depthErrorVsCt(cv.depth, sample),
      });
      const cv3 = await runOpenCv(sample, setup, '3way', tmp);
      rows.push({
        method: `OpenCV StereoSGBM MODE_SGBM_3WAY (bs ${setup.blockSize})`,
        size,
        threads: String(cv3.threads),
        ms: cv3.ms,
        err: depthErrorVsCt(cv3.depth, sample),
      });
      rows.push({
        method: 'constant depth = median CT depth',
        size,
        threads: '-',
        ms: null,
        err: depthErrorVsCt(constantDepth(sample), sample),
      });
      speed.push(
        `${size}: NavWS ${ours.ms.toFixed(1)} ms (${threads} threads) vs MODE_SGBM ${cv.ms.toFixed(1)} ms (1 thread): ${(cv.ms / ours.ms).toFixed(2)}x; ` +
          `NavWS 1 thread ${singleMs[size]!.toFixed(1)} ms: ${(cv.ms / singleMs[size]!).toFixed(2)}x; vs MODE_SGBM_3WAY ${cv3.ms.toFixed(1)} ms (${cv3.threads} threads): ${(cv3.ms / ours.ms).toFixed(2)}x`,
      );
      const fs1 = singleMs[`${size} fast`]!;
      speed.push(
        `${size} fast: NavWS ${fast.ms.toFixed(1)} ms (${threads} threads) vs MODE_SGBM: ${(cv.ms / fast.ms).toFixed(2)}x; ` +
          `1 thread ${fs1.toFixed(1)} ms: ${(cv.ms / fs1).toFixed(2)}x; vs MODE_SGBM_3WAY: ${(cv3.ms / fast.ms).toFixed(2)}x`,
      );
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  console.log(
    `OpenCV ${cvVersion}; disparity ranges: 720x576 [16, 64), 384x288 [8, 40) px for every method\n`,
  );
  const header = [
    'method',
    'size',
    'threads',
    'ms/frame',
    'median mm',
    'p90 mm',
    'RMSE mm',
    'bias mm',
    'CT px covered',
    'eval mask covered',
  ];
  const table = rows.map((r) => [
    r.method,
    r.size,
    r.threads,
    r.ms === null ? '-' : r.ms.toFixed(1),
    f2(r.err.medianMm),
    f2(r.err.p90Mm),
    f2(r.err.rmseMm),
    f2(r.err.medianSignedMm),
    `${pct(r.err.ctCoverage)} of ${r.err.ctPixels}`,
    pct(r.err.maskCoverage),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]): string =>
    '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(line(header));
  console.log('| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |');
  for (const t of table) console.log(line(t));
  console.log('');
  for (const s of speed) console.log(s);
  const at720 = rows.filter((r) => r.size === '720x576');
  const ours = at720[0]!.err;
  const cv = at720.find((r) => r.method.includes('MODE_SGBM ('))!.err;
  console.log(
    `\ntargets at 720x576: median ${ours.medianMm.toFixed(2)} mm <= 1.0 mm: ${ours.medianMm <= 1 ? 'yes' : 'NO'}; ` +
      `<= MODE_SGBM's ${cv.medianMm.toFixed(2)} mm: ${ours.medianMm <= cv.medianMm ? 'yes' : 'NO'}; ` +
      `CT coverage ${pct(ours.ctCoverage)} >= ${pct(cv.ctCoverage)}: ${ours.ctCoverage >= cv.ctCoverage ? 'yes' : 'NO'}`,
  );
}

interface ReportMetrics {
  stages: { depth: { meanMs: number } };
  frames: { keyframes: number; lost: number };
  metrics?: {
    trajectory?: { ateSe3: { rmse: number }; ateSim3: { rmse: number; scale: number } };
    surface?: { accuracyMedian: number; accuracyP90: number; completeness: number; fscore: number };
  };
}

async function phantomSection(): Promise<void> {
  const frames = Number(args['phantom-frames']);
  const seed = Number(args['phantom-seed']);
  const baseline = Number(args['phantom-baseline']);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'navws-stereo-phantom-'));
  try {
    const ds = path.join(tmp, 'dataset');
    await writePhantomDataset(ds, { seed, frames }, { stereoBaselineMm: baseline });
    console.log(
      `\nStereo phantom (src/synth, seed ${seed}, ${frames} frames 384x288, baseline ${baseline} mm, exact depth/poses/mesh): navws reconstruct`,
    );
    const rows: string[][] = [];
    for (const depth of ['stereo', 'network'] as const) {
      const out = path.join(tmp, `out-${depth}`);
      const p = spawnSync(
        process.execPath,
        [
          ...process.execArgv,
          path.join(root, 'src', 'cli', 'navws.ts'),
          'reconstruct',
          ds,
          '--out',
          out,
          '--depth',
          depth,
          '--quiet',
        ],
        { encoding: 'utf8' },
      );
      if (p.status !== 0) throw new Error(`reconstruct --depth ${depth} failed: ${p.stderr}`);
      const r = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ReportMetrics;
      const t = r.metrics?.trajectory;
      const sf = r.metrics?.surface;
      rows.push([
        `--depth ${depth}`,
        r.stages.depth.meanMs.toFixed(1),
        t ? t.ateSe3.rmse.toFixed(3) : '-',
        t ? `${t.ateSim3.rmse.toFixed(3)} (scale ${t.ateSim3.scale.toFixed(3)})` : '-',
        sf ? sf.accuracyMedian.toFixed(2) : '-',
        sf ? sf.accuracyP90.toFixed(2) : '-',
        sf ? pct(sf.completeness) : '-',
        sf ? sf.fscore.toFixed(3) : '-',
        `${r.frames.keyframes} / ${r.frames.lost}`,
      ]);
    }
    const header = [
      'depth stage',
      'depth ms',
      'ATE SE3 mm',
      'ATE Sim3 mm',
      'surface median mm',
      'surface p90 mm',
      'completeness (1 mm)',
      'F-score (1 mm)',
      'keyframes / lost',
    ];
    printTable(header, rows);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function printTable(header: string[], table: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]): string =>
    '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(line(header));
  console.log('| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |');
  for (const t of table) console.log(line(t));
}

/** The raw pair rectified by NavWS from the Open-CAS calibration (distortion, R, T), scored on the raw view. */
async function rawSection(): Promise<void> {
  const raw = await loadOpenCasRaw(args.data);
  const calibration = parseStereoCalibration(JSON.stringify(raw.profile), 'Open-CAS calibration');
  const t0 = performance.now();
  const engine = new StereoDepthEngine(calibration, OURS);
  const setupMs = performance.now() - t0;
  let r = engine.estimate(raw.left, raw.right);
  const times: number[] = [];
  for (let i = 0; i < Math.min(repeats, 5); i++) {
    const t = performance.now();
    r = engine.estimate(raw.left, raw.right);
    times.push(performance.now() - t);
  }
  const e = depthErrorVsCt(r.depth, raw.sample);
  const k = calibration.matching;
  console.log(
    `\nRaw pair (img_left/right.png) rectified by NavWS from calib.* (distortion, R, T; rectified fx ${k.fx.toFixed(1)} px, tables ${setupMs.toFixed(0)} ms once): ` +
      `median ${e.medianMm.toFixed(2)} mm, p90 ${e.p90Mm.toFixed(2)} mm, RMSE ${e.rmseMm.toFixed(2)} mm, bias ${e.medianSignedMm.toFixed(2)} mm, ` +
      `${pct(e.ctCoverage)} of ${e.ctPixels} CT pixels in mask_eval.png; ${median(times).toFixed(1)} ms/frame at 720x576 including the remap of both views and the depth carried back to the raw left camera`,
  );
}

/**
 * Hamlyn heart phantom frame (Hamlyn Centre Laparoscopic / Endoscopic Video Datasets, Dataset12 f7; Stoyanov,
 * Mountney): unrectified 360x288 pair, no ground truth. Robustness only: share of the mask with a depth.
 */
async function hamlynSection(): Promise<void> {
  const dir = path.join(path.dirname(args.data), 'hamlyn-heart-f7');
  if (!existsSync(dir)) return;
  const num = async (f: string): Promise<number[]> =>
    (await readFile(path.join(dir, f), 'utf8')).trim().split(/\s+/).map(Number);
  const [kl, kr, t] = await Promise.all([
    num('calib.left.intrinsic.txt'),
    num('calib.right.intrinsic.txt'),
    num('calib.l2r.4x4'),
  ]);
  const [left, right] = await Promise.all([
    readRgbPng(path.join(dir, 'f7_dynamic_deint_L_0100.png')),
    readRgbPng(path.join(dir, 'f7_dynamic_deint_R_0100.png')),
  ]);
  const cam = (k: number[]) => ({
    width: left.width,
    height: left.height,
    fx: k[0],
    fy: k[4],
    cx: k[2],
    cy: k[5],
    distortion: [0, 0, 0, 0, 0],
  });
  const profile = {
    left: cam(kl),
    right: cam(kr),
    R: [t[0], t[1], t[2], t[4], t[5], t[6], t[8], t[9], t[10]],
    T: [t[3], t[7], t[11]],
    depth_range_mm: [30, 200],
  };
  const calibration = parseStereoCalibration(JSON.stringify(profile), 'Hamlyn calibration');
  const engine = new StereoDepthEngine(calibration, OURS);
  let r = engine.estimate(left, right);
  const times: number[] = [];
  for (let i = 0; i < Math.min(repeats, 10); i++) {
    const t0 = performance.now();
    r = engine.estimate(left, right);
    times.push(performance.now() - t0);
  }
  const mask = await readRgbPng(path.join(dir, 'f7_dynamic_deint_mask_0100.png'));
  let inMask = 0;
  let covered = 0;
  const zs: number[] = [];
  for (let i = 0; i < r.depth.data.length; i++) {
    if (mask.data[3 * i]! < 128) continue;
    inMask++;
    const z = r.depth.data[i]!;
    if (z > 0) {
      covered++;
      zs.push(z);
    }
  }
  console.log(
    `\nHamlyn heart phantom frame 100 (Hamlyn Centre datasets, Dataset12 f7; Stoyanov, Mountney), 360x288, unrectified pair rectified by NavWS, no ground truth: ` +
      `${pct(covered / Math.max(1, inMask))} of the mask has depth, median depth ${median(zs).toFixed(1)} mm, ${median(times).toFixed(1)} ms/frame (${calibration.rectification ? 'with' : 'without'} rectification)`,
  );
}

await main();
if (!args['timing-only'] && existsSync(args.data)) await rawSection();
if (!args['timing-only']) await hamlynSection();
if (!args['timing-only']) await phantomSection();
