import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  HEADER_SIZE,
  IgtlProtocolError,
  decodeBody,
  decodeTimestamp,
  encodeMessage,
  encodeTimestamp,
  readHeader,
} from '../../src/engine/igtl/codec.js';
import { directionInFrame, poseInFrame, worldToFrame } from '../../src/engine/igtl/coordinates.js';
import { crc64 } from '../../src/engine/igtl/crc64.js';
import {
  decodeStatus,
  decodeTransform,
  statusContent,
  transformContent,
} from '../../src/engine/igtl/messages.js';
import { MessageReader } from '../../src/engine/igtl/reader.js';
import { determinant3, rotationOf } from '../../src/shared/math/mat4.js';
import { se3Exp } from '../../src/shared/math/se3.js';

test('CRC-64 is ECMA-182 as OpenIGTLink computes it (MSB first, init 0, no final XOR)', () => {
  // Check value of CRC-64/ECMA-182 ("123456789").
  assert.equal(crc64(Buffer.from('123456789')), 0x6c40df5f0b497347n);
  assert.equal(crc64(new Uint8Array(0)), 0n);
  const data = Buffer.from('NavWS OpenIGTLink body');
  assert.equal(crc64(data.subarray(7), crc64(data.subarray(0, 7))), crc64(data), 'continues across chunks');
});

test('the sliced CRC equals a bit-by-bit CRC-64/ECMA-182 on any length and across chunks', () => {
  const bitwise = (data: Uint8Array): bigint => {
    let c = 0n;
    for (const byte of data) {
      c ^= BigInt(byte) << 56n;
      for (let k = 0; k < 8; k++)
        c = c & (1n << 63n) ? ((c << 1n) ^ 0x42f0e1eba9ea3693n) & ((1n << 64n) - 1n) : c << 1n;
    }
    return c;
  };
  let seed = 7;
  for (const n of [1, 7, 8, 9, 15, 16, 17, 63, 100, 1001]) {
    const data = Uint8Array.from(
      { length: n },
      () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff,
    );
    assert.equal(crc64(data), bitwise(data), `length ${n}`);
    const cut = Math.floor(n / 3);
    assert.equal(
      crc64(data.subarray(cut), crc64(data.subarray(0, cut))),
      bitwise(data),
      `length ${n}, chunks`,
    );
  }
});

test('timestamps: seconds in the upper 32 bits, 2^-32 s fractions in the lower', () => {
  assert.equal(encodeTimestamp(1.5), (1n << 32n) | 0x80000000n);
  const t = 1_765_000_000.123456;
  assert.ok(Math.abs(decodeTimestamp(encodeTimestamp(t)) - t) < 1e-6);
  assert.throws(() => encodeTimestamp(-1), /outside/);
});

test('a version 1 message: 58-byte header, the content as body, CRC over the body', () => {
  const pose = se3Exp([1, 2, 3, 0.1, -0.2, 0.3]);
  const msg = encodeMessage({
    type: 'TRANSFORM',
    deviceName: 'NavWS-CameraToRAS',
    timestampS: 42.25,
    content: transformContent(pose),
  });
  assert.equal(msg.length, HEADER_SIZE + 48);
  const h = readHeader(msg);
  assert.deepEqual(
    [h.version, h.type, h.deviceName, h.timestampS, h.bodySize],
    [1, 'TRANSFORM', 'NavWS-CameraToRAS', 42.25, 48n],
  );
  const body = decodeBody(h, msg.subarray(HEADER_SIZE));
  const back = decodeTransform(body.content);
  for (let i = 0; i < 16; i++) assert.ok(Math.abs(back[i]! - pose[i]!) < 1e-6);
  // Column-major 3x4: the first three floats are the first column (the camera's x axis).
  assert.equal(msg.readFloatBE(HEADER_SIZE + 4), Math.fround(pose[4]!));
  assert.equal(msg.readFloatBE(HEADER_SIZE + 36), Math.fround(pose[3]!));
});

