// The stereo matcher on the real Open-CAS porcine liver pair against its CT surface (Maier-Hein et al.,
// IEEE TMI 2014; ../shared/data/real/opencas-liver, see its README).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  depthErrorVsCt,
  loadOpenCasRaw,
  loadOpenCasStereo,
  openCasAtSize,
} from '../../src/eval/opencas-stereo.js';
import { parseStereoCalibration } from '../../src/engine/dataset/stereo-calibration.js';
import { StereoDepthEngine } from '../../src/workers/stereo/stereo-depth.js';
import { DEFAULT_STEREO_MATCHER } from '../../src/workers/stereo/client.js';
import { SgmMatcher } from '../../src/workers/stereo/sgm.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = path.join(root, '..', 'shared', 'data', 'real', 'opencas-liver');
const skip = existsSync(dir) ? false : `${dir} not found (real data of ../shared/data/real)`;

test(
  'the Open-CAS rectification puts the right camera on the x axis of the rectified left frame',
  { skip },
  async () => {
    const data = await loadOpenCasStereo(dir);
    const k = data.geometry.intrinsics;
    assert.ok(Math.abs(data.geometry.baselineMm - 4.3756) < 1e-3, `baseline ${data.geometry.baselineMm}`);
    assert.ok(Math.abs(k.fx - 429.06) < 0.05 && Math.abs(k.fy - 449.8) < 0.05, `fx ${k.fx} fy ${k.fy}`);
    assert.ok(Math.abs(data.geometry.disparityOffset) < 0.1, `offset ${data.geometry.disparityOffset}`);
    assert.equal(data.points.length, 4973);
  },
);

test(
  'stereo depth of the liver is within 1 mm of the CT surface (median) at 720x576 and 384x288',
  { skip },
  async () => {
    const data = await loadOpenCasStereo(dir);
    for (const [w, h, minDisparity, numDisparities] of [
      [720, 576, 16, 48],
      [384, 288, 8, 32],
    ] as const) {
      const s = openCasAtSize(data, w, h);
      const m = new SgmMatcher(w, h, { ...DEFAULT_STEREO_MATCHER, minDisparity, numDisparities });
      const r = m.depth(s.left, s.right, s.geometry);
      const e = depthErrorVsCt(r.depth, s);
      assert.ok(e.ctPixels > 2000, `${w}x${h}: ${e.ctPixels} CT pixels`);
      assert.ok(e.medianMm <= 1.0, `${w}x${h}: median error ${e.medianMm.toFixed(3)} mm`);
      assert.ok(
        e.ctCoverage >= 0.9,
        `${w}x${h}: ${(100 * e.ctCoverage).toFixed(1)}% of the CT pixels have depth`,
      );
      // Depth is metric: no scale to fit, the bias stays well under a millimetre.
      assert.ok(Math.abs(e.medianSignedMm) < 1.0, `${w}x${h}: bias ${e.medianSignedMm.toFixed(3)} mm`);
    }
  },
);

test(
  'NavWS rectifies the raw pair from its calibration as OpenCV does, and its depth is within 1.5 mm of the CT',
  { skip },
  async () => {
    const raw = await loadOpenCasRaw(dir);
    const calibration = parseStereoCalibration(JSON.stringify(raw.profile), 'opencas profile');
    const r = calibration.rectification!;
    // OpenCV 4.6 stereoRectify (CALIB_ZERO_DISPARITY) on the same calibration gives this R1.
    const opencvR1 = [
      0.998636, -0.00587, -0.051891, 0.006229, 0.999958, 0.00676, 0.051849, -0.007074, 0.99863,
    ];
    r.rectify.r1.forEach((v, i) =>
      assert.ok(Math.abs(v - opencvR1[i]!) < 2e-6, `R1[${i}] ${v} vs ${opencvR1[i]}`),
    );
    const engine = new StereoDepthEngine(calibration, DEFAULT_STEREO_MATCHER);
    const { depth } = engine.estimate(raw.left, raw.right);
    const e = depthErrorVsCt(depth, raw.sample);
    assert.ok(e.ctPixels > 3000, `${e.ctPixels} CT pixels`);
    assert.ok(e.medianMm <= 1.5, `median error ${e.medianMm.toFixed(3)} mm`);
    assert.ok(e.ctCoverage >= 0.9, `${(100 * e.ctCoverage).toFixed(1)}% covered`);
  },
);
