/**
 * The renderer's pure pieces: OpenCV -> Babylon conversion of points, poses and triangle winding, depth
 * colouring range and the video/depth blend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Vector3 } from '@babylonjs/core/Maths/math.vector.js';
import { Matrix } from '@babylonjs/core/Maths/math.vector.js';
import {
  fromBabylonPoint,
  poseToBabylon,
  toBabylonIndices,
  toBabylonPoint,
  toBabylonPositions,
} from '../../src/renderer/lib/coords.js';
import { composeFrame, robustDepthRange } from '../../src/renderer/lib/paint.js';
import { TURBO_LUT } from '../../src/renderer/lib/turbo.js';
import { rigidFromRt, transformPoint } from '../../src/shared/math/mat4.js';
import { quaternionToMatrix } from '../../src/shared/math/quaternion.js';

test('a pose maps camera points to the same place in Babylon as in NavWS world coordinates', () => {
  const r = quaternionToMatrix([0.2, -0.4, 0.1, 0.88]);
  const pose = rigidFromRt(r, [12, -7.5, 40]);
  const { position, rotation } = poseToBabylon(pose);
  const m = Matrix.Compose(new Vector3(1, 1, 1), rotation, position);
  for (const p of [
    [0, 0, 0],
    [1, 2, 3],
    [-5, 4, 60],
  ] as [number, number, number][]) {
    const world = transformPoint(pose, p);
    const viaBabylon = Vector3.TransformCoordinates(toBabylonPoint(p), m);
    const back = fromBabylonPoint(viaBabylon);
    back.forEach((v, i) => assert.ok(Math.abs(v - world[i]!) < 1e-4, `${v} vs ${world[i]}`));
  }
});

test('positions flip y and triangles flip winding, so the seen side stays the front', () => {
  assert.deepEqual(
    Array.from(toBabylonPositions(new Float32Array([1, 2, 3, -4, -5, 6]))),
    [1, -2, 3, -4, 5, 6],
  );
  assert.deepEqual(Array.from(toBabylonIndices(new Uint32Array([0, 1, 2, 3, 4, 5]))), [0, 2, 1, 3, 5, 4]);
});

test('depth range ignores unknown pixels and outliers; blend keeps video where depth is unknown', () => {
  const w = 40;
  const h = 30;
  const depth = new Float32Array(w * h).map((_, i) => (i % 10 === 0 ? 0 : 50 + (i % 7)));
  depth[5] = 10_000; // a speckle
  const range = robustDepthRange({ width: w, height: h, data: depth })!;
  assert.ok(range.nearMm >= 50 && range.farMm <= 57, JSON.stringify(range));
  const rgb = new Uint8Array(w * h * 3).fill(100);
  const target = { data: new Uint8ClampedArray(w * h * 4) };
  const known = composeFrame(
    { width: w, height: h, data: rgb },
    { width: w, height: h, data: depth },
    range,
    1,
    target,
  );
  assert.ok(Math.abs(known - 0.9) < 0.01);
  assert.deepEqual(
    Array.from(target.data.subarray(0, 4)),
    [100, 100, 100, 255],
    'unknown depth shows the video',
  );
  const nearIdx = 255 * 3;
  const nearPixel = depth.findIndex((d) => d > 0 && d <= range.nearMm);
  assert.deepEqual(
    Array.from(target.data.subarray(nearPixel * 4, nearPixel * 4 + 3)),
    Array.from(TURBO_LUT.subarray(nearIdx, nearIdx + 3)),
    'near is the red end',
  );
  composeFrame({ width: w, height: h, data: rgb }, { width: w, height: h, data: depth }, range, 0, target);
  assert.ok(
    target.data.every((v, i) => (i % 4 === 3 ? v === 255 : v === 100)),
    'overlay off shows the video unchanged',
  );
});
