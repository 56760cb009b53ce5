/**
 * Evaluates a reconstruction output folder (trajectory.txt, depth/, mesh.ply; docs/formats.md) against
 * a dataset folder's ground truth (groundtruth.txt, depth/, mesh.ply). Each part is evaluated when both
 * sides have it and listed under `skipped` with the reason otherwise. A dataset folder may stand in for
 * the output (its groundtruth.txt is read when there is no trajectory.txt), so evaluating a dataset
 * against itself must give zero error.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { type DatasetInfo, openDataset, readDatasetDepth } from '../engine/dataset/dataset.js';
import { readDepthPng } from '../engine/dataset/images.js';
import { readIntrinsics } from '../engine/dataset/intrinsics.js';
import { readTum } from '../engine/dataset/trajectory.js';
import { readPly } from '../engine/formats/ply.js';
import type { DepthImage } from '../shared/frames.js';
import { transformPositions } from '../shared/math/mat4.js';
import type { TriangleMesh } from '../shared/mesh.js';
import { type DepthMetrics, computeDepthMetrics, meanDepthMetrics } from './depth-metrics.js';
import { type SurfaceMetrics, computeSurfaceMetrics } from './surface-metrics.js';
import { computeTrackingMetrics } from './tracking-metrics.js';
import {
  type AteResult,
  type PosePair,
  type RpeResult,
  absoluteTrajectoryError,
  associatePoses,
  relativePoseError,
} from './trajectory-metrics.js';

export interface EvaluationOptions {
  /** Depth cap (mm) of the depth metrics. Default: none. */
  maxDepth?: number;
  /** Frame delta of the RPE. Default 1. */
  rpeDelta?: number;
  /** Frames between keyframe and tracked frame in the tracking metrics. Default 5. */
  keyframeGap?: number;
  /** Reprojection threshold of a triangulated point (px). Default 2. */
  reprojectionThreshold?: number;
  /** Threshold of completeness and F-score (mm). Default 1. */
  surfaceThreshold?: number;
  /** Transform the reconstructed mesh by the trajectory alignment before the surface metrics. Default 'none'. */
  meshAlignment?: 'none' | 'se3' | 'sim3';
}

export type AteSummary = Omit<AteResult, 'alignment'> & { alignment: number[] };

export interface EvaluationReport {
  dataset: string;
  output: string;
  trajectory?: {
    file: string;
    poses: number;
    associated: number;
    ateSe3: AteSummary;
    ateSim3: AteSummary;
    rpe: RpeResult;
    /** RPE with the estimated translations scaled by the Sim(3) scale. */
    rpeSim3Scaled: RpeResult;
  };
  tracking?: {
    keyframeGap: number;
    threshold: number;
    frames: number;
    /** Mean over all counted points of all frames (px). */
    meanReprojectionError: number;
    /** Mean per frame. */
    triangulatedPoints: number;
    observablePoints: number;
  };
  depth?: {
    frames: number;
    maxDepth: number | null;
    raw: DepthMetrics;
    medianScaled: DepthMetrics;
    perFrame: { index: number; raw: DepthMetrics; medianScaled: DepthMetrics }[];
  };
  surface?: SurfaceMetrics & { meshAlignment: 'none' | 'se3' | 'sim3' };
  skipped: string[];
}

async function listDepthFrames(dir: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (!existsSync(dir)) return out;
  for (const name of (await readdir(dir)).sort()) {
    if (/^\d{6}\.png$/.test(name)) out.set(Number(name.slice(0, 6)), path.join(dir, name));
  }
  return out;
}

function summary(a: AteResult): AteSummary {
  return { ...a, alignment: Array.from(a.alignment) };
}

export async function evaluateReconstruction(
  datasetRoot: string,
  outputDir: string,
  options: EvaluationOptions = {},
): Promise<EvaluationReport> {
  const ds = await openDataset(datasetRoot);
  if (!existsSync(outputDir)) throw new Error(`${outputDir}: output folder does not exist`);
  const report: EvaluationReport = { dataset: datasetRoot, output: outputDir, skipped: [] };

  const pairs = await evaluateTrajectory(ds, outputDir, options, report);
  const depthCache = new Map<number, DepthImage>();
  const gtDepth = async (i: number): Promise<DepthImage> => {
    let d = depthCache.get(i);
    if (!d) {
      d = await readDatasetDepth(ds, i);
      depthCache.set(i, d);
    }
    return d;
  };
  if (pairs && ds.depthFiles.length > 0) await evaluateTracking(ds, pairs, gtDepth, options, report);
  else report.skipped.push('tracking: needs a trajectory and ground-truth depth');
  await evaluateDepth(ds, outputDir, gtDepth, options, report);
  await evaluateSurface(ds, outputDir, options, report);
  return report;
}

