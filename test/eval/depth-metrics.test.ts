import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeDepthMetrics, meanDepthMetrics } from '../../src/eval/depth-metrics.js';
import type { DepthImage } from '../../src/shared/frames.js';

const img = (values: number[]): DepthImage => ({
  width: values.length,
  height: 1,
  data: Float32Array.from(values),
});
const close = (a: number, b: number, what: string): void =>
  assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);

test('hand-computed case: one pixel off by a factor 2, one exact', () => {
  const m = computeDepthMetrics(img([2, 4]), img([1, 4]))!;
  close(m.absRel, 0.5, 'AbsRel = (1/1 + 0) / 2');
  close(m.sqRel, 0.5, 'SqRel = (1^2/1 + 0) / 2');
  close(m.rmse, Math.sqrt(0.5), 'RMSE');
  close(m.logRmse, Math.log(2) / Math.sqrt(2), 'logRMSE');
  // ratio 2 fails 1.25, 1.5625 and 1.953125; the exact pixel passes all.
  close(m.delta1, 0.5, 'delta1');
  close(m.delta2, 0.5, 'delta2');
  close(m.delta3, 0.5, 'delta3');
  assert.equal(m.count, 2);
  assert.equal(m.scale, 1);
});

test('delta thresholds separate ratios 1.2, 1.5 and 1.9', () => {
  const m = computeDepthMetrics(img([12, 15, 19, 30]), img([10, 10, 10, 10]))!;
  close(m.delta1, 1 / 4, 'only 1.2 < 1.25');
  close(m.delta2, 2 / 4, '1.5 < 1.5625');
  close(m.delta3, 3 / 4, '1.9 < 1.953125');
  close(m.absRel, (0.2 + 0.5 + 0.9 + 2) / 4, 'AbsRel');
  close(m.rmse, Math.sqrt((4 + 25 + 81 + 400) / 4), 'RMSE');
});

test('validity: unknown ground truth ignored, missing prediction lowers coverage, mask and cap apply', () => {
  const m = computeDepthMetrics(img([1, 0, 5, 7]), img([0, 2, 5, 7]))!;
  assert.equal(m.count, 2);
  close(m.coverage, 2 / 3, 'three valid truths, two predicted');
  close(m.absRel, 0, 'counted pixels are exact');
  const masked = computeDepthMetrics(img([10, 20]), img([10, 10]), { mask: Uint8Array.from([1, 0]) })!;
  close(masked.absRel, 0, 'masked pixel not counted');
  // Cap 50: truth 60 ignored, prediction 80 clamped to 50 against truth 40.
  const capped = computeDepthMetrics(img([80, 60]), img([40, 60]), { maxDepth: 50 })!;
  assert.equal(capped.count, 1);
  close(capped.absRel, 10 / 40, 'clamped prediction');
  assert.equal(computeDepthMetrics(img([0, 0]), img([1, 1])), null);
});

test('median scaling removes a global scale', () => {
  const raw = computeDepthMetrics(img([2, 4, 6]), img([1, 2, 3]))!;
  close(raw.absRel, 1, 'twice too far');
  const scaled = computeDepthMetrics(img([2, 4, 6]), img([1, 2, 3]), { medianScaling: true })!;
  close(scaled.scale, 0.5, 'median(gt)/median(pred) = 2/4');
  close(scaled.absRel, 0, 'AbsRel after scaling');
  close(scaled.delta1, 1, 'delta1 after scaling');
});

test('sequence metrics are means of frame metrics', () => {
  const a = computeDepthMetrics(img([2]), img([1]))!;
  const b = computeDepthMetrics(img([1, 1]), img([1, 1]))!;
  const m = meanDepthMetrics([a, b])!;
  close(m.absRel, 0.5, '(1 + 0) / 2');
  assert.equal(m.count, 3);
  assert.equal(meanDepthMetrics([]), null);
  assert.throws(() => computeDepthMetrics(img([1, 2]), img([1])), /prediction is 2x1/);
});
