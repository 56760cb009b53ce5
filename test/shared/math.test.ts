import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Mat4,
  type Vec3,
  identity4,
  invertRigid,
  isRigid,
  multiply4,
  rotationOf,
  transformPoint,
} from '../../src/shared/math/mat4.js';
import { so3Exp, so3Log } from '../../src/shared/math/so3.js';
import { type Twist, nearestRigid, se3Exp, se3Log } from '../../src/shared/math/se3.js';
import { matrixToQuaternion, quaternionToMatrix } from '../../src/shared/math/quaternion.js';
import { umeyamaAlign } from '../../src/shared/math/umeyama.js';
import { solveSpd, symmetricEigen } from '../../src/shared/math/linalg.js';
import { backproject, project, scaleIntrinsics } from '../../src/shared/camera.js';

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = ''): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]} (tol ${tol})`);
  }
}

// Deterministic pseudo-random numbers so failures reproduce.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('so3Exp of a quarter turn about z maps x to y', () => {
  const r = so3Exp([0, 0, Math.PI / 2]);
  close(r, [0, -1, 0, 1, 0, 0, 0, 0, 1], 1e-12);
});

test('so3Log inverts so3Exp, including tiny and near-pi angles', () => {
  const cases: Vec3[] = [
    [0, 0, 0],
    [1e-9, -2e-9, 3e-9],
    [0.3, -0.2, 0.1],
    [Math.PI - 1e-6, 0, 0],
    [0, (Math.PI - 1e-5) / Math.SQRT2, (Math.PI - 1e-5) / Math.SQRT2],
    [-1.2, 0.4, 2.0],
  ];
  for (const w of cases) close(so3Log(so3Exp(w)), w, 1e-6, `w=${w.join(',')}`);
});

test('se3Log inverts se3Exp and a pure translation twist is the translation', () => {
  const rand = rng(7);
  for (let i = 0; i < 50; i++) {
    const xi: Twist = [
      rand() * 20 - 10,
      rand() * 20 - 10,
      rand() * 20 - 10,
      rand() * 2 - 1,
      rand() * 2 - 1,
      rand() * 2 - 1,
    ];
    close(se3Log(se3Exp(xi)), xi, 1e-9, `xi ${i}`);
  }
  const t = se3Exp([1, 2, 3, 0, 0, 0]);
  close([t[3]!, t[7]!, t[11]!], [1, 2, 3], 1e-15);
});

test('invertRigid gives the inverse and isRigid recognises SE(3)', () => {
  const t = se3Exp([5, -3, 40, 0.2, 0.1, -0.3]);
  assert.ok(isRigid(t));
  close(multiply4(t, invertRigid(t)), identity4(), 1e-12);
  const bad: Mat4 = Float64Array.from(t);
  bad[0] = 2;
  assert.equal(isRigid(bad), false);
  bad[0] = Number.NaN;
  assert.equal(isRigid(bad), false);
});

test('quaternion <-> matrix round trip, with qw >= 0 and the TUM (x, y, z, w) order', () => {
  const rand = rng(11);
  for (let i = 0; i < 50; i++) {
    const r = so3Exp([rand() * 6 - 3, rand() * 6 - 3, rand() * 6 - 3]);
    const q = matrixToQuaternion(r);
    assert.ok(q[3] >= 0);
    close(quaternionToMatrix(q), r, 1e-12);
  }
  // 90 degrees about z: q = (0, 0, sin 45, cos 45).
  close(matrixToQuaternion(so3Exp([0, 0, Math.PI / 2])), [0, 0, Math.SQRT1_2, Math.SQRT1_2], 1e-12);
});

test('umeyamaAlign recovers a known similarity transform exactly', () => {
  const rand = rng(3);
  const truth = se3Exp([10, -4, 2, 0.4, -0.7, 0.2]);
  const scale = 2.5;
  const src: Vec3[] = [];
  const dst: Vec3[] = [];
  for (let i = 0; i < 20; i++) {
    const p: Vec3 = [rand() * 50, rand() * 50, rand() * 50];
    const r = rotationOf(truth);
    src.push(p);
    dst.push([
      scale * (r[0]! * p[0] + r[1]! * p[1] + r[2]! * p[2]) + truth[3]!,
      scale * (r[3]! * p[0] + r[4]! * p[1] + r[5]! * p[2]) + truth[7]!,
      scale * (r[6]! * p[0] + r[7]! * p[1] + r[8]! * p[2]) + truth[11]!,
    ]);
  }
  const sim = umeyamaAlign(src, dst, true);
  assert.ok(Math.abs(sim.scale - scale) < 1e-9);
  close(sim.rotation, rotationOf(truth), 1e-9);
  close(sim.translation, [truth[3]!, truth[7]!, truth[11]!], 1e-7);
  // Without scale on rigidly moved points: identity scale and exact fit.
  const rigidDst = src.map((p) => transformPoint(truth, p));
  const se3 = umeyamaAlign(src, rigidDst, false);
  assert.equal(se3.scale, 1);
  close(se3.matrix, truth, 1e-9);
});

test('umeyamaAlign rejects mismatched and too few points', () => {
  assert.throws(() => umeyamaAlign([[0, 0, 0]], [[0, 0, 0]], false), /at least 3/);
  assert.throws(
    () =>
      umeyamaAlign(
        [
          [0, 0, 0],
          [1, 0, 0],
          [0, 1, 0],
        ],
        [[0, 0, 0]],
        false,
      ),
    /3 source points but 1/,
  );
});

test('symmetricEigen and solveSpd on hand-checked 2x2 systems', () => {
  const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
  close(values, [3, 1], 1e-12);
  // Eigenvector of 3 is (1, 1)/sqrt 2 up to sign.
  assert.ok(Math.abs(Math.abs(vectors[0]!) - Math.SQRT1_2) < 1e-12);
  assert.ok(Math.abs(vectors[0]! - vectors[2]!) < 1e-12);
  close(solveSpd([4, 2, 2, 3], [2, 1], 2)!, [0.5, 0], 1e-12);
  assert.equal(solveSpd([1, 2, 2, 1], [1, 1], 2), null);
});

test('pinhole projection and back-projection are inverse; scaling keeps pixel-centre convention', () => {
  const k = { width: 384, height: 288, fx: 300, fy: 310, cx: 191.5, cy: 143.5 };
  const p = backproject(k, 10.25, 200.5, 42);
  const uv = project(k, p)!;
  close(uv, [10.25, 200.5], 1e-12);
  assert.equal(project(k, [0, 0, -1]), null);
  // Halving the image: the centre of the image stays the centre.
  const half = scaleIntrinsics(k, 192, 144);
  close([half.cx, half.cy, half.fx, half.fy], [95.5, 71.5, 150, 155], 1e-12);
});

test('nearestRigid pulls a drifted pose back onto SE(3) and leaves a rigid one unchanged', () => {
  const t = se3Exp([3, -1, 40, 0.3, -0.2, 0.1]);
  close(nearestRigid(t), t, 1e-12);
  const drifted = Float64Array.from(t);
  for (const i of [0, 1, 2, 4, 5, 6, 8, 9, 10]) drifted[i]! *= 1 + 3e-5 * ((i % 3) - 1);
  assert.equal(isRigid(drifted, 1e-6), false);
  const fixed = nearestRigid(drifted);
  assert.ok(isRigid(fixed, 1e-9));
  close(fixed, t, 1e-4);
});
