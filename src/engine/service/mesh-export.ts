/**
 * Mesh export for the UI: a run's mesh written with the export module (src/engine/export: PLY, OBJ +
 * MTL, STL, GLB; millimetres, first-camera frame) in a worker thread, with coarse progress (the worker
 * answers once, at the end).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { MeshFormat } from '../../shared/api/schemas.js';
import { NavApiError } from '../../shared/api/nav-api.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import { readPly } from '../formats/ply.js';
import { WorkerClient } from '../../workers/rpc.js';
import type { ExportHandlers } from './mesh-export.worker.js';

export type ExportProgress = (progress: number, stage: string) => void;

export interface ExportedMesh {
  bytes: number;
  vertices: number;
  triangles: number;
}

function runMeshFile(runFolder: string): string {
  const file = path.join(runFolder, 'mesh.ply');
  if (!existsSync(file))
    throw new NavApiError('not-found', `${runFolder}: the run has no mesh (was fusion running?)`);
  return file;
}

export async function readRunMesh(runFolder: string): Promise<TriangleMesh> {
  return readPly(runMeshFile(runFolder));
}

export async function exportMesh(
  runFolder: string,
  format: MeshFormat,
  outputPath: string,
  progress: ExportProgress,
): Promise<ExportedMesh> {
  const meshFile = runMeshFile(runFolder);
  progress(0.05, `writing ${format.toUpperCase()}`);
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const worker = WorkerClient.start<ExportHandlers>(
    new URL(`./mesh-export.worker${ext}`, import.meta.url),
    null,
    'export',
  );
  try {
    const result = await worker.call('export', { meshFile, format, outputPath });
    progress(1, 'done');
    return result;
  } catch (err) {
    throw new NavApiError('bad-request', `export to ${outputPath} failed: ${(err as Error).message}`);
  } finally {
    await worker.close();
  }
}
