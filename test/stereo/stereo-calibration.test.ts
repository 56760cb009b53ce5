// stereo.json: the rectified stereo profile, and the errors that name what is wrong with one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkStereoMatchesCamera,
  disparityRange,
  parseStereoCalibration,
} from '../../src/engine/dataset/stereo-calibration.js';

const camera = { width: 384, height: 288, fx: 320, fy: 320, cx: 191.5, cy: 143.5 };
const profile = (over: Record<string, unknown> = {}): string =>
  JSON.stringify({
    layout: 'separate',
    left: camera,
    right: camera,
    R: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    T: [-4, 0, 0],
    depth_range_mm: [25, 150],
    ...over,
  });

test('a rectified profile gives baseline, disparity offset and the search range', () => {
  const c = parseStereoCalibration(profile({ right: { ...camera, cx: 189.5 } }));
  assert.equal(c.baselineMm, 4);
  assert.equal(c.disparityOffset, 2);
  assert.deepEqual(c.depthRangeMm, [25, 150]);
  const r = disparityRange(c);
  // 320 * 4 / 150 + 2 = 10.5 .. 320 * 4 / 25 + 2 = 53.2
  assert.ok(r.minDisparity <= 10 && r.minDisparity + r.numDisparities >= 54, JSON.stringify(r));
  assert.equal(r.numDisparities % 8, 0);
});

test('bad profiles are refused with the reason', () => {
  const cases: [string, RegExp][] = [
    ['{', /not valid JSON/],
    [profile({ layout: 'checkerboard' }), /field 'layout'/],
    [profile({ T: [-4, 0] }), /field 'T'/],
    [profile({ right: { ...camera, width: 320 } }), /left camera is 384x288 but right camera is 320x288/],
    [
      profile({ left: { ...camera, distortion: [-0.3, 0.1, 0] } }),
      /left: distortion needs 4, 5 or 8 coefficients/,
    ],
    [profile({ R: [1, 0.2, 0, 0, 1, 0, 0, 0, 1] }), /R is not a rotation matrix/],
    [profile({ T: [0, -4, 0] }), /baseline is not horizontal/],
    [profile({ depth_range_mm: [100, 50] }), /min < max/],
  ];
  for (const [text, reason] of cases)
    assert.throws(() => parseStereoCalibration(text, 'stereo.json'), reason);
  assert.throws(
    () => disparityRange(parseStereoCalibration(profile({ depth_range_mm: [2, 150] }))),
    /needs \d+ disparities \(at most 256\)/,
  );
});

test('an unrectified profile is rectified: both cameras parallel, the baseline along x', () => {
  const a = 0.03;
  const R = [Math.cos(a), 0, Math.sin(a), 0, 1, 0, -Math.sin(a), 0, Math.cos(a)];
  const c = parseStereoCalibration(
    profile({
      R,
      T: [-4, 0.2, 0.1],
      left: { ...camera, distortion: [-0.2, 0.05, 0, 0, 0] },
      right: { ...camera, fy: 322 },
    }),
  );
  const r = c.rectification!;
  assert.ok(r, 'expected a rectification');
  const m = (x: Float64Array, i: number, j: number): number => x[i * 3 + j]!;
  // R2 R R1^T = I: the rectified cameras are parallel.
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let v = 0;
      for (let k = 0; k < 3; k++)
        for (let l = 0; l < 3; l++) v += m(r.rectify.r2, i, k) * R[k * 3 + l]! * m(r.rectify.r1, j, l);
      assert.ok(Math.abs(v - (i === j ? 1 : 0)) < 1e-9, `R2 R R1^T[${i}][${j}] = ${v}`);
    }
  }
  // R2 T = [-|T|, 0, 0].
  const T = [-4, 0.2, 0.1];
  const t2 = [0, 1, 2].map(
    (i) => m(r.rectify.r2, i, 0) * T[0]! + m(r.rectify.r2, i, 1) * T[1]! + m(r.rectify.r2, i, 2) * T[2]!,
  );
  assert.ok(
    Math.abs(t2[0]! + Math.hypot(...T)) < 1e-9 && Math.abs(t2[1]!) < 1e-9 && Math.abs(t2[2]!) < 1e-9,
    String(t2),
  );
  assert.equal(c.baselineMm, Math.hypot(...T));
  assert.equal(c.disparityOffset, 0);
  assert.equal(c.matching.fx, 320);
  assert.deepEqual(c.left, camera);
});

test('a profile that does not match the camera of the frames is refused', () => {
  const c = parseStereoCalibration(profile());
  assert.doesNotThrow(() => checkStereoMatchesCamera(c, camera, 'stereo.json'));
  assert.throws(
    () => checkStereoMatchesCamera(c, { ...camera, width: 720, height: 576 }, 'stereo.json'),
    /stereo profile is for 384x288 but intrinsics.json says 720x576/,
  );
  assert.throws(
    () => checkStereoMatchesCamera(c, { ...camera, fx: 300 }, 'stereo.json'),
    /left fx 320 does not match/,
  );
});
