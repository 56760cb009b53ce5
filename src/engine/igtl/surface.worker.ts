/**
 * POLYDATA encoding in a worker thread: merging the surface's blocks, decimating it to the configured
 * size and packing it would otherwise stall the engine's event loop (and with it the pipeline) for as
 * long as a large mesh takes.
 */
import { serveWorker, withTransfer } from '../../workers/rpc.js';
import { decimateToTriangles } from '../export/decimate.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import { type IgtlFrame, positionsInFrame } from './coordinates.js';
import { polyDataContent } from './messages.js';
import { mergeMeshes } from './surface.js';

export interface SurfaceJob {
  blocks: TriangleMesh[];
  maxTriangles: number;
  frame: IgtlFrame;
}

export interface SurfaceJobResult {
  content: Uint8Array;
  vertices: number;
  triangles: number;
}

const handlers = {
  encode(job: SurfaceJob) {
    const merged = mergeMeshes(job.blocks);
    const mesh = decimateToTriangles(merged, job.maxTriangles);
    const content = polyDataContent(positionsInFrame(mesh, job.frame), mesh.indices, mesh.colors);
    const bytes = new Uint8Array(content.buffer, content.byteOffset, content.length);
    const result: SurfaceJobResult = {
      content: bytes,
      vertices: mesh.positions.length / 3,
      triangles: mesh.indices.length / 3,
    };
    return withTransfer(result, [bytes.buffer as ArrayBuffer]);
  },
};

export type SurfaceHandlers = typeof handlers;

serveWorker(handlers);
