/**
 * Binary STL: 80-byte header, triangle count, then per triangle a facet normal, three vertices and a
 * 16-bit attribute. STL carries no units or colours; NavWS writes millimetres (the usual convention
 * of planning and 3D-printing tools) and says so in the header.
 */
import type { TriangleMesh } from '../../shared/mesh.js';
import { validateMesh } from '../../shared/mesh.js';
import { faceNormal } from './normals.js';
import { type ExportProgress, progressTicker } from './progress.js';

export const STL_HEADER = 'NavWS mesh, units: mm, frame: first camera (OpenCV x right, y down, z forward)';

export function encodeStl(mesh: TriangleMesh, progress?: ExportProgress): Buffer {
  validateMesh(mesh);
  const count = mesh.indices.length / 3;
  const out = Buffer.alloc(84 + 50 * count);
  out.write(STL_HEADER.slice(0, 80), 0, 'ascii');
  out.writeUInt32LE(count, 80);
  const tick = progressTicker(progress, 'encode', count);
  const p = mesh.positions;
  let o = 84;
  for (let t = 0; t < count; t++) {
    tick(t);
    const n = faceNormal(mesh, t);
    out.writeFloatLE(n[0], o);
    out.writeFloatLE(n[1], o + 4);
    out.writeFloatLE(n[2], o + 8);
    o += 12;
    for (let k = 0; k < 3; k++) {
      const v = 3 * mesh.indices[3 * t + k]!;
      out.writeFloatLE(p[v]!, o);
      out.writeFloatLE(p[v + 1]!, o + 4);
      out.writeFloatLE(p[v + 2]!, o + 8);
      o += 12;
    }
    o += 2;
  }
  progress?.('encode', 1);
  return out;
}

/** Reads a binary STL as an unindexed mesh (three vertices per triangle, as the file stores them). */
export function decodeStl(bytes: Uint8Array, file = 'mesh.stl'): TriangleMesh {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 84) throw new Error(`${file}: too short for a binary STL (${buf.length} bytes)`);
  const count = buf.readUInt32LE(80);
  if (buf.length !== 84 + 50 * count) {
    throw new Error(
      `${file}: binary STL of ${count} triangles must be ${84 + 50 * count} bytes, file has ${buf.length}`,
    );
  }
  const positions = new Float32Array(9 * count);
  for (let t = 0; t < count; t++) {
    const o = 84 + 50 * t + 12;
    for (let k = 0; k < 9; k++) positions[9 * t + k] = buf.readFloatLE(o + 4 * k);
  }
  const indices = new Uint32Array(3 * count);
  for (let i = 0; i < indices.length; i++) indices[i] = i;
  return { positions, indices };
}
