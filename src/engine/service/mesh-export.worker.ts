/**
 * Mesh export in a worker thread: reading, encoding and writing a large mesh would otherwise stall the
 * engine's event loop, and with it the live frames of every connected window.
 */
import { serveWorker } from '../../workers/rpc.js';
import { exportMesh } from '../export/export-mesh.js';
import { readPly } from '../formats/ply.js';
import type { MeshFormat } from '../../shared/api/schemas.js';

export interface ExportJob {
  meshFile: string;
  format: MeshFormat;
  outputPath: string;
}

export interface ExportJobResult {
  bytes: number;
  vertices: number;
  triangles: number;
}

const handlers = {
  async export(job: ExportJob): Promise<ExportJobResult> {
    const mesh = await readPly(job.meshFile);
    const r = await exportMesh(mesh, job.outputPath, { format: job.format });
    return { bytes: r.bytes, vertices: r.vertices, triangles: r.triangles };
  },
};

export type ExportHandlers = typeof handlers;

serveWorker(handlers);
