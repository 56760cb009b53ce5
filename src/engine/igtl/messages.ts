/**
 * Content (body without the extended header) of the OpenIGTLink message types NavWS sends, big-endian
 * as the protocol requires, laid out as the reference implementation (libOpenIGTLink, igtl_*.c) packs
 * them.
 */
import { type DepthImage, type RgbImage, assertDepthImage, assertRgbImage } from '../../shared/frames.js';
import type { Mat4 } from '../../shared/math/mat4.js';
import { IgtlProtocolError } from './codec.js';

/** TRANSFORM: the upper 3x4 of a 4x4, column by column (R11 R21 R31 R12 ... R33 TX TY TZ), float32. */
export function transformContent(m: Mat4): Buffer {
  const out = Buffer.allocUnsafe(48);
  let o = 0;
  for (let c = 0; c < 4; c++) for (let r = 0; r < 3; r++, o += 4) out.writeFloatBE(m[r * 4 + c]!, o);
  return out;
}

export function decodeTransform(content: Uint8Array): Mat4 {
  if (content.length !== 48)
    throw new IgtlProtocolError(`TRANSFORM content must be 48 bytes, got ${content.length}`);
  const b = Buffer.from(content.buffer, content.byteOffset, content.length);
  const m = new Float64Array(16);
  for (let c = 0; c < 4; c++) for (let r = 0; r < 3; r++) m[r * 4 + c] = b.readFloatBE(4 * (c * 3 + r));
  m[15] = 1;
  return m;
}

/** STATUS codes used by NavWS (igtlStatusMessage.h). */
export const STATUS_OK = 1;
export const STATUS_NOT_READY = 13;
export const STATUS_TIME_OUT = 7;

export interface StatusBody {
  code: number;
  subcode: bigint;
  /** At most 19 characters (20 bytes with its NUL). */
  errorName: string;
  message: string;
}

/** STATUS: u16 code, i64 subcode, char[20] error name, NUL-terminated status message. */
export function statusContent(s: StatusBody): Buffer {
  if (s.errorName.length > 19)
    throw new RangeError(`status error name '${s.errorName}' exceeds 19 characters`);
  const msg = Buffer.from(s.message, 'latin1');
  const out = Buffer.alloc(30 + msg.length + 1);
  out.writeUInt16BE(s.code, 0);
  out.writeBigInt64BE(s.subcode, 2);
  out.write(s.errorName, 10, 'latin1');
  msg.copy(out, 30);
  return out;
}

export function decodeStatus(content: Uint8Array): StatusBody {
  if (content.length < 30) throw new IgtlProtocolError(`STATUS content too short (${content.length} bytes)`);
  const b = Buffer.from(content.buffer, content.byteOffset, content.length);
  const cstr = (start: number, end: number): string => {
    const nul = b.indexOf(0, start);
    return b.toString('latin1', start, nul < 0 || nul > end ? end : nul);
  };
  return {
    code: b.readUInt16BE(0),
    subcode: b.readBigInt64BE(2),
    errorName: cstr(10, 30),
    message: cstr(30, b.length),
  };
}

/** Geometry of an IMAGE: where its voxels lie (mm), in the frame the message declares. */
export interface ImageGeometry {
  coord: 'ras' | 'lps';
  /** Unit directions of the i (column), j (row) and k (slice) indices. */
  dirI: readonly [number, number, number];
  dirJ: readonly [number, number, number];
  dirK: readonly [number, number, number];
  spacing: readonly [number, number, number];
  /** The centre of the image, as OpenIGTLink's IMAGE origin field means it. */
  centre: readonly [number, number, number];
}

const IMAGE_HEADER_SIZE = 72;
const SCALAR_UINT8 = 3;
const SCALAR_FLOAT32 = 10;