test('a version 2 message (protocol 3) wraps the content in the extended header and metadata', () => {
  const content = statusContent({ code: 1, subcode: 7n, errorName: '', message: 'tracking' });
  const msg = encodeMessage({ type: 'STATUS', deviceName: 'NavWS-Tracking', timestampS: 1, content }, 2, 99, [
    ['Sender', 'NavWS'],
    ['Unit', 'mm'],
  ]);
  const h = readHeader(msg);
  assert.equal(h.version, 2);
  const body = msg.subarray(HEADER_SIZE);
  assert.equal(body.readUInt16BE(0), 12, 'extended header size');
  assert.equal(body.readUInt16BE(2), 2 + 8 * 2, 'metadata header size');
  assert.equal(body.readUInt32BE(4), 'SenderNavWSUnitmm'.length, 'metadata size');
  const d = decodeBody(h, body);
  assert.equal(d.messageId, 99);
  assert.deepEqual(
    [...d.metadata],
    [
      ['Sender', 'NavWS'],
      ['Unit', 'mm'],
    ],
  );
  assert.deepEqual(decodeStatus(d.content), { code: 1, subcode: 7n, errorName: '', message: 'tracking' });
});

test('names are validated on the way out and on the way in', () => {
  assert.throws(
    () =>
      encodeMessage({
        type: 'TRANSFORM',
        deviceName: 'x'.repeat(21),
        timestampS: 0,
        content: new Uint8Array(0),
      }),
    /device name/,
  );
  const garbage = Buffer.alloc(HEADER_SIZE, 0xff);
  assert.throws(() => readHeader(garbage), IgtlProtocolError);
});

test('the reader splits a byte stream, discards a wrong CRC, refuses garbage and huge bodies', () => {
  const a = encodeMessage({ type: 'GET_STATUS', deviceName: '', timestampS: 0, content: new Uint8Array(0) });
  const b = encodeMessage({ type: 'STRING', deviceName: 'x', timestampS: 0, content: Buffer.from('hello') });
  const bad = Buffer.from(b);
  bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
  const stream = Buffer.concat([a, bad, b]);
  const reader = new MessageReader(1024);
  const results = [];
  for (let o = 0; o < stream.length; o += 7) results.push(...reader.push(stream.subarray(o, o + 7)));
  assert.deepEqual(
    results.map((r) => `${r.kind}:${r.header.type}`),
    ['message:GET_STATUS', 'bad-message:STRING', 'message:STRING'],
  );
  const huge = Buffer.from(a);
  huge.writeBigUInt64BE(1n << 40n, 42);
  assert.throws(() => new MessageReader(1024).push(huge), /exceeds the 1024-byte limit/);
  assert.throws(
    () => new MessageReader(1024).push(Buffer.from('GET / HTTP/1.1\r\n'.repeat(4))),
    IgtlProtocolError,
  );
});

test('the sent frame: first camera -> RAS with R = -x, A = -z, S = -y (Anterior view = the camera view); LPS alike', () => {
  const ras = worldToFrame('ras');
  assert.equal(determinant3(rotationOf(ras)), 1, 'a rotation, not a reflection');
  assert.deepEqual(directionInFrame([1, 0, 0], 'ras'), [-1, 0, 0], 'image right -> patient left');
  assert.deepEqual(directionInFrame([0, 1, 0], 'ras'), [0, 0, -1], 'image down -> inferior');
  assert.deepEqual(directionInFrame([0, 0, 1], 'ras'), [0, -1, 0], 'viewing direction -> posterior');
  assert.deepEqual(directionInFrame([1, 0, 0], 'lps'), [1, 0, 0], 'LPS: L = image right');
  assert.deepEqual(directionInFrame([0, 0, 1], 'lps'), [0, 1, 0], 'LPS: P = viewing direction');
  // A camera 10 mm along its first pose's viewing direction sits 10 mm posterior in RAS.
  const pose = se3Exp([0, 0, 10, 0, 0, 0]);
  const sent = poseInFrame(pose, 'ras');
  assert.deepEqual(
    [sent[3], sent[7], sent[11]],
    [-0, -10, -0].map((v) => v + 0),
  );
});
