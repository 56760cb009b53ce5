/**
 * Mesh export for the UI: reads a run's mesh and writes it in the chosen format, reporting progress.
 * PLY uses the project's writer (src/engine/formats/ply.ts); the other formats come from the export
 * module of the case store work (src/engine/export) as it lands.
 */
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { MeshFormat } from '../../shared/api/schemas.js';
import { NavApiError } from '../../shared/api/nav-api.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import { readPly, writePly } from '../formats/ply.js';

export interface ExportProgress {
  (progress: number, stage: string): void;
}

export interface ExportedMesh {
  bytes: number;
  vertices: number;
  triangles: number;
}

export async function readRunMesh(runFolder: string): Promise<TriangleMesh> {
  const file = path.join(runFolder, 'mesh.ply');
  if (!existsSync(file))
    throw new NavApiError('not-found', `${runFolder}: the run has no mesh (was fusion running?)`);
  return readPly(file);
}

export async function exportMesh(
  runFolder: string,
  format: MeshFormat,
  outputPath: string,
  progress: ExportProgress,
): Promise<ExportedMesh> {
  progress(0, 'reading mesh');
  const mesh = await readRunMesh(runFolder);
  progress(0.4, `writing ${format.toUpperCase()}`);
  await mkdir(path.dirname(outputPath), { recursive: true });
  switch (format) {
    case 'ply':
      await writePly(outputPath, mesh);
      break;
    default:
      throw new NavApiError(
        'unavailable',
        `${format.toUpperCase()} export is not available in this build; PLY is`,
      );
  }
  progress(1, 'done');
  return {
    bytes: (await stat(outputPath)).size,
    vertices: mesh.positions.length / 3,
    triangles: mesh.indices.length / 3,
  };
}
