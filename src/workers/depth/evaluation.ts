/**
 * Accuracy of the depth network (the method's Table 1 metrics, via src/eval/depth-metrics.ts) on
 *  - phantom sequences held out from training (regenerated from their generator options, or any dataset
 *    folder with depth/), run in order so the SAB memory is carried as in the live pipeline;
 *  - the Open-CAS porcine liver frame (Maier-Hein et al., IEEE TMI 2014): prediction on img_rec_left.png,
 *    compared at the CT surface points projected with the left intrinsics.
 */
import path from 'node:path';
import { openDataset, readDatasetDepth, readDatasetRgb } from '../../engine/dataset/dataset.js';
import { readRgbPng } from '../../engine/dataset/images.js';
import { readNumberFile } from '../../engine/dataset/read-input-file.js';
import { type DepthMetrics, computeDepthMetrics, meanDepthMetrics } from '../../eval/depth-metrics.js';
import { type PinholeIntrinsics, project } from '../../shared/camera.js';
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import type { Vec3 } from '../../shared/math/mat4.js';
import { Phantom, type PhantomOptions } from '../../synth/index.js';
import type { DepthClient } from './client.js';

export interface DepthEvalRow {
  name: string;
  frames: number;
  raw: DepthMetrics;
  medianScaled: DepthMetrics;
  /**
   * Reference: a constant prediction, median-scaled (its AbsRel = mean |d* - median d*| / d*). A network
   * that does not beat it has learnt the typical distance, not the shape.
   */
  constantMedianScaled: DepthMetrics;
}

interface Frame {
  rgb: RgbImage;
  gt: DepthImage;
}

async function evaluateFrames(
  client: DepthClient,
  name: string,
  intrinsics: PinholeIntrinsics,
  frames: AsyncIterable<Frame> | Iterable<Frame>,
  maxDepth: number,
): Promise<DepthEvalRow> {
  await client.reset();
  const raw: DepthMetrics[] = [];
  const med: DepthMetrics[] = [];
  const flat: DepthMetrics[] = [];
  for await (const f of frames) {
    const { depth } = await client.estimate({ rgb: f.rgb, intrinsics });
    const r = computeDepthMetrics(depth, f.gt, { maxDepth });
    const m = computeDepthMetrics(depth, f.gt, { maxDepth, medianScaling: true });
    const constant = {
      width: f.gt.width,
      height: f.gt.height,
      data: new Float32Array(f.gt.data.length).fill(1),
    };
    const c = computeDepthMetrics(constant, f.gt, { maxDepth, medianScaling: true });
    if (r && m && c) {
      raw.push(r);
      med.push(m);
      flat.push(c);
    }
  }
  const rawMean = meanDepthMetrics(raw);
  const medMean = meanDepthMetrics(med);
  const flatMean = meanDepthMetrics(flat);
  if (!rawMean || !medMean || !flatMean) throw new Error(`${name}: no frame had pixels to evaluate`);
  return { name, frames: raw.length, raw: rawMean, medianScaled: medMean, constantMedianScaled: flatMean };
}

/** A phantom sequence regenerated in memory from its generator options (as listed in models/manifest.json). */
export function evaluatePhantom(
  client: DepthClient,
  name: string,
  options: PhantomOptions,
  frames: number,
  maxDepth: number,
): Promise<DepthEvalRow> {
  const phantom = new Phantom({ ...options, frames: Math.min(frames, options.frames ?? frames) });
  function* gen(): Generator<Frame> {
    for (let i = 0; i < phantom.frameCount; i++) {
      const f = phantom.renderFrame(i);
      yield { rgb: f.rgb, gt: f.depth };
    }
  }
  return evaluateFrames(client, name, phantom.intrinsics, gen(), maxDepth);
}

/** A dataset folder with depth/ ground truth (docs/formats.md). */
export async function evaluateDataset(
  client: DepthClient,
  root: string,
  frames: number,
  maxDepth: number,
): Promise<DepthEvalRow> {
  const ds = await openDataset(root);
  if (ds.frameCount === null || ds.depthFiles.length === 0) {
    throw new Error(`${root}: needs RGB frames and depth/ ground truth for depth evaluation`);
  }
  const n = Math.min(frames, ds.frameCount);
  async function* gen(): AsyncGenerator<Frame> {
    for (let i = 0; i < n; i++) yield { rgb: await readDatasetRgb(ds, i), gt: await readDatasetDepth(ds, i) };
  }
  return evaluateFrames(client, path.basename(path.resolve(root)), ds.intrinsics, gen(), maxDepth);
}

export interface LiverFrame {
  rgb: RgbImage;
  intrinsics: PinholeIntrinsics;
  /** CT surface points in the left camera frame (mm). */
  points: Vec3[];
}

/** ../shared/data/real/opencas-liver: rectified left image, its intrinsics and the CT surface points. */
export async function loadOpenCasLiver(dir: string): Promise<LiverFrame> {
  const rgb = await readRgbPng(path.join(dir, 'img_rec_left.png'));
  const kFile = path.join(dir, 'calib.left.intrinsics.txt');
  const k = await readNumberFile(kFile);
  if (k.length !== 9) throw new Error(`${kFile}: expected a 3x3 matrix, got ${k.length} numbers`);
  const intrinsics: PinholeIntrinsics = {
    width: rgb.width,
    height: rgb.height,
    fx: k[0]!,
    fy: k[4]!,
    cx: k[2]!,
    cy: k[5]!,
  };
  const xyzFile = path.join(dir, 'ct_surface.xyz');
  const xyz = await readNumberFile(xyzFile);
  if (xyz.length % 3 !== 0) throw new Error(`${xyzFile}: expected x y z per line`);
  const points: Vec3[] = [];
  for (let i = 0; i < xyz.length; i += 3) points.push([xyz[i]!, xyz[i + 1]!, xyz[i + 2]!]);
  return { rgb, intrinsics, points };
}

/** Sparse ground-truth depth: each CT point at its (rounded) pixel, the nearest point where several land. */
export function projectPointsToDepth(points: readonly Vec3[], k: PinholeIntrinsics): DepthImage {
  const data = new Float32Array(k.width * k.height);
  for (const p of points) {
    const uv = project(k, p);
    if (!uv) continue;
    const u = Math.round(uv[0]);
    const v = Math.round(uv[1]);
    if (u < 0 || v < 0 || u >= k.width || v >= k.height) continue;
    const i = v * k.width + u;
    if (data[i] === 0 || p[2] < data[i]!) data[i] = p[2];
  }
  return { width: k.width, height: k.height, data };
}

export async function evaluateLiver(
  client: DepthClient,
  dir: string,
  maxDepth: number,
): Promise<DepthEvalRow> {
  const liver = await loadOpenCasLiver(dir);
  const gt = projectPointsToDepth(liver.points, liver.intrinsics);
  return evaluateFrames(client, 'opencas-liver', liver.intrinsics, [{ rgb: liver.rgb, gt }], maxDepth);
}
