/**
 * Binary wire format of frames and mesh blocks (docs/ui.md, "Binary messages"). Video, depth and
 * pose of one instant travel in ONE message, so the UI can never show a depth map or a pose that
 * belongs to another frame. No base64, no JSON arrays of pixels.
 *
 * Every message: little-endian, offsets from the message start, sections aligned to 4 bytes.
 *
 *   envelope (12 bytes)
 *     0  u32 magic 0x5756414E ("NAVW")
 *     4  u8  version (1)
 *     5  u8  kind: 1 = frame, 2 = mesh blocks
 *     6  u16 reserved (0)
 *     8  u32 requestId: 0 for the live streams, else the id of the request this answers
 *
 *   frame (kind 1), header 176 bytes
 *     12 u32 frameId                 16 f64 timeS (source time, s)
 *     24 f64 producedAtMs (epoch ms when the engine emitted the frame; latency measurement)
 *     32 u16 width   34 u16 height
 *     36 u8 flags (1 depth present, 2 pose present, 4 keyframe)
 *     37 u8 tracking state (0 initialising, 1 tracking, 2 lost, 3 relocalised)
 *     38 u8 depth encoding (0 none, 1 float32 mm, 2 uint16 x depthUnitMm)
 *     39 u8 reserved                 40 f32 depthUnitMm   44 u32 reserved
 *     48 f64[16] pose, camera-to-world, row-major, mm (zeros when absent)
 *     176 RGB bytes, width*height*3, row-major; padded to 4
 *     then depth: width*height float32 or uint16 (0 = unknown)
 *
 *   mesh blocks (kind 2), header 32 bytes
 *     12 u8 flags (1 = reset: drop every block not in this message)   13 u8[3] reserved
 *     16 u32 changedCount   20 u32 removedCount   24 u32 totalVertices   28 u32 reserved
 *     changed block: u16 keyBytes, u8 hasColors, u8 reserved, u32 vertexCount, u32 indexCount,
 *                    key (UTF-8) padded to 4, positions f32[3V] (mm), colours u8[3V] padded to 4,
 *                    indices u32[indexCount]
 *     removed block: u16 keyBytes, u16 reserved, key (UTF-8) padded to 4
 */
import type { DepthImage, RgbImage } from '../frames.js';
import type { Mat4 } from '../math/mat4.js';
import type { TriangleMesh } from '../mesh.js';
import type { ApiTrackingState } from './schemas.js';

export const WIRE_MAGIC = 0x5756414e;
export const WIRE_VERSION = 1;
export const FRAME_KIND = 1;
export const MESH_KIND = 2;
const ENVELOPE_BYTES = 12;
export const FRAME_HEADER_BYTES = 176;
/** depthFrameId on the wire when there is none (header bytes 44-47). */
const NO_FRAME = 0xffffffff;
const MESH_HEADER_BYTES = 32;
const MAX_SIDE = 8192;
const MAX_BLOCKS = 1 << 20;
const TRACKING_STATES: readonly ApiTrackingState[] = ['initialising', 'tracking', 'lost', 'relocalised'];

/** Video, depth and pose of one instant. */
export interface FrameBundle {
  frameId: number;
  /** Source time, seconds from the start of the run. */
  timeS: number;
  /** Epoch milliseconds at which the engine emitted this frame. */
  producedAtMs: number;
  rgb: RgbImage;
  /** Depth in mm along the optical axis (0 = unknown); null when there is none yet. */
  depth: DepthImage | null;
  /**
   * The frame `depth` was estimated on: this frame, or (keyframe schedule) the latest keyframe, whose
   * depth is shown until the next one; null with no depth.
   */
  depthFrameId: number | null;
  /** Camera-to-world (mm); null while tracking is lost. */
  pose: Mat4 | null;
  trackingState: ApiTrackingState;
  isKeyframe: boolean;
}

export interface MeshBlock {
  key: string;
  mesh: TriangleMesh;
}

/** Changed blocks replace their previous triangles; `reset` drops every block not named here. */
export interface MeshBlocksUpdate {
  reset: boolean;
  changed: MeshBlock[];
  removed: string[];
  totalVertices: number;
}

export type DepthEncoding = 'float32' | 'uint16';

export class WireFormatError extends Error {
  override name = 'WireFormatError';
}

