/**
 * OpenIGTLink message framing. Every message is a 58-byte big-endian header followed by a body:
 *   u16 header version | char[12] type | char[20] device name | u64 timestamp | u64 body size | u64 CRC-64
 * Header version 1 (protocol versions 1 and 2): the body is the message content.
 * Header version 2 (protocol version 3): the body is a 12-byte extended header
 *   (u16 extended header size = 12, u16 metadata header size, u32 metadata size, u32 message id),
 * the content, the metadata header (u16 count, then per entry u16 key size, u16 value encoding,
 * u32 value size) and the metadata keys and values.
 * The timestamp is seconds in the upper 32 bits and the fraction of a second (units of 2^-32 s) in the
 * lower 32 bits. The CRC covers the whole body.
 */
import { crc64 } from './crc64.js';

export const HEADER_SIZE = 58;
export const TYPE_SIZE = 12;
export const DEVICE_NAME_SIZE = 20;
export const EXTENDED_HEADER_SIZE = 12;
/** IANA MIBenum of US-ASCII, the metadata value encoding NavWS writes. */
const US_ASCII = 3;

export type HeaderVersion = 1 | 2;

export class IgtlProtocolError extends Error {}

export interface IgtlHeader {
  version: number;
  type: string;
  deviceName: string;
  /** Seconds (since the Unix epoch for NavWS' messages), 2^-32 s resolution. */
  timestampS: number;
  bodySize: bigint;
  crc: bigint;
}

export interface IgtlMessage {
  type: string;
  deviceName: string;
  timestampS: number;
  content: Uint8Array;
}

export function encodeTimestamp(seconds: number): bigint {
  if (!(seconds >= 0 && seconds < 2 ** 32))
    throw new RangeError(`timestamp ${seconds} s is outside the protocol's 0..2^32 s`);
  const whole = Math.floor(seconds);
  const frac = Math.min(0xffffffff, Math.round((seconds - whole) * 2 ** 32));
  return (BigInt(whole) << 32n) | BigInt(frac);
}

export function decodeTimestamp(value: bigint): number {
  return Number(value >> 32n) + Number(value & 0xffffffffn) / 2 ** 32;
}

function writeName(buf: Buffer, offset: number, size: number, name: string, what: string): void {
  if (!/^[\x20-\x7e]*$/.test(name) || name.length > size)
    throw new RangeError(`${what} '${name}' must be at most ${size} printable ASCII characters`);
  buf.fill(0, offset, offset + size);
  buf.write(name, offset, 'latin1');
}

function readName(buf: Uint8Array, offset: number, size: number, what: string): string {
  let end = offset;
  while (end < offset + size && buf[end] !== 0) end++;
  for (let i = offset; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c > 0x7e)
      throw new IgtlProtocolError(`${what} holds byte 0x${c.toString(16).padStart(2, '0')}, not ASCII text`);
  }
  for (let i = end; i < offset + size; i++) {
    if (buf[i] !== 0) throw new IgtlProtocolError(`${what} has bytes after its terminating NUL`);
  }
  return Buffer.from(buf.buffer, buf.byteOffset + offset, end - offset).toString('latin1');
}

export function writeHeader(buf: Buffer, h: IgtlHeader): void {
  buf.writeUInt16BE(h.version, 0);
  writeName(buf, 2, TYPE_SIZE, h.type, 'message type');
  writeName(buf, 14, DEVICE_NAME_SIZE, h.deviceName, 'device name');
  buf.writeBigUInt64BE(encodeTimestamp(h.timestampS), 34);
  buf.writeBigUInt64BE(h.bodySize, 42);
  buf.writeBigUInt64BE(h.crc, 50);
}

