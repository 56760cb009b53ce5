import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  DatasetWriter,
  openDataset,
  readDatasetDepth,
  readDatasetRgb,
} from '../../src/engine/dataset/dataset.js';
import { decodeDepthPng, encodeDepthPng } from '../../src/engine/dataset/images.js';
import { parseIntrinsics } from '../../src/engine/dataset/intrinsics.js';
import { formatTum, parseTum } from '../../src/engine/dataset/trajectory.js';
import { decodePly, encodePly } from '../../src/engine/formats/ply.js';
import { identity4 } from '../../src/shared/math/mat4.js';
import { se3Exp } from '../../src/shared/math/se3.js';

const K = { width: 4, height: 3, fx: 3, fy: 3, cx: 1.5, cy: 1, depth_scale: 100, fps: 30 };

test('depth PNG stores mm at 1/depth_scale resolution and maps unknown/out-of-range to 0', () => {
  const data = Float32Array.from([0, 12.345, 50, Number.NaN, -3, 700, 655.35, 1]);
  const png = encodeDepthPng({ width: 4, height: 2, data }, 100);
  const back = decodeDepthPng(png, 100, 'x.png');
  const expected = [0, 12.35, 50, 0, 0, 0, 655.35, 1];
  expected.forEach((v, i) =>
    assert.ok(Math.abs(back.data[i]! - v) < 1e-4, `pixel ${i}: ${back.data[i]} vs ${v}`),
  );
});

test('intrinsics.json errors name the file and the field', () => {
  assert.throws(() => parseIntrinsics('{', 'a/intrinsics.json'), /a\/intrinsics.json: not valid JSON/);
  assert.throws(() => parseIntrinsics(JSON.stringify({ ...K, fx: -1 }), 'k.json'), /k.json: field 'fx'/);
  assert.throws(() => parseIntrinsics(JSON.stringify({ ...K, width: undefined }), 'k.json'), /field 'width'/);
  assert.deepEqual(parseIntrinsics(JSON.stringify(K)), K);
});

test('TUM trajectories round-trip and bad lines are reported with file and line', () => {
  const poses = [
    { timestamp: 0, pose: identity4() },
    { timestamp: 1 / 30, pose: se3Exp([1, -2, 3, 0.1, 0.2, -0.3]) },
  ];
  const back = parseTum(formatTum(poses));
  assert.equal(back.length, 2);
  back.forEach((p, i) => p.pose.forEach((v, j) => assert.ok(Math.abs(v - poses[i]!.pose[j]!) < 1e-6)));
  assert.throws(() => parseTum('# c\n0 1 2 3 0 0 0\n', 'gt.txt'), /gt.txt:2: expected 8 numbers/);
  assert.throws(() => parseTum('0 1 2 x 0 0 0 1\n', 'gt.txt'), /gt.txt:1: field 4 'x'/);
  assert.throws(() => parseTum('0 0 0 0 0 0 0 2\n', 'gt.txt'), /quaternion norm/);
  assert.throws(
    () => parseTum('1 0 0 0 0 0 0 1\n0 0 0 0 0 0 0 1\n', 'gt.txt'),
    /gt.txt:2: timestamp 0 goes back/,
  );
});

test('binary PLY round-trips positions, normals, colours and faces; ASCII PLY reads', () => {
  const mesh = {
    positions: Float32Array.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]),
    normals: Float32Array.from([0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1]),
    colors: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]),
    indices: Uint32Array.from([0, 1, 2, 0, 2, 3]),
  };
  const back = decodePly(encodePly(mesh));
  assert.deepEqual(back, mesh);
  const ascii =
    'ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n4 0 1 2 3\n';
  const quad = decodePly(Buffer.from(ascii));
  assert.deepEqual(Array.from(quad.indices), [0, 1, 2, 0, 2, 3]);
  assert.throws(() => decodePly(Buffer.from('PLY?')), /not a PLY file/);
  assert.throws(
    () => decodePly(encodePly(mesh).subarray(0, encodePly(mesh).length - 10), 'cut.ply'),
    /cut.ply: binary body truncated/,
  );
});

test('a dataset written with DatasetWriter opens and reads back; contract breaks are named', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'navws-ds-'));
  try {
    const w = await DatasetWriter.create(dir, K, true);
    const rgb = { width: 4, height: 3, data: Uint8Array.from({ length: 36 }, (_, i) => i * 7) };
    const depth = { width: 4, height: 3, data: Float32Array.from({ length: 12 }, (_, i) => 20 + i) };
    await w.writeRgb(0, rgb);
    await w.writeDepth(0, depth);
    await w.writeGroundTruth([{ timestamp: 0, pose: identity4() }]);
    const ds = await openDataset(dir);
    assert.equal(ds.rgbFiles.length, 1);
    assert.deepEqual((await readDatasetRgb(ds, 0)).data, rgb.data);
    assert.deepEqual((await readDatasetDepth(ds, 0)).data, depth.data);
    // A second frame without its pose breaks the contract.
    await w.writeRgb(1, rgb);
    await assert.rejects(openDataset(dir), /depth: 1 depth frames for 2 RGB frames/);
    await w.writeDepth(1, depth);
    await assert.rejects(openDataset(dir), /groundtruth.txt: 1 poses for 2 frames/);
    await writeFile(path.join(dir, 'rgb', '000003.png'), 'x');
    await assert.rejects(openDataset(dir), /frame 000002.png is missing/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
