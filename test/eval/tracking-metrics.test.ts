import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeTrackingMetrics } from '../../src/eval/tracking-metrics.js';
import type { DepthImage } from '../../src/shared/frames.js';
import { identity4, rigidFromRt } from '../../src/shared/math/mat4.js';
import { identity3 } from '../../src/shared/math/mat4.js';

const k = { width: 20, height: 10, fx: 100, fy: 100, cx: 9.5, cy: 4.5 };
const plane = (z: number): DepthImage => ({ width: 20, height: 10, data: new Float32Array(200).fill(z) });

test('exact pose: zero error and every observable point triangulated', () => {
  const m = computeTrackingMetrics(
    k,
    plane(50),
    { estimated: identity4(), truth: identity4() },
    { estimated: identity4(), truth: identity4() },
    null,
    { stride: 1 },
  );
  assert.equal(m.meanReprojectionError, 0);
  assert.equal(m.observablePoints, 200);
  assert.equal(m.triangulatedPoints, 200);
});

test('0.5 mm lateral pose error at 50 mm depth with f = 100 px is a 1 px reprojection error', () => {
  // The estimated camera sits 0.5 mm to the left: points appear 100 * 0.5 / 50 = 1 px further right.
  const est = rigidFromRt(identity3(), [-0.5, 0, 0]);
  const m = computeTrackingMetrics(
    k,
    plane(50),
    { estimated: identity4(), truth: identity4() },
    { estimated: est, truth: identity4() },
    null,
    { stride: 1, threshold: 2 },
  );
  assert.ok(Math.abs(m.meanReprojectionError - 1) < 1e-9, `error ${m.meanReprojectionError}`);
  assert.equal(m.observablePoints, 200);
  // The last column (u = 19) moves to u = 20, outside the 20-px-wide image: 10 points not triangulated.
  assert.equal(m.triangulatedPoints, 190);
  const strict = computeTrackingMetrics(
    k,
    plane(50),
    { estimated: identity4(), truth: identity4() },
    { estimated: est, truth: identity4() },
    null,
    { stride: 1, threshold: 0.5 },
  );
  assert.equal(strict.triangulatedPoints, 0);
});

test('points leaving the true view or hidden in the tracked frame are not counted', () => {
  // The true frame moved 5 mm right: u shifts by -10 px, half of the keyframe points leave the view.
  const moved = rigidFromRt(identity3(), [5, 0, 0]);
  const m = computeTrackingMetrics(
    k,
    plane(50),
    { estimated: identity4(), truth: identity4() },
    { estimated: moved, truth: moved },
    null,
    { stride: 1 },
  );
  assert.equal(m.observablePoints, 100);
  assert.equal(m.meanReprojectionError, 0);
  // Something 10 mm in front of the plane in the tracked frame occludes every point.
  const hidden = computeTrackingMetrics(
    k,
    plane(50),
    { estimated: identity4(), truth: identity4() },
    { estimated: identity4(), truth: identity4() },
    plane(40),
    { stride: 1 },
  );
  assert.equal(hidden.observablePoints, 0);
  assert.ok(Number.isNaN(hidden.meanReprojectionError));
});

test('a pose that puts the points behind the camera is charged the maximum error', () => {
  const flipped = rigidFromRt(Float64Array.from([1, 0, 0, 0, -1, 0, 0, 0, -1]), [0, 0, 0]);
  const m = computeTrackingMetrics(
    k,
    plane(50),
    { estimated: identity4(), truth: identity4() },
    { estimated: flipped, truth: identity4() },
    null,
    { stride: 2, maxError: 100 },
  );
  assert.equal(m.meanReprojectionError, 100);
  assert.equal(m.triangulatedPoints, 0);
});
