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
    [profile({ layout: 'side-by-side' }), /field 'layout'/],
    [profile({ T: [-4, 0] }), /field 'T'/],
    [profile({ right: { ...camera, width: 320 } }), /left camera is 384x288 but right camera is 320x288/],
    [
      profile({ left: { ...camera, distortion: [-0.3, 0.1, 0, 0, 0] } }),
      /not a rectified pair \(non-zero distortion/,
    ],
    [profile({ R: [0.9998, -0.02, 0, 0.02, 0.9998, 0, 0, 0, 1] }), /R is not the identity/],
    [profile({ T: [4, 0, 0] }), /T is not along -x/],
    [profile({ right: { ...camera, cy: 150 } }), /differ in cy/],
    [profile({ depth_range_mm: [100, 50] }), /min < max/],
  ];
  for (const [text, reason] of cases)
    assert.throws(() => parseStereoCalibration(text, 'stereo.json'), reason);
  assert.throws(
    () => disparityRange(parseStereoCalibration(profile({ depth_range_mm: [2, 150] }))),
    /needs \d+ disparities \(at most 256\)/,
  );
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
