import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WireFormatError,
  decodeFrame,
  decodeMeshBlocks,
  encodeFrame,
  encodeMeshBlocks,
  type FrameBundle,
} from '../../src/shared/api/binary.js';
import { parseParams, NavApiError } from '../../src/shared/api/nav-api.js';

function frame(width: number, height: number): FrameBundle {
  const rgb = new Uint8Array(width * height * 3).map((_, i) => (i * 7) % 256);
  const depth = new Float32Array(width * height).map((_, i) => (i % 5 === 0 ? 0 : 20 + (i % 97) * 0.37));
  const pose = new Float64Array([1, 0, 0, 1.5, 0, 1, 0, -2.25, 0, 0, 1, 3, 0, 0, 0, 1]);
  return {
    frameId: 42,
    timeS: 1.4,
    producedAtMs: 1700000000123.5,
    rgb: { width, height, data: rgb },
    depth: { width, height, data: depth },
    depthFrameId: 40,
    pose,
    trackingState: 'relocalised',
    isKeyframe: true,
  };
}

test('frame round-trips with video, depth and pose of the same instant (uint16 and float32 depth)', () => {
  const f = frame(7, 5);
  for (const encoding of ['uint16', 'float32'] as const) {
    const bytes = encodeFrame(f, 9, encoding);
    // Misaligned copy: the decoder must not assume the message starts on an aligned offset.
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    const { requestId, frame: g } = decodeFrame(shifted);
    assert.equal(requestId, 9);
    assert.equal(g.frameId, 42);
    assert.equal(g.timeS, 1.4);
    assert.equal(g.producedAtMs, 1700000000123.5);
    assert.equal(g.trackingState, 'relocalised');
    assert.equal(g.isKeyframe, true);
    assert.equal(g.depthFrameId, 40, 'the keyframe whose depth the frame shows');
    assert.deepEqual(Array.from(g.rgb.data), Array.from(f.rgb.data));
    assert.deepEqual(Array.from(g.pose!), Array.from(f.pose!));
    const tolerance = encoding === 'uint16' ? 0.01 : 1e-4;
    f.depth!.data.forEach((d, i) =>
      assert.ok(Math.abs(g.depth!.data[i]! - d) <= tolerance, `depth ${i}: ${g.depth!.data[i]} vs ${d}`),
    );
  }
});

test('frame without depth or pose, and corrupted frames are rejected with a clear error', () => {
  const f: FrameBundle = { ...frame(4, 3), depth: null, pose: null, trackingState: 'lost' };
  const { frame: g } = decodeFrame(encodeFrame(f));
  assert.equal(g.depth, null);
  assert.equal(g.pose, null);
  const bytes = encodeFrame(frame(4, 3));
  assert.throws(() => decodeFrame(bytes.subarray(0, bytes.length - 4)), WireFormatError);
  const bad = bytes.slice();
  bad[0] = 0;
  assert.throws(() => decodeFrame(bad), /bad magic/);
});

test('mesh blocks round-trip; out-of-range indices and truncation are rejected', () => {
  const update = {
    reset: false,
    totalVertices: 4,
    changed: [
      {
        key: '1,-2,3',
        mesh: {
          positions: new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0]),
          colors: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]),
          indices: new Uint32Array([0, 1, 2]),
        },
      },
      { key: 'ü', mesh: { positions: new Float32Array([5, 5, 5]), indices: new Uint32Array(0) } },
    ],
    removed: ['0,0,0'],
  };
  const { update: u } = decodeMeshBlocks(encodeMeshBlocks(update, 3));
  assert.equal(u.changed.length, 2);
  assert.equal(u.changed[0]!.key, '1,-2,3');
  assert.deepEqual(Array.from(u.changed[0]!.mesh.positions), [0, 0, 0, 1, 0, 0, 0, 1, 0]);
  assert.deepEqual(Array.from(u.changed[0]!.mesh.colors!), [255, 0, 0, 0, 255, 0, 0, 0, 255]);
  assert.deepEqual(Array.from(u.changed[0]!.mesh.indices), [0, 1, 2]);
  assert.equal(u.changed[1]!.key, 'ü');
  assert.equal(u.changed[1]!.mesh.colors, undefined);
  assert.deepEqual(u.removed, ['0,0,0']);
  const bytes = encodeMeshBlocks(update);
  assert.throws(() => decodeMeshBlocks(bytes.subarray(0, bytes.length - 8)), WireFormatError);
  const bad = encodeMeshBlocks({
    ...update,
    changed: [{ key: 'k', mesh: { positions: new Float32Array(3), indices: new Uint32Array([0, 0, 0]) } }],
  });
  new DataView(bad.buffer).setUint32(bad.length - 16, 7, true); // last index (before the 12-byte removed key) -> 7 of 1 vertex
  assert.throws(() => decodeMeshBlocks(bad), /out of 1 vertices/);
});

test('request params are validated with errors naming the field', () => {
  assert.deepEqual(parseParams('cases.create', { title: 'Lap chole' }), {
    title: 'Lap chole',
    procedure: 'unspecified',
    surgeon: 'unspecified',
  });
  assert.throws(
    () => parseParams('cases.create', { title: 'x', patientRef: 'Jane Doe' }),
    /patientRef: must be a pseudonymous code/,
  );
  assert.throws(
    () => parseParams('run.start', { caseId: 'c1', source: { kind: 'sample', name: '../../etc' } }),
    (e: unknown) => e instanceof NavApiError && e.code === 'bad-request' && /source.name/.test(e.message),
  );
  assert.throws(
    () => parseParams('measurements.add', { caseId: 'c', a: [0, 0, Infinity], b: [1, 1, 1] }),
    /a\.2/,
  );
});
