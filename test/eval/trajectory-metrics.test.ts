import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StampedPose } from '../../src/engine/dataset/trajectory.js';
import {
  absoluteTrajectoryError,
  associatePoses,
  relativePoseError,
} from '../../src/eval/trajectory-metrics.js';
import { type Mat4, type Vec3, identity4, multiply4, rigidFromRt } from '../../src/shared/math/mat4.js';
import { so3Exp } from '../../src/shared/math/so3.js';

const at = (t: Vec3, w: Vec3 = [0, 0, 0]): Mat4 => rigidFromRt(so3Exp(w), t);
const close = (a: number, b: number, what: string, tol = 1e-9): void =>
  assert.ok(Math.abs(a - b) < tol, `${what}: ${a} vs ${b}`);

test('ATE: a trajectory at twice the scale is exact after Sim(3) and 0.75 mm off after SE(3)', () => {
  const pts: Vec3[] = [
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  // Estimated = 2x the truth, rotated and shifted arbitrarily.
  const g = at([5, -3, 2], [0.3, -0.2, 0.5]);
  const pairs = pts.map((p, index) => {
    const scaled = multiply4(g, at([2 * p[0], 2 * p[1], 2 * p[2]]));
    return { truth: at(p), estimated: scaled, index };
  });
  const sim3 = absoluteTrajectoryError(pairs, true);
  close(sim3.rmse, 0, 'Sim(3) ATE', 1e-9);
  close(sim3.scale, 0.5, 'scale');
  // SE(3): residuals are -(p_i - centroid) -> |.|^2 = 0.1875, 0.6875 x 3 -> RMSE sqrt(2.25 / 4) = 0.75.
  const se3 = absoluteTrajectoryError(pairs, false);
  close(se3.rmse, 0.75, 'SE(3) ATE', 1e-9);
  close(se3.max, Math.sqrt(0.6875), 'max', 1e-9);
  assert.equal(se3.scale, 1);
});

test('ATE ignores a rigid change of world frame', () => {
  const g = at([10, 0, -4], [0, 1, 0]);
  const pairs = [0, 1, 2, 3, 4].map((i) => {
    const truth = at([i, Math.sin(i), 0.1 * i * i], [0, 0.1 * i, 0]);
    return { truth, estimated: multiply4(g, truth), index: i };
  });
  close(absoluteTrajectoryError(pairs, false).rmse, 0, 'SE(3) ATE', 1e-9);
});

test('RPE: 10 % too long steps give 0.1 mm per frame; an extra 1 degree turn per frame gives 1 degree', () => {
  const deg = Math.PI / 180;
  const stretched = [0, 1, 2, 3].map((i) => ({
    truth: at([i, 0, 0]),
    estimated: at([1.1 * i, 0, 0]),
    index: i,
  }));
  const rpe = relativePoseError(stretched, 1);
  assert.equal(rpe.pairs, 3);
  close(rpe.translationRmse, 0.1, 'translation');
  close(rpe.rotationRmseDeg, 0, 'rotation');
  close(relativePoseError(stretched, 1, 1 / 1.1).translationRmse, 0, 'after scaling by 1/1.1');
  const two = relativePoseError(stretched, 2);
  close(two.translationMean, 0.2, 'over two frames');
  // E = (Q_i^-1 Q_i+1)^-1 (P_i^-1 P_i+1) = [R_z(1 deg), 0] for a camera turning on the spot.
  const turning = [0, 1, 2, 3].map((i) => ({
    truth: at([0, 0, 0]),
    estimated: at([0, 0, 0], [0, 0, i * deg]),
    index: i,
  }));
  const rot = relativePoseError(turning, 1);
  close(rot.rotationRmseDeg, 1, 'rotation');
  close(rot.translationRmse, 0, 'translation');
  close(relativePoseError(turning, 3).rotationMeanDeg, 3, 'over three frames');
  assert.throws(() => relativePoseError(turning, 4), /needs more than 4 poses/);
});

test('association by nearest timestamp within tolerance', () => {
  const truth: StampedPose[] = [0, 1, 2, 3].map((i) => ({ timestamp: i * 0.1, pose: at([i, 0, 0]) }));
  const est: StampedPose[] = [
    { timestamp: 0.004, pose: identity4() },
    { timestamp: 0.2, pose: identity4() },
    { timestamp: 0.26, pose: identity4() },
    { timestamp: 0.5, pose: identity4() },
  ];
  const pairs = associatePoses(est, truth, 0.05);
  assert.deepEqual(
    pairs.map((p) => p.index),
    [0, 2, 3],
  );
  assert.equal(pairs[2]!.truth[3], 3);
});
