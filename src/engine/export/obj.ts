/**
 * Wavefront OBJ with an MTL file. OBJ has no colour attribute in its specification; vertex colours
 * are written as the widely read extension `v x y z r g b` (r, g, b in 0..1: MeshLab, Blender,
 * CloudCompare, Open3D read it), and the MTL declares a plain white material so viewers without
 * the extension still show the shape. Coordinates are millimetres, first-camera OpenCV frame.
 */
import type { TriangleMesh } from '../../shared/mesh.js';
import { validateMesh } from '../../shared/mesh.js';
import { type ExportProgress, progressTicker } from './progress.js';

export const OBJ_MATERIAL = 'navws_vertex_colour';

/** Shortest decimal text that reads back to the same float32. */
function f32(v: number): string {
  for (let digits = 6; digits < 9; digits++) {
    const s = v.toPrecision(digits);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(Number(v.toPrecision(9)));
}

export function encodeObj(mesh: TriangleMesh, mtlFileName: string, progress?: ExportProgress): string {
  validateMesh(mesh);
  const n = mesh.positions.length / 3;
  const parts: string[] = [
    '# NavWS mesh export',
    '# units: millimetres; frame: first camera, OpenCV axes (x right, y down, z forward)',
    `mtllib ${mtlFileName}`,
    'o navws_surface',
  ];
  const tick = progressTicker(progress, 'encode', n + mesh.indices.length / 3);
  const p = mesh.positions;
  const c = mesh.colors;
  for (let v = 0; v < n; v++) {
    tick(v);
    let line = `v ${f32(p[3 * v]!)} ${f32(p[3 * v + 1]!)} ${f32(p[3 * v + 2]!)}`;
    if (c)
      line += ` ${(c[3 * v]! / 255).toFixed(6)} ${(c[3 * v + 1]! / 255).toFixed(6)} ${(c[3 * v + 2]! / 255).toFixed(6)}`;
    parts.push(line);
  }
  if (mesh.normals) {
    const nn = mesh.normals;
    for (let v = 0; v < n; v++)
      parts.push(`vn ${f32(nn[3 * v]!)} ${f32(nn[3 * v + 1]!)} ${f32(nn[3 * v + 2]!)}`);
  }
  parts.push(`usemtl ${OBJ_MATERIAL}`);
  const idx = mesh.indices;
  for (let t = 0; t < idx.length; t += 3) {
    tick(n + t / 3);
    const a = idx[t]! + 1;
    const b = idx[t + 1]! + 1;
    const d = idx[t + 2]! + 1;
    parts.push(mesh.normals ? `f ${a}//${a} ${b}//${b} ${d}//${d}` : `f ${a} ${b} ${d}`);
  }
  progress?.('encode', 1);
  return parts.join('\n') + '\n';
}

export function encodeMtl(): string {
  return [
    '# NavWS material: colours are per vertex in the OBJ (v x y z r g b)',
    `newmtl ${OBJ_MATERIAL}`,
    'Ka 0 0 0',
    'Kd 1 1 1',
    'Ks 0 0 0',
    'd 1',
    'illum 1',
    '',
  ].join('\n');
}

/** Reads vertices (with optional colours), normals and faces (polygons fan-triangulated). */
export function decodeObj(text: string, file = 'mesh.obj'): TriangleMesh {
  const pos: number[] = [];
  const col: number[] = [];
  const nrm: number[] = [];
  const faces: number[] = [];
  let allColoured = true;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    const bad = (what: string): never => {
      throw new Error(`${file}:${i + 1}: ${what}`);
    };
    const nums = (from: number, count: number): number[] => {
      const v = parts.slice(from, from + count).map(Number);
      if (v.length !== count || v.some((x) => !Number.isFinite(x)))
        bad(`expected ${count} numbers after '${parts[0]}'`);
      return v;
    };
    switch (parts[0]) {
      case 'v': {
        pos.push(...nums(1, 3));
        if (parts.length >= 7)
          col.push(...nums(4, 3).map((x) => Math.round(Math.min(1, Math.max(0, x)) * 255)));
        else allColoured = false;
        break;
      }
      case 'vn':
        nrm.push(...nums(1, 3));
        break;
      case 'f': {
        const vertexCount = pos.length / 3;
        const ids = parts.slice(1).map((tok) => {
          const k = Number(tok.split('/')[0]);
          if (!Number.isInteger(k) || k === 0) bad(`bad face index '${tok}'`);
          const id = k > 0 ? k - 1 : vertexCount + k;
          if (id < 0 || id >= vertexCount) bad(`face index ${k} outside 1..${vertexCount}`);
          return id;
        });
        if (ids.length < 3) bad('a face needs at least 3 vertices');
        for (let k = 1; k + 1 < ids.length; k++) faces.push(ids[0]!, ids[k]!, ids[k + 1]!);
        break;
      }
      default:
        break;
    }
  });
  const mesh: TriangleMesh = { positions: Float32Array.from(pos), indices: Uint32Array.from(faces) };
  if (allColoured && col.length === pos.length && pos.length > 0) mesh.colors = Uint8Array.from(col);
  if (nrm.length === pos.length && nrm.length > 0) mesh.normals = Float32Array.from(nrm);
  validateMesh(mesh, file);
  return mesh;
}
