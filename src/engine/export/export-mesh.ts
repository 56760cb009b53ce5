/**
 * One call for the UI and CLI: optional smoothing and decimation, then PLY, OBJ (+MTL), STL, glTF
 * or GLB, chosen by the file extension or explicitly. Files are written under a temporary name and
 * renamed, so a failed export never leaves a half-written file under the final name. CPU-heavy:
 * hosts run it in a worker thread.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TriangleMesh } from '../../shared/mesh.js';
import { triangleCount, validateMesh, vertexCount } from '../../shared/mesh.js';
import { encodePly } from '../formats/ply.js';
import { decimateByClustering, decimateToTriangles } from './decimate.js';
import { encodeGlb, writeGltf } from './gltf.js';
import { encodeMtl, encodeObj } from './obj.js';
import type { ExportProgress } from './progress.js';
import { type TaubinOptions, taubinSmooth } from './smooth.js';
import { encodeStl } from './stl.js';

export type MeshExportFormat = 'ply' | 'obj' | 'stl' | 'gltf' | 'glb';

export interface MeshExportOptions {
  /** Default: from the file extension. */
  format?: MeshExportFormat;
  /** Taubin smoothing before decimation (`true` = 10 iterations, lambda 0.5, mu -0.53). */
  smooth?: boolean | TaubinOptions;
  /** Vertex-clustering decimation: a cell size in mm, or a triangle budget. */
  decimate?: { cellSizeMm: number } | { maxTriangles: number };
  onProgress?: ExportProgress;
}

export interface MeshExportResult {
  format: MeshExportFormat;
  /** Every file written (OBJ adds its .mtl, glTF its .bin). */
  files: string[];
  bytes: number;
  vertices: number;
  triangles: number;
}

export function formatFromPath(file: string): MeshExportFormat {
  const ext = path.extname(file).toLowerCase().slice(1);
  if (ext === 'ply' || ext === 'obj' || ext === 'stl' || ext === 'gltf' || ext === 'glb') return ext;
  throw new Error(`${file}: unknown mesh format '.${ext}' (use .ply, .obj, .stl, .gltf or .glb)`);
}

/** Applies the optional smoothing and decimation of an export. */
export function prepareMesh(mesh: TriangleMesh, options: MeshExportOptions): TriangleMesh {
  let out = mesh;
  if (options.smooth)
    out = taubinSmooth(out, options.smooth === true ? {} : options.smooth, options.onProgress);
  if (options.decimate) {
    out =
      'cellSizeMm' in options.decimate
        ? decimateByClustering(out, options.decimate.cellSizeMm, options.onProgress)
        : decimateToTriangles(out, options.decimate.maxTriangles, options.onProgress);
  }
  return out;
}

async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.partial`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function exportMesh(
  mesh: TriangleMesh,
  file: string,
  options: MeshExportOptions = {},
): Promise<MeshExportResult> {
  validateMesh(mesh);
  const format = options.format ?? formatFromPath(file);
  const progress = options.onProgress;
  const prepared = prepareMesh(mesh, options);
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const files = [file];
  switch (format) {
    case 'ply':
      progress?.('encode', 0);
      await writeAtomic(file, encodePly(prepared));
      progress?.('encode', 1);
      break;
    case 'stl':
      await writeAtomic(file, encodeStl(prepared, progress));
      break;
    case 'obj': {
      const mtl = file.replace(/\.obj$/i, '') + '.mtl';
      await writeAtomic(mtl, encodeMtl());
      await writeAtomic(file, encodeObj(prepared, path.basename(mtl), progress));
      files.push(mtl);
      break;
    }
    case 'glb':
      await writeAtomic(file, await encodeGlb(prepared, 'navws_surface', progress));
      break;
    case 'gltf': {
      // The library writes both files itself: write into a scratch folder, then move both.
      const scratch = `${file}.partial.d`;
      await mkdir(scratch, { recursive: true });
      try {
        const inner = path.join(scratch, path.basename(file));
        await writeGltf(inner, prepared, 'navws_surface', progress);
        const bin = file.replace(/\.gltf$/i, '') + '.bin';
        await rename(inner.replace(/\.gltf$/i, '') + '.bin', bin);
        await rename(inner, file);
        files.push(bin);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
      break;
    }
  }
  progress?.('write', 1);
  let bytes = 0;
  for (const f of files) bytes += (await stat(f)).size;
  return { format, files, bytes, vertices: vertexCount(prepared), triangles: triangleCount(prepared) };
}