async function evaluateTrajectory(
  ds: DatasetInfo,
  outputDir: string,
  options: EvaluationOptions,
  report: EvaluationReport,
): Promise<PosePair[] | null> {
  const candidates = [path.join(outputDir, 'trajectory.txt'), path.join(outputDir, 'groundtruth.txt')];
  const file = candidates.find((f) => existsSync(f));
  if (!ds.groundTruth) {
    report.skipped.push('trajectory: the dataset has no groundtruth.txt');
    return null;
  }
  if (!file) {
    report.skipped.push('trajectory: the output has no trajectory.txt');
    return null;
  }
  const estimated = await readTum(file);
  const pairs = associatePoses(estimated, ds.groundTruth, 0.5 / ds.intrinsics.fps);
  if (pairs.length < 3) {
    report.skipped.push(
      `trajectory: only ${pairs.length} of ${estimated.length} poses match a ground-truth timestamp`,
    );
    return null;
  }
  const ateSim3 = absoluteTrajectoryError(pairs, true);
  const delta = Math.min(options.rpeDelta ?? 1, pairs.length - 1);
  report.trajectory = {
    file,
    poses: estimated.length,
    associated: pairs.length,
    ateSe3: summary(absoluteTrajectoryError(pairs, false)),
    ateSim3: summary(ateSim3),
    rpe: relativePoseError(pairs, delta),
    rpeSim3Scaled: relativePoseError(pairs, delta, ateSim3.scale),
  };
  return pairs;
}

async function evaluateTracking(
  ds: DatasetInfo,
  pairs: PosePair[],
  gtDepth: (i: number) => Promise<DepthImage>,
  options: EvaluationOptions,
  report: EvaluationReport,
): Promise<void> {
  const gap = options.keyframeGap ?? 5;
  const threshold = options.reprojectionThreshold ?? 2;
  const byIndex = new Map(pairs.map((p) => [p.index, p]));
  let errorSum = 0;
  let points = 0;
  let triangulated = 0;
  let frames = 0;
  for (const frame of pairs) {
    const key = byIndex.get(frame.index - gap);
    if (!key) continue;
    const m = computeTrackingMetrics(
      ds.intrinsics,
      await gtDepth(key.index),
      key,
      frame,
      await gtDepth(frame.index),
      {
        threshold,
      },
    );
    if (m.observablePoints === 0) continue;
    errorSum += m.meanReprojectionError * m.observablePoints;
    points += m.observablePoints;
    triangulated += m.triangulatedPoints;
    frames++;
  }
  if (frames === 0) {
    report.skipped.push(`tracking: no frame has a tracked keyframe ${gap} frames earlier`);
    return;
  }
  report.tracking = {
    keyframeGap: gap,
    threshold,
    frames,
    meanReprojectionError: errorSum / points,
    triangulatedPoints: triangulated / frames,
    observablePoints: points / frames,
  };
}

async function evaluateDepth(
  ds: DatasetInfo,
  outputDir: string,
  gtDepth: (i: number) => Promise<DepthImage>,
  options: EvaluationOptions,
  report: EvaluationReport,
): Promise<void> {
  const predicted = await listDepthFrames(path.join(outputDir, 'depth'));
  if (predicted.size === 0 || ds.depthFiles.length === 0) {
    report.skipped.push(
      predicted.size === 0
        ? 'depth: the output has no depth/ frames'
        : 'depth: the dataset has no ground-truth depth',
    );
    return;
  }
  const ownIntrinsics = path.join(outputDir, 'intrinsics.json');
  const depthScale = existsSync(ownIntrinsics)
    ? (await readIntrinsics(ownIntrinsics)).depth_scale
    : ds.intrinsics.depth_scale;
  const perFrame: { index: number; raw: DepthMetrics; medianScaled: DepthMetrics }[] = [];
  for (const [index, file] of predicted) {
    if (index >= ds.depthFiles.length) throw new Error(`${file}: the dataset has no frame ${index}`);
    const pred = await readDepthPng(file, depthScale);
    const gt = await gtDepth(index);
    const opts = { maxDepth: options.maxDepth };
    const raw = computeDepthMetrics(pred, gt, opts);
    const medianScaled = computeDepthMetrics(pred, gt, { ...opts, medianScaling: true });
    if (raw && medianScaled) perFrame.push({ index, raw, medianScaled });
  }
  const raw = meanDepthMetrics(perFrame.map((f) => f.raw));
  const medianScaled = meanDepthMetrics(perFrame.map((f) => f.medianScaled));
  if (!raw || !medianScaled) {
    report.skipped.push('depth: no frame has a pixel with both valid prediction and ground truth');
    return;
  }
  report.depth = { frames: perFrame.length, maxDepth: options.maxDepth ?? null, raw, medianScaled, perFrame };
}

