/**
 * Writes the reconstruction output folder contract (docs/formats.md): trajectory.txt, mesh.ply and
 * report.json. The CLI and the engine service both write their runs through here.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeTum } from '../dataset/trajectory.js';
import { writePly } from '../formats/ply.js';
import type { ReconstructResult } from './reconstruct.js';

export interface RunDescription {
  input: string;
  modes: { depth: string; poses: string };
  voxelSizeMm: number;
}

export function buildReport(
  result: ReconstructResult,
  run: RunDescription,
  metrics?: unknown,
): Record<string, unknown> {
  const r = result.report;
  const report: Record<string, unknown> = {
    version: 1,
    input: run.input,
    modes: run.modes,
    scaleSource: r.scaleSource,
    frames: {
      in: r.framesIn,
      processed: r.framesProcessed,
      dropped: r.framesDropped,
      keyframes: r.keyframes,
      lost: r.lostFrames,
    },
    // 'keyframes': the depth network ran on keyframes only (the pose head on every frame).
    schedule: r.schedule,
    stages: r.stages,
    executionProvider: r.executionProvider,
    tracking: r.trackingMeans,
    fusion: { voxelSizeMm: run.voxelSizeMm, vertices: result.mesh ? result.mesh.positions.length / 3 : 0 },
    wallSeconds: r.wallSeconds,
    sourceError: r.sourceError,
  };
  if (metrics !== undefined) report.metrics = metrics;
  return report;
}

export async function writeTrajectoryAndMesh(dir: string, result: ReconstructResult): Promise<void> {
  await writeTum(path.join(dir, 'trajectory.txt'), result.trajectory);
  if (result.mesh) await writePly(path.join(dir, 'mesh.ply'), result.mesh);
}

export async function writeReport(dir: string, report: Record<string, unknown>): Promise<void> {
  await writeFile(path.join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
}