/** Parses a header; a malformed one (not a version 1-3 header with ASCII names) throws IgtlProtocolError. */
export function readHeader(bytes: Uint8Array): IgtlHeader {
  if (bytes.length < HEADER_SIZE)
    throw new IgtlProtocolError(`header needs ${HEADER_SIZE} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const version = view.getUint16(0);
  if (version < 1 || version > 3) throw new IgtlProtocolError(`unknown header version ${version}`);
  const type = readName(bytes, 2, TYPE_SIZE, 'message type');
  if (type.length === 0) throw new IgtlProtocolError('empty message type');
  return {
    version,
    type,
    deviceName: readName(bytes, 14, DEVICE_NAME_SIZE, 'device name'),
    timestampS: decodeTimestamp(view.getBigUint64(34)),
    bodySize: view.getBigUint64(42),
    crc: view.getBigUint64(50),
  };
}

/**
 * The message as parts for the socket, without copying the content: [header (+ extended header)],
 * content, [metadata]. The CRC runs over the parts in order. `version` 2 wraps the content in the
 * extended header and metadata.
 */
export function encodeMessageParts(
  msg: IgtlMessage,
  version: HeaderVersion = 1,
  messageId = 0,
  metadata: ReadonlyArray<readonly [string, string]> = [],
): Buffer[] {
  const content = Buffer.from(msg.content.buffer, msg.content.byteOffset, msg.content.length);
  const head = Buffer.allocUnsafe(HEADER_SIZE + (version === 2 ? EXTENDED_HEADER_SIZE : 0));
  const parts = [head, content];
  let bodySize = content.length;
  if (version === 2) {
    const metaHeaderSize = metadata.length ? 2 + 8 * metadata.length : 0;
    let metaSize = 0;
    for (const [k, v] of metadata)
      metaSize += Buffer.byteLength(k, 'latin1') + Buffer.byteLength(v, 'latin1');
    head.writeUInt16BE(EXTENDED_HEADER_SIZE, HEADER_SIZE);
    head.writeUInt16BE(metaHeaderSize, HEADER_SIZE + 2);
    head.writeUInt32BE(metaSize, HEADER_SIZE + 4);
    head.writeUInt32BE(messageId >>> 0, HEADER_SIZE + 8);
    bodySize += EXTENDED_HEADER_SIZE + metaHeaderSize + metaSize;
    if (metadata.length) {
      const meta = Buffer.allocUnsafe(metaHeaderSize + metaSize);
      meta.writeUInt16BE(metadata.length, 0);
      let o = 2;
      for (const [k, v] of metadata) {
        meta.writeUInt16BE(Buffer.byteLength(k, 'latin1'), o);
        meta.writeUInt16BE(US_ASCII, o + 2);
        meta.writeUInt32BE(Buffer.byteLength(v, 'latin1'), o + 4);
        o += 8;
      }
      for (const [k, v] of metadata) {
        o += meta.write(k, o, 'latin1');
        o += meta.write(v, o, 'latin1');
      }
      parts.push(meta);
    }
  }
  let crc = crc64(head.subarray(HEADER_SIZE));
  for (let i = 1; i < parts.length; i++) crc = crc64(parts[i]!, crc);
  writeHeader(head, {
    version,
    type: msg.type,
    deviceName: msg.deviceName,
    timestampS: msg.timestampS,
    bodySize: BigInt(bodySize),
    crc,
  });
  return parts;
}

/** Header plus body in one buffer (tests, small messages); see encodeMessageParts. */
export function encodeMessage(
  msg: IgtlMessage,
  version: HeaderVersion = 1,
  messageId = 0,
  metadata: ReadonlyArray<readonly [string, string]> = [],
): Buffer {
  return Buffer.concat(encodeMessageParts(msg, version, messageId, metadata));
}

export interface DecodedBody {
  content: Buffer;
  messageId: number | null;
  metadata: Map<string, string>;
}

/** Checks the CRC and unwraps a version 2 body; a wrong CRC or a malformed extended header throws. */
export function decodeBody(header: IgtlHeader, body: Buffer): DecodedBody {
  if (BigInt(body.length) !== header.bodySize)
    throw new IgtlProtocolError(`body has ${body.length} bytes, header says ${header.bodySize}`);
  const crc = crc64(body);
  if (crc !== header.crc)
    throw new IgtlProtocolError(
      `CRC mismatch on ${header.type} (header ${header.crc.toString(16)}, body ${crc.toString(16)})`,
    );
  if (header.version < 2) return { content: body, messageId: null, metadata: new Map() };
  if (body.length < EXTENDED_HEADER_SIZE)
    throw new IgtlProtocolError(`version ${header.version} body shorter than its extended header`);
  const extSize = body.readUInt16BE(0);
  const metaHeaderSize = body.readUInt16BE(2);
  const metaSize = body.readUInt32BE(4);
  const messageId = body.readUInt32BE(8);
  const contentEnd = body.length - metaHeaderSize - metaSize;
  if (extSize < EXTENDED_HEADER_SIZE || contentEnd < extSize)
    throw new IgtlProtocolError(
      `extended header sizes (${extSize}, ${metaHeaderSize}, ${metaSize}) do not fit a ${body.length}-byte body`,
    );
  const metadata = new Map<string, string>();
  if (metaHeaderSize >= 2) {
    const count = body.readUInt16BE(contentEnd);
    if (2 + 8 * count !== metaHeaderSize)
      throw new IgtlProtocolError(`metadata header of ${metaHeaderSize} bytes cannot hold ${count} entries`);
    let v = contentEnd + metaHeaderSize;
    for (let i = 0; i < count; i++) {
      const e = contentEnd + 2 + 8 * i;
      const keySize = body.readUInt16BE(e);
      const valueSize = body.readUInt32BE(e + 4);
      if (v + keySize + valueSize > body.length) throw new IgtlProtocolError('metadata runs past the body');
      const key = body.toString('latin1', v, v + keySize);
      v += keySize;
      metadata.set(key, body.toString('utf8', v, v + valueSize));
      v += valueSize;
    }
  }
  return { content: body.subarray(extSize, contentEnd), messageId, metadata };
}