async function evaluateSurface(
  ds: DatasetInfo,
  outputDir: string,
  options: EvaluationOptions,
  report: EvaluationReport,
): Promise<void> {
  const meshFile = path.join(outputDir, 'mesh.ply');
  if (!ds.meshFile || !existsSync(meshFile)) {
    report.skipped.push(
      ds.meshFile ? 'surface: the output has no mesh.ply' : 'surface: the dataset has no mesh.ply',
    );
    return;
  }
  const mode = options.meshAlignment ?? 'none';
  let mesh: TriangleMesh = await readPly(meshFile);
  if (mode !== 'none') {
    const ate = mode === 'sim3' ? report.trajectory?.ateSim3 : report.trajectory?.ateSe3;
    if (!ate) throw new Error(`mesh alignment '${mode}' needs an evaluated trajectory`);
    mesh = transformMesh(mesh, ate.alignment);
  }
  const truth = await readPly(ds.meshFile);
  report.surface = {
    ...computeSurfaceMetrics(mesh, truth, { threshold: options.surfaceThreshold ?? 1 }),
    meshAlignment: mode,
  };
}

function transformMesh(mesh: TriangleMesh, m: readonly number[]): TriangleMesh {
  return { positions: transformPositions(m, mesh.positions), indices: mesh.indices };
}

const f = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** A human-readable table of the report. */
export function formatEvaluation(r: EvaluationReport): string {
  const rows: [string, string][] = [];
  if (r.trajectory) {
    const t = r.trajectory;
    rows.push(['trajectory poses (associated)', `${t.associated} / ${t.poses}`]);
    rows.push(['ATE RMSE SE(3) [mm]', f(t.ateSe3.rmse)]);
    rows.push(['ATE RMSE Sim(3) [mm] (scale)', `${f(t.ateSim3.rmse)} (${f(t.ateSim3.scale, 4)})`]);
    rows.push([`RPE trans RMSE / ${t.rpe.delta} fr [mm]`, f(t.rpe.translationRmse)]);
    rows.push([`RPE rot RMSE / ${t.rpe.delta} fr [deg]`, f(t.rpe.rotationRmseDeg)]);
  }
  if (r.tracking) {
    const t = r.tracking;
    rows.push([`reprojection error, keyframe -${t.keyframeGap} [px]`, f(t.meanReprojectionError)]);
    rows.push([
      `triangulated points / frame (<= ${t.threshold} px)`,
      `${f(t.triangulatedPoints, 1)} of ${f(t.observablePoints, 1)}`,
    ]);
  }
  if (r.depth) {
    const d = r.depth;
    for (const [name, m] of [
      ['depth raw', d.raw],
      ['depth median-scaled', d.medianScaled],
    ] as const) {
      rows.push([
        `${name} (${d.frames} frames)`,
        `AbsRel ${f(m.absRel, 4)}  SqRel ${f(m.sqRel, 4)}  RMSE ${f(m.rmse)}  logRMSE ${f(m.logRmse, 4)}  ` +
          `d1 ${f(m.delta1, 4)}  d2 ${f(m.delta2, 4)}  d3 ${f(m.delta3, 4)}`,
      ]);
    }
  }
  if (r.surface) {
    const s = r.surface;
    rows.push(['surface accuracy median / p90 [mm]', `${f(s.accuracyMedian)} / ${f(s.accuracyP90)}`]);
    rows.push([`surface completeness (<= ${s.threshold} mm)`, f(s.completeness, 4)]);
    rows.push(['surface Chamfer [mm]', f(s.chamfer)]);
    rows.push([`surface F-score@${s.threshold} mm`, f(s.fscore, 4)]);
  }
  const width = Math.max(...rows.map(([k]) => k.length), 10);
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  for (const s of r.skipped) lines.push(`(skipped) ${s}`);
  return lines.join('\n');
}