function imageHeader(
  out: Buffer,
  components: number,
  scalarType: number,
  width: number,
  height: number,
  g: ImageGeometry,
): void {
  if (width > 0xffff || height > 0xffff)
    throw new RangeError(`image ${width}x${height} exceeds 65535 pixels`);
  out.writeUInt16BE(1, 0);
  out.writeUInt8(components, 2);
  out.writeUInt8(scalarType, 3);
  out.writeUInt8(1, 4); // big-endian voxels
  out.writeUInt8(g.coord === 'ras' ? 1 : 2, 5);
  out.writeUInt16BE(width, 6);
  out.writeUInt16BE(height, 8);
  out.writeUInt16BE(1, 10);
  const cols = [g.dirI, g.dirJ, g.dirK];
  let o = 12;
  for (let c = 0; c < 3; c++)
    for (let r = 0; r < 3; r++, o += 4) out.writeFloatBE(cols[c]![r]! * g.spacing[c]!, o);
  for (let r = 0; r < 3; r++, o += 4) out.writeFloatBE(g.centre[r]!, o);
  // The whole image is the sub-volume.
  out.writeUInt16BE(0, 60);
  out.writeUInt16BE(0, 62);
  out.writeUInt16BE(0, 64);
  out.writeUInt16BE(width, 66);
  out.writeUInt16BE(height, 68);
  out.writeUInt16BE(1, 70);
}

/** IMAGE of an 8-bit RGB frame: 3 components, uint8, row-major with the top-left pixel first. */
export function rgbImageContent(img: RgbImage, g: ImageGeometry): Buffer {
  assertRgbImage(img, 'IMAGE');
  const out = Buffer.allocUnsafe(IMAGE_HEADER_SIZE + img.data.length);
  imageHeader(out, 3, SCALAR_UINT8, img.width, img.height, g);
  out.set(img.data, IMAGE_HEADER_SIZE);
  return out;
}

/** IMAGE of a depth map: 1 component, float32 mm (0 = unknown), big-endian. */
export function depthImageContent(depth: DepthImage, g: ImageGeometry): Buffer {
  assertDepthImage(depth, 'IMAGE (depth)');
  const n = depth.data.length;
  const out = Buffer.allocUnsafe(IMAGE_HEADER_SIZE + 4 * n);
  imageHeader(out, 1, SCALAR_FLOAT32, depth.width, depth.height, g);
  for (let i = 0; i < n; i++) {
    const d = depth.data[i]!;
    out.writeFloatBE(Number.isFinite(d) && d > 0 ? d : 0, IMAGE_HEADER_SIZE + 4 * i);
  }
  return out;
}

/**
 * POLYDATA of a triangle mesh: the 40-byte header (points, vertices, lines, polygons, strips,
 * attributes), float32 points, then each polygon as (3, i0, i1, i2) in uint32. When colours are given
 * they travel as one point attribute "RGB": POINT_DATA scalars (type 0x00) with 3 float32 components
 * in 0..1. (Not the RGBA type 0x04: libOpenIGTLink 1.11's unpack reads that as a 9-component tensor
 * and runs past the body.)
 */
export function polyDataContent(positions: Float32Array, indices: Uint32Array, colors?: Uint8Array): Buffer {
  const npoints = positions.length / 3;
  const ntris = indices.length / 3;
  const name = Buffer.from('RGB\0', 'latin1');
  const namesSize = colors ? name.length + (name.length % 2) : 0;
  const attrSize = colors ? 6 + namesSize + 12 * npoints : 0;
  const size = 40 + 12 * npoints + 16 * ntris + attrSize;
  const out = Buffer.alloc(size);
  const header = [npoints, 0, 0, 0, 0, ntris, 16 * ntris, 0, 0, colors ? 1 : 0];
  header.forEach((v, i) => out.writeUInt32BE(v, 4 * i));
  let o = 40;
  for (let i = 0; i < positions.length; i++, o += 4) out.writeFloatBE(positions[i]!, o);
  for (let t = 0; t < ntris; t++) {
    out.writeUInt32BE(3, o);
    out.writeUInt32BE(indices[3 * t]!, o + 4);
    out.writeUInt32BE(indices[3 * t + 1]!, o + 8);
    out.writeUInt32BE(indices[3 * t + 2]!, o + 12);
    o += 16;
  }
  if (colors) {
    out.writeUInt8(0x00, o); // POINT_DATA / scalars
    out.writeUInt8(3, o + 1);
    out.writeUInt32BE(npoints, o + 2);
    o += 6;
    name.copy(out, o);
    o += namesSize;
    for (let v = 0; v < npoints; v++) {
      for (let c = 0; c < 3; c++, o += 4) out.writeFloatBE(colors[3 * v + c]! / 255, o);
    }
  }
  return out;
}

/** CAPABILITY: the message types this server sends, 12 bytes each. */
export function capabilityContent(types: readonly string[]): Buffer {
  const out = Buffer.alloc(12 * types.length);
  types.forEach((t, i) => out.write(t, 12 * i, 'latin1'));
  return out;
}
