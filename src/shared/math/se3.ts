/**
 * se(3) <-> SE(3). A twist is [v; w] = [vx, vy, vz, wx, wy, wz] (translation part first, w in radians,
 * v in millimetres). Pose updates are left-multiplicative: T <- exp(xi) * T.
 */
import {
  type Mat3,
  type Mat4,
  type Vec3,
  multiply4,
  rigidFromRt,
  rotationOf,
  translationOf,
} from './mat4.js';
import { matrixToQuaternion, quaternionToMatrix } from './quaternion.js';
import { hat, so3Exp, so3Log } from './so3.js';

export type Twist = [number, number, number, number, number, number];

/** The left Jacobian V of SO(3), which maps the twist's v to the transform's translation. */
function leftJacobian(w: Readonly<Vec3>): Mat3 {
  const theta2 = w[0] * w[0] + w[1] * w[1] + w[2] * w[2];
  const theta = Math.sqrt(theta2);
  const b = theta < 1e-4 ? 0.5 - theta2 / 24 : (1 - Math.cos(theta)) / theta2;
  const c = theta < 1e-4 ? 1 / 6 - theta2 / 120 : (theta - Math.sin(theta)) / (theta2 * theta);
  const k = hat(w);
  const k2 = multiplyHat(k);
  const out = new Float64Array(9);
  for (let i = 0; i < 9; i++) out[i] = (i % 4 === 0 ? 1 : 0) + b * k[i]! + c * k2[i]!;
  return out;
}

function multiplyHat(k: Mat3): Mat3 {
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let i = 0; i < 3; i++) s += k[r * 3 + i]! * k[i * 3 + c]!;
      out[r * 3 + c] = s;
    }
  }
  return out;
}

function solve3(a: Mat3, b: Readonly<Vec3>): Vec3 {
  // Cramer's rule: V is well conditioned for |w| < 2 pi, the range so3Log returns.
  const det =
    a[0]! * (a[4]! * a[8]! - a[5]! * a[7]!) -
    a[1]! * (a[3]! * a[8]! - a[5]! * a[6]!) +
    a[2]! * (a[3]! * a[7]! - a[4]! * a[6]!);
  const col = (m: Mat3, j: number, v: Readonly<Vec3>): Mat3 => {
    const c = Float64Array.from(m);
    c[j] = v[0];
    c[3 + j] = v[1];
    c[6 + j] = v[2];
    return c;
  };
  const d = (m: Mat3): number =>
    m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) -
    m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) +
    m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
  return [d(col(a, 0, b)) / det, d(col(a, 1, b)) / det, d(col(a, 2, b)) / det];
}

export function se3Exp(xi: Readonly<Twist>): Mat4 {
  const v: Vec3 = [xi[0], xi[1], xi[2]];
  const w: Vec3 = [xi[3], xi[4], xi[5]];
  const r = so3Exp(w);
  const jl = leftJacobian(w);
  const t: Vec3 = [
    jl[0]! * v[0] + jl[1]! * v[1] + jl[2]! * v[2],
    jl[3]! * v[0] + jl[4]! * v[1] + jl[5]! * v[2],
    jl[6]! * v[0] + jl[7]! * v[1] + jl[8]! * v[2],
  ];
  return rigidFromRt(r, t);
}

export function se3Log(t: Mat4): Twist {
  const w = so3Log(rotationOf(t));
  const v = solve3(leftJacobian(w), translationOf(t));
  return [v[0], v[1], v[2], w[0], w[1], w[2]];
}

/** exp(xi) * t: the left-multiplicative update used by the trackers. */
export function applyLeftIncrement(xi: Readonly<Twist>, t: Mat4): Mat4 {
  return multiply4(se3Exp(xi), t);
}

/** Rotation angle (radians) of a rigid transform. */
export function rotationAngle(t: Mat4): number {
  const trace = t[0]! + t[5]! + t[10]!;
  return Math.acos(Math.min(1, Math.max(-1, (trace - 1) / 2)));
}

/** Translation length (mm) of a rigid transform. */
export function translationLength(t: Mat4): number {
  return Math.hypot(t[3]!, t[7]!, t[11]!);
}

/**
 * Projects an almost-rigid transform back onto SE(3) (rotation re-orthonormalised through its unit
 * quaternion). Poses built by chaining many float32 increments drift off SO(3) by ~1e-5; this keeps them
 * rigid. Meant for small deviations, not for arbitrary matrices.
 */
export function nearestRigid(t: Mat4): Mat4 {
  return rigidFromRt(quaternionToMatrix(matrixToQuaternion(rotationOf(t))), translationOf(t));
}
