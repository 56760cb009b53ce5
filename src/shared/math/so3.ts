/** so(3) <-> SO(3): Rodrigues' formula and its inverse, with series expansions near zero. */
import type { Mat3, Vec3 } from './mat4.js';

export function hat(w: Readonly<Vec3>): Mat3 {
  return Float64Array.from([0, -w[2], w[1], w[2], 0, -w[0], -w[1], w[0], 0]);
}

/** Rotation matrix of the axis-angle vector w (radians). */
export function so3Exp(w: Readonly<Vec3>): Mat3 {
  const theta2 = w[0] * w[0] + w[1] * w[1] + w[2] * w[2];
  const theta = Math.sqrt(theta2);
  // Taylor terms keep a and b accurate where sin(theta)/theta and (1-cos)/theta^2 lose precision.
  const a = theta < 1e-4 ? 1 - theta2 / 6 : Math.sin(theta) / theta;
  const b = theta < 1e-4 ? 0.5 - theta2 / 24 : (1 - Math.cos(theta)) / theta2;
  const [x, y, z] = w;
  return Float64Array.from([
    1 - b * (y * y + z * z),
    -a * z + b * x * y,
    a * y + b * x * z,
    a * z + b * x * y,
    1 - b * (x * x + z * z),
    -a * x + b * y * z,
    -a * y + b * x * z,
    a * x + b * y * z,
    1 - b * (x * x + y * y),
  ]);
}

/** Axis-angle vector (radians, |w| in [0, pi]) of a rotation matrix. */
export function so3Log(r: Mat3): Vec3 {
  const trace = r[0]! + r[4]! + r[8]!;
  const cosTheta = Math.min(1, Math.max(-1, (trace - 1) / 2));
  const theta = Math.acos(cosTheta);
  const vee: Vec3 = [r[7]! - r[5]!, r[2]! - r[6]!, r[3]! - r[1]!];
  if (theta < 1e-4) {
    const k = 0.5 + (theta * theta) / 12;
    return [vee[0] * k, vee[1] * k, vee[2] * k];
  }
  if (Math.PI - theta < 1e-3) {
    // Near pi the antisymmetric part vanishes; recover the axis from the symmetric part R + I = 2 n n^T.
    const diag = [r[0]!, r[4]!, r[8]!];
    let i = 0;
    if (diag[1]! > diag[i]!) i = 1;
    if (diag[2]! > diag[i]!) i = 2;
    const axis: Vec3 = [0, 0, 0];
    axis[i] = Math.sqrt(Math.max(0, (diag[i]! + 1) / 2));
    for (let j = 0; j < 3; j++) {
      if (j !== i) axis[j] = (r[i * 3 + j]! + r[j * 3 + i]!) / (4 * axis[i]!);
    }
    const n = Math.hypot(axis[0], axis[1], axis[2]);
    // Sign: choose the axis direction consistent with the (small) antisymmetric part.
    const sign = axis[0] * vee[0] + axis[1] * vee[1] + axis[2] * vee[2] < 0 ? -1 : 1;
    return [(sign * theta * axis[0]) / n, (sign * theta * axis[1]) / n, (sign * theta * axis[2]) / n];
  }
  const k = theta / (2 * Math.sin(theta));
  return [vee[0] * k, vee[1] * k, vee[2] * k];
}
