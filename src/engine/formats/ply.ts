/**
 * PLY meshes: binary little-endian writer (float xyz in mm, optional float normals, uchar RGB, int
 * triangle lists) and a reader for ASCII and binary little/big-endian files with vertex and face elements.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { TriangleMesh } from '../../shared/mesh.js';
import { validateMesh } from '../../shared/mesh.js';

export function encodePly(
  mesh: TriangleMesh,
  comment = 'NavWS mesh, units: millimetres, frame: first camera (OpenCV axes)',
): Buffer {
  validateMesh(mesh);
  const n = mesh.positions.length / 3;
  const f = mesh.indices.length / 3;
  const hasN = mesh.normals !== undefined;
  const hasC = mesh.colors !== undefined;
  const header =
    'ply\nformat binary_little_endian 1.0\n' +
    `comment ${comment}\n` +
    `element vertex ${n}\nproperty float x\nproperty float y\nproperty float z\n` +
    (hasN ? 'property float nx\nproperty float ny\nproperty float nz\n' : '') +
    (hasC ? 'property uchar red\nproperty uchar green\nproperty uchar blue\n' : '') +
    `element face ${f}\nproperty list uchar int vertex_indices\nend_header\n`;
  const stride = 12 + (hasN ? 12 : 0) + (hasC ? 3 : 0);
  const headerBytes = Buffer.from(header, 'ascii');
  const out = Buffer.allocUnsafe(headerBytes.length + n * stride + f * 13);
  headerBytes.copy(out, 0);
  let o = headerBytes.length;
  for (let i = 0; i < n; i++) {
    out.writeFloatLE(mesh.positions[3 * i]!, o);
    out.writeFloatLE(mesh.positions[3 * i + 1]!, o + 4);
    out.writeFloatLE(mesh.positions[3 * i + 2]!, o + 8);
    o += 12;
    if (hasN) {
      out.writeFloatLE(mesh.normals![3 * i]!, o);
      out.writeFloatLE(mesh.normals![3 * i + 1]!, o + 4);
      out.writeFloatLE(mesh.normals![3 * i + 2]!, o + 8);
      o += 12;
    }
    if (hasC) {
      out[o] = mesh.colors![3 * i]!;
      out[o + 1] = mesh.colors![3 * i + 1]!;
      out[o + 2] = mesh.colors![3 * i + 2]!;
      o += 3;
    }
  }
  for (let t = 0; t < f; t++) {
    out[o] = 3;
    out.writeInt32LE(mesh.indices[3 * t]!, o + 1);
    out.writeInt32LE(mesh.indices[3 * t + 1]!, o + 5);
    out.writeInt32LE(mesh.indices[3 * t + 2]!, o + 9);
    o += 13;
  }
  return out;
}

export async function writePly(file: string, mesh: TriangleMesh): Promise<void> {
  await writeFile(file, encodePly(mesh));
}

type ScalarType = 'char' | 'uchar' | 'short' | 'ushort' | 'int' | 'uint' | 'float' | 'double';
interface Property {
  name: string;
  type: ScalarType;
  listCount?: ScalarType;
}
interface Element {
  name: string;
  count: number;
  properties: Property[];
}

const TYPE_ALIASES: Record<string, ScalarType> = {
  char: 'char',
  int8: 'char',
  uchar: 'uchar',
  uint8: 'uchar',
  short: 'short',
  int16: 'short',
  ushort: 'ushort',
  uint16: 'ushort',
  int: 'int',
  int32: 'int',
  uint: 'uint',
  uint32: 'uint',
  float: 'float',
  float32: 'float',
  double: 'double',
  float64: 'double',
};
const TYPE_SIZES: Record<ScalarType, number> = {
  char: 1,
  uchar: 1,
  short: 2,
  ushort: 2,
  int: 4,
  uint: 4,
  float: 4,
  double: 8,
};

function scalarType(name: string | undefined, file: string, line: number): ScalarType {
  const t = name === undefined ? undefined : TYPE_ALIASES[name];
  if (!t) throw new Error(`${file}: header line ${line}: unknown PLY property type '${String(name)}'`);
  return t;
}

export function decodePly(bytes: Uint8Array, file = 'mesh.ply'): TriangleMesh {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = buf.indexOf('end_header');
  if (
    buf.subarray(0, 4).toString('ascii') !== 'ply\n' &&
    buf.subarray(0, 5).toString('ascii') !== 'ply\r\n'
  ) {
    throw new Error(`${file}: not a PLY file (missing 'ply' magic on line 1)`);
  }
  if (end < 0) throw new Error(`${file}: PLY header has no 'end_header'`);
  let bodyStart = buf.indexOf('\n', end) + 1;
  if (bodyStart <= 0) bodyStart = buf.length;
  const lines = buf.subarray(0, end).toString('ascii').split(/\r?\n/);
  let format = '';
  const elements: Element[] = [];
  lines.forEach((raw, i) => {
    const parts = raw.trim().split(/\s+/);
    const line = i + 1;
    if (parts[0] === 'format') format = parts[1] ?? '';
    else if (parts[0] === 'element') {
      const count = Number(parts[2]);
      if (!Number.isInteger(count) || count < 0)
        throw new Error(`${file}: header line ${line}: bad element count '${parts[2]}'`);
      elements.push({ name: parts[1] ?? '', count, properties: [] });
    } else if (parts[0] === 'property') {
      const el = elements.at(-1);
      if (!el) throw new Error(`${file}: header line ${line}: property before any element`);
      if (parts[1] === 'list') {
        el.properties.push({
          name: parts[4] ?? '',
          type: scalarType(parts[3], file, line),
          listCount: scalarType(parts[2], file, line),
        });
      } else {
        el.properties.push({ name: parts[2] ?? '', type: scalarType(parts[1], file, line) });
      }
    }
  });
  if (!['ascii', 'binary_little_endian', 'binary_big_endian'].includes(format)) {
    throw new Error(`${file}: unsupported PLY format '${format}'`);
  }
  const vertexEl = elements.find((e) => e.name === 'vertex');
  if (!vertexEl) throw new Error(`${file}: PLY has no vertex element`);
  const propIndex = (name: string): number => vertexEl.properties.findIndex((p) => p.name === name);
  for (const axis of ['x', 'y', 'z']) {
    if (propIndex(axis) < 0) throw new Error(`${file}: vertex element has no '${axis}' property`);
  }
  const hasN = propIndex('nx') >= 0 && propIndex('ny') >= 0 && propIndex('nz') >= 0;
  const colourNames = propIndex('red') >= 0 ? ['red', 'green', 'blue'] : ['r', 'g', 'b'];
  const hasC = colourNames.every((c) => propIndex(c) >= 0);
  const positions = new Float32Array(vertexEl.count * 3);
  const normals = hasN ? new Float32Array(vertexEl.count * 3) : undefined;
  const colors = hasC ? new Uint8Array(vertexEl.count * 3) : undefined;
  const faces: number[] = [];

  const little = format === 'binary_little_endian';
  let offset = bodyStart;
  let tokens: string[] = [];
  let tokenPos = 0;
  if (format === 'ascii') {
    tokens = buf.subarray(bodyStart).toString('ascii').trim().split(/\s+/);
  }
  const readScalar = (type: ScalarType): number => {
    if (format === 'ascii') {
      const tok = tokens[tokenPos++];
      const v = Number(tok);
      if (tok === undefined || Number.isNaN(v))
        throw new Error(`${file}: ASCII body ends early or has a bad number near token ${tokenPos}`);
      return v;
    }
    const size = TYPE_SIZES[type];
    if (offset + size > buf.length) throw new Error(`${file}: binary body truncated at byte ${offset}`);
    let v: number;
    switch (type) {
      case 'char':
        v = buf.readInt8(offset);
        break;
      case 'uchar':
        v = buf.readUInt8(offset);
        break;
      case 'short':
        v = little ? buf.readInt16LE(offset) : buf.readInt16BE(offset);
        break;
      case 'ushort':
        v = little ? buf.readUInt16LE(offset) : buf.readUInt16BE(offset);
        break;
      case 'int':
        v = little ? buf.readInt32LE(offset) : buf.readInt32BE(offset);
        break;
      case 'uint':
        v = little ? buf.readUInt32LE(offset) : buf.readUInt32BE(offset);
        break;
      case 'float':
        v = little ? buf.readFloatLE(offset) : buf.readFloatBE(offset);
        break;
      case 'double':
        v = little ? buf.readDoubleLE(offset) : buf.readDoubleBE(offset);
        break;
    }
    offset += size;
    return v;
  };
  for (const el of elements) {
    for (let i = 0; i < el.count; i++) {
      for (const prop of el.properties) {
        if (prop.listCount) {
          const len = readScalar(prop.listCount);
          const items: number[] = [];
          for (let k = 0; k < len; k++) items.push(readScalar(prop.type));
          if (el.name === 'face' && (prop.name === 'vertex_indices' || prop.name === 'vertex_index')) {
            // Fan-triangulate polygons; most writers emit triangles already.
            for (let k = 1; k + 1 < items.length; k++) faces.push(items[0]!, items[k]!, items[k + 1]!);
          }
          continue;
        }
        const v = readScalar(prop.type);
        if (el !== vertexEl) continue;
        switch (prop.name) {
          case 'x':
            positions[3 * i] = v;
            break;
          case 'y':
            positions[3 * i + 1] = v;
            break;
          case 'z':
            positions[3 * i + 2] = v;
            break;
          case 'nx':
            if (normals) normals[3 * i] = v;
            break;
          case 'ny':
            if (normals) normals[3 * i + 1] = v;
            break;
          case 'nz':
            if (normals) normals[3 * i + 2] = v;
            break;
          default: {
            const c = colourNames.indexOf(prop.name);
            if (colors && c >= 0)
              colors[3 * i + c] = prop.type === 'float' || prop.type === 'double' ? Math.round(v * 255) : v;
          }
        }
      }
    }
  }
  const mesh: TriangleMesh = { positions, indices: Uint32Array.from(faces) };
  if (normals) mesh.normals = normals;
  if (colors) mesh.colors = colors;
  validateMesh(mesh, file);
  return mesh;
}

export async function readPly(file: string): Promise<TriangleMesh> {
  return decodePly(await readFile(file), file);
}
