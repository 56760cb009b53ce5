/** Unit quaternions in TUM order (qx, qy, qz, qw), Hamilton convention, and rotation matrices. */
import type { Mat3 } from './mat4.js';

export type Quaternion = [x: number, y: number, z: number, w: number];

export function quaternionNormalize(q: Readonly<Quaternion>): Quaternion {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  if (!(n > 0) || !Number.isFinite(n)) throw new RangeError('quaternion has zero or non-finite norm');
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

export function quaternionToMatrix(q: Readonly<Quaternion>): Mat3 {
  const [x, y, z, w] = quaternionNormalize(q);
  return Float64Array.from([
    1 - 2 * (y * y + z * z),
    2 * (x * y - z * w),
    2 * (x * z + y * w),
    2 * (x * y + z * w),
    1 - 2 * (x * x + z * z),
    2 * (y * z - x * w),
    2 * (x * z - y * w),
    2 * (y * z + x * w),
    1 - 2 * (x * x + y * y),
  ]);
}

/** Shepperd's method: picks the largest pivot, so it is stable for every rotation. Returns qw >= 0. */
export function matrixToQuaternion(r: Mat3): Quaternion {
  const m00 = r[0]!,
    m01 = r[1]!,
    m02 = r[2]!;
  const m10 = r[3]!,
    m11 = r[4]!,
    m12 = r[5]!;
  const m20 = r[6]!,
    m21 = r[7]!,
    m22 = r[8]!;
  const trace = m00 + m11 + m22;
  let q: Quaternion;
  if (trace > 0) {
    const s = Math.sqrt(trace + 1) * 2;
    q = [(m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s, 0.25 * s];
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    q = [0.25 * s, (m01 + m10) / s, (m02 + m20) / s, (m21 - m12) / s];
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    q = [(m01 + m10) / s, 0.25 * s, (m12 + m21) / s, (m02 - m20) / s];
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    q = [(m02 + m20) / s, (m12 + m21) / s, 0.25 * s, (m10 - m01) / s];
  }
  const n = quaternionNormalize(q);
  return n[3] < 0 ? [-n[0], -n[1], -n[2], -n[3]] : n;
}