const pad4 = (n: number): number => (n + 3) & ~3;
const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function writeEnvelope(view: DataView, kind: number, requestId: number): void {
  view.setUint32(0, WIRE_MAGIC, true);
  view.setUint8(4, WIRE_VERSION);
  view.setUint8(5, kind);
  view.setUint16(6, 0, true);
  view.setUint32(8, requestId >>> 0, true);
}

/** The message kind and request id, after checking magic and version. */
export function readEnvelope(bytes: Uint8Array): { kind: number; requestId: number } {
  if (bytes.byteLength < ENVELOPE_BYTES)
    throw new WireFormatError(`binary message of ${bytes.byteLength} bytes is too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== WIRE_MAGIC)
    throw new WireFormatError('binary message: bad magic (not a NavWS message)');
  const version = view.getUint8(4);
  if (version !== WIRE_VERSION)
    throw new WireFormatError(`binary message: version ${version}, expected ${WIRE_VERSION}`);
  return { kind: view.getUint8(5), requestId: view.getUint32(8, true) };
}

// Typed-array views need aligned offsets; a message that arrives at an odd offset inside a larger
// buffer (Node's Buffer pool) is copied once so every section below can be viewed in place.
function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
}

export function encodeFrame(
  frame: FrameBundle,
  requestId = 0,
  depthEncoding: DepthEncoding = 'uint16',
): Uint8Array {
  if (!isLittleEndian) throw new WireFormatError('big-endian hosts are not supported');
  const { width, height } = frame.rgb;
  if (width > MAX_SIDE || height > MAX_SIDE)
    throw new WireFormatError(`frame ${width}x${height} exceeds ${MAX_SIDE}`);
  if (frame.rgb.data.length !== width * height * 3)
    throw new WireFormatError('frame: RGB buffer does not match its size');
  const depth = frame.depth;
  if (depth && (depth.width !== width || depth.height !== height || depth.data.length !== width * height)) {
    throw new WireFormatError(
      `frame ${frame.frameId}: depth ${depth.width}x${depth.height} does not match video ${width}x${height}`,
    );
  }
  const pixels = width * height;
  const rgbBytes = pad4(pixels * 3);
  const depthBytes = depth ? pixels * (depthEncoding === 'uint16' ? 2 : 4) : 0;
  const out = new Uint8Array(FRAME_HEADER_BYTES + rgbBytes + pad4(depthBytes));
  const view = new DataView(out.buffer);
  writeEnvelope(view, FRAME_KIND, requestId);
  view.setUint32(12, frame.frameId >>> 0, true);
  view.setFloat64(16, frame.timeS, true);
  view.setFloat64(24, frame.producedAtMs, true);
  view.setUint16(32, width, true);
  view.setUint16(34, height, true);
  view.setUint8(36, (depth ? 1 : 0) | (frame.pose ? 2 : 0) | (frame.isKeyframe ? 4 : 0));
  view.setUint8(37, Math.max(0, TRACKING_STATES.indexOf(frame.trackingState)));
  view.setUint32(44, depth && frame.depthFrameId !== null ? frame.depthFrameId >>> 0 : NO_FRAME, true);
  if (frame.pose) {
    if (frame.pose.length !== 16) throw new WireFormatError('frame: pose must have 16 values');
    for (let i = 0; i < 16; i++) view.setFloat64(48 + i * 8, frame.pose[i]!, true);
  }
  out.set(frame.rgb.data, FRAME_HEADER_BYTES);
  const depthOffset = FRAME_HEADER_BYTES + rgbBytes;
  if (depth) {
    if (depthEncoding === 'uint16') {
      // The unit adapts so the farthest value fits; 0.01 mm is finer than any depth network.
      let max = 0;
      for (let i = 0; i < pixels; i++) {
        const d = depth.data[i]!;
        if (d > max && Number.isFinite(d)) max = d;
      }
      const unit = Math.max(0.01, max / 65535);
      view.setUint8(38, 2);
      view.setFloat32(40, unit, true);
      const dst = new Uint16Array(out.buffer, depthOffset, pixels);
      const inv = 1 / unit;
      for (let i = 0; i < pixels; i++) {
        const d = depth.data[i]!;
        dst[i] = d > 0 && Number.isFinite(d) ? Math.min(65535, Math.max(1, Math.round(d * inv))) : 0;
      }
    } else {
      view.setUint8(38, 1);
      view.setFloat32(40, 1, true);
      const dst = new Float32Array(out.buffer, depthOffset, pixels);
      for (let i = 0; i < pixels; i++) {
        const d = depth.data[i]!;
        dst[i] = d > 0 && Number.isFinite(d) ? d : 0;
      }
    }
  }
  return out;
}

export function decodeFrame(message: Uint8Array): { requestId: number; frame: FrameBundle } {
  const { kind, requestId } = readEnvelope(message);
  if (kind !== FRAME_KIND) throw new WireFormatError(`binary message kind ${kind} is not a frame`);
  if (message.byteLength < FRAME_HEADER_BYTES)
    throw new WireFormatError('frame message shorter than its header');
  const bytes = aligned(message);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint16(32, true);
  const height = view.getUint16(34, true);
  if (width === 0 || height === 0) throw new WireFormatError('frame: zero width or height');
  const flags = view.getUint8(36);
  const stateIndex = view.getUint8(37);
  const trackingState = TRACKING_STATES[stateIndex];
  if (!trackingState) throw new WireFormatError(`frame: unknown tracking state ${stateIndex}`);
  const encoding = view.getUint8(38);
  const unit = view.getFloat32(40, true);
  const pixels = width * height;
  const rgbBytes = pad4(pixels * 3);
  const hasDepth = (flags & 1) !== 0;
  if (hasDepth && encoding !== 1 && encoding !== 2)
    throw new WireFormatError(`frame: unknown depth encoding ${encoding}`);
  const depthBytes = hasDepth ? pixels * (encoding === 2 ? 2 : 4) : 0;
  const expected = FRAME_HEADER_BYTES + rgbBytes + pad4(depthBytes);
  if (bytes.byteLength !== expected) {
    throw new WireFormatError(
      `frame ${width}x${height}: message has ${bytes.byteLength} bytes, expected ${expected}`,
    );
  }
  let pose: Mat4 | null = null;
  if (flags & 2) {
    pose = new Float64Array(16);
    for (let i = 0; i < 16; i++) pose[i] = view.getFloat64(48 + i * 8, true);
  }
  const rgb: RgbImage = {
    width,
    height,
    data: bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + pixels * 3),
  };
  let depth: DepthImage | null = null;
  if (hasDepth) {
    const offset = bytes.byteOffset + FRAME_HEADER_BYTES + rgbBytes;
    if (encoding === 2) {
      if (!(unit > 0) || !Number.isFinite(unit))
        throw new WireFormatError(`frame: invalid depth unit ${unit}`);
      const src = new Uint16Array(bytes.buffer, offset, pixels);
      const data = new Float32Array(pixels);
      for (let i = 0; i < pixels; i++) data[i] = src[i]! * unit;
      depth = { width, height, data };
    } else {
      depth = { width, height, data: new Float32Array(bytes.buffer, offset, pixels) };
    }
  }
  return {
    requestId,
    frame: {
      frameId: view.getUint32(12, true),
      timeS: view.getFloat64(16, true),
      producedAtMs: view.getFloat64(24, true),
      rgb,
      depth,
      pose,
      trackingState,
      isKeyframe: (flags & 4) !== 0,
      depthFrameId: depth && view.getUint32(44, true) !== NO_FRAME ? view.getUint32(44, true) : null,
    },
  };
}

export function encodeMeshBlocks(update: MeshBlocksUpdate, requestId = 0): Uint8Array {
  if (!isLittleEndian) throw new WireFormatError('big-endian hosts are not supported');
  const keys = update.changed.map((b) => utf8Encoder.encode(b.key));
  const removedKeys = update.removed.map((k) => utf8Encoder.encode(k));
  let size = MESH_HEADER_BYTES;
  update.changed.forEach((block, i) => {
    const v = block.mesh.positions.length / 3;
    if (!Number.isInteger(v))
      throw new WireFormatError(`mesh block ${block.key}: positions not a multiple of 3`);
    if (block.mesh.indices.length % 3 !== 0)
      throw new WireFormatError(`mesh block ${block.key}: indices not a multiple of 3`);
    if (block.mesh.colors && block.mesh.colors.length !== v * 3) {
      throw new WireFormatError(
        `mesh block ${block.key}: ${block.mesh.colors.length / 3} colours for ${v} vertices`,
      );
    }
    if (keys[i]!.length > 0xffff) throw new WireFormatError('mesh block key too long');
    size +=
      12 +
      pad4(keys[i]!.length) +
      v * 12 +
      (block.mesh.colors ? pad4(v * 3) : 0) +
      block.mesh.indices.length * 4;
  });
  for (const k of removedKeys) {
    if (k.length > 0xffff) throw new WireFormatError('mesh block key too long');
    size += 4 + pad4(k.length);
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  writeEnvelope(view, MESH_KIND, requestId);
  view.setUint8(12, update.reset ? 1 : 0);
  view.setUint32(16, update.changed.length, true);
  view.setUint32(20, update.removed.length, true);
  view.setUint32(24, update.totalVertices >>> 0, true);
  let o = MESH_HEADER_BYTES;
  update.changed.forEach((block, i) => {
    const key = keys[i]!;
    const v = block.mesh.positions.length / 3;
    view.setUint16(o, key.length, true);
    view.setUint8(o + 2, block.mesh.colors ? 1 : 0);
    view.setUint32(o + 4, v, true);
    view.setUint32(o + 8, block.mesh.indices.length, true);
    o += 12;
    out.set(key, o);
    o += pad4(key.length);
    new Float32Array(out.buffer, o, v * 3).set(block.mesh.positions);
    o += v * 12;
    if (block.mesh.colors) {
      out.set(block.mesh.colors, o);
      o += pad4(v * 3);
    }
    new Uint32Array(out.buffer, o, block.mesh.indices.length).set(block.mesh.indices);
    o += block.mesh.indices.length * 4;
  });
  for (const key of removedKeys) {
    view.setUint16(o, key.length, true);
    o += 4;
    out.set(key, o);
    o += pad4(key.length);
  }
  return out;
}

export function decodeMeshBlocks(message: Uint8Array): { requestId: number; update: MeshBlocksUpdate } {
  const { kind, requestId } = readEnvelope(message);
  if (kind !== MESH_KIND) throw new WireFormatError(`binary message kind ${kind} is not a mesh update`);
  if (message.byteLength < MESH_HEADER_BYTES)
    throw new WireFormatError('mesh message shorter than its header');
  const bytes = aligned(message);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const changedCount = view.getUint32(16, true);
  const removedCount = view.getUint32(20, true);
  if (changedCount > MAX_BLOCKS || removedCount > MAX_BLOCKS)
    throw new WireFormatError('mesh message: too many blocks');
  let o = MESH_HEADER_BYTES;
  const need = (n: number, what: string): void => {
    if (o + n > bytes.byteLength) throw new WireFormatError(`mesh message truncated in ${what}`);
  };
  const readKey = (length: number): string => {
    need(pad4(length), 'a block key');
    const key = utf8Decoder.decode(bytes.subarray(o, o + length));
    o += pad4(length);
    return key;
  };
  const changed: MeshBlock[] = [];
  for (let b = 0; b < changedCount; b++) {
    need(12, 'a block header');
    const keyLength = view.getUint16(o, true);
    const hasColors = view.getUint8(o + 2) === 1;
    const v = view.getUint32(o + 4, true);
    const indexCount = view.getUint32(o + 8, true);
    o += 12;
    const key = readKey(keyLength);
    if (indexCount % 3 !== 0)
      throw new WireFormatError(`mesh block ${key}: index count ${indexCount} not a multiple of 3`);
    need(v * 12, `block ${key} positions`);
    const positions = new Float32Array(bytes.buffer, bytes.byteOffset + o, v * 3);
    o += v * 12;
    let colors: Uint8Array | undefined;
    if (hasColors) {
      need(pad4(v * 3), `block ${key} colours`);
      colors = bytes.subarray(o, o + v * 3);
      o += pad4(v * 3);
    }
    need(indexCount * 4, `block ${key} indices`);
    const indices = new Uint32Array(bytes.buffer, bytes.byteOffset + o, indexCount);
    o += indexCount * 4;
    for (let i = 0; i < indexCount; i++) {
      if (indices[i]! >= v)
        throw new WireFormatError(`mesh block ${key}: index ${indices[i]} out of ${v} vertices`);
    }
    changed.push({ key, mesh: colors ? { positions, colors, indices } : { positions, indices } });
  }
  const removed: string[] = [];
  for (let b = 0; b < removedCount; b++) {
    need(4, 'a removed key');
    const keyLength = view.getUint16(o, true);
    o += 4;
    removed.push(readKey(keyLength));
  }
  if (o !== bytes.byteLength)
    throw new WireFormatError(`mesh message has ${bytes.byteLength - o} trailing bytes`);
  return {
    requestId,
    update: {
      reset: (view.getUint8(12) & 1) !== 0,
      changed,
      removed,
      totalVertices: view.getUint32(24, true),
    },
  };
}
