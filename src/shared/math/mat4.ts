/**
 * 4x4 and 3x3 matrices, row-major in Float64Arrays: element (r, c) is m[r * 4 + c] (m[r * 3 + c] for 3x3).
 * Rigid transforms map column vectors: p_world = T_world_camera * p_camera.
 */

export type Mat4 = Float64Array;
export type Mat3 = Float64Array;
export type Vec3 = [number, number, number];

export function identity4(): Mat4 {
  const m = new Float64Array(16);
  m[0] = m[5] = m[10] = m[15] = 1;
  return m;
}

export function identity3(): Mat3 {
  const m = new Float64Array(9);
  m[0] = m[4] = m[8] = 1;
  return m;
}

export function mat4FromArray(values: ArrayLike<number>): Mat4 {
  if (values.length !== 16) throw new RangeError(`expected 16 values for a 4x4 matrix, got ${values.length}`);
  return Float64Array.from(values);
}

export function multiply4(a: Mat4, b: Mat4): Mat4 {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k]! * b[k * 4 + c]!;
      out[r * 4 + c] = s;
    }
  }
  return out;
}

export function multiply3(a: Mat3, b: Mat3): Mat3 {
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += a[r * 3 + k]! * b[k * 3 + c]!;
      out[r * 3 + c] = s;
    }
  }
  return out;
}

export function transpose3(a: Mat3): Mat3 {
  return Float64Array.from([a[0]!, a[3]!, a[6]!, a[1]!, a[4]!, a[7]!, a[2]!, a[5]!, a[8]!]);
}

export function determinant3(a: Mat3): number {
  return (
    a[0]! * (a[4]! * a[8]! - a[5]! * a[7]!) -
    a[1]! * (a[3]! * a[8]! - a[5]! * a[6]!) +
    a[2]! * (a[3]! * a[7]! - a[4]! * a[6]!)
  );
}

/** Rotation block of a rigid transform. */
export function rotationOf(t: Mat4): Mat3 {
  return Float64Array.from([t[0]!, t[1]!, t[2]!, t[4]!, t[5]!, t[6]!, t[8]!, t[9]!, t[10]!]);
}

export function translationOf(t: Mat4): Vec3 {
  return [t[3]!, t[7]!, t[11]!];
}

export function rigidFromRt(r: Mat3, t: Vec3): Mat4 {
  return Float64Array.from([
    r[0]!,
    r[1]!,
    r[2]!,
    t[0],
    r[3]!,
    r[4]!,
    r[5]!,
    t[1],
    r[6]!,
    r[7]!,
    r[8]!,
    t[2],
    0,
    0,
    0,
    1,
  ]);
}

/** Inverse of a rigid transform (R^T, -R^T t); exact for SE(3), wrong for general matrices. */
export function invertRigid(t: Mat4): Mat4 {
  const r = rotationOf(t);
  const rt = transpose3(r);
  const [tx, ty, tz] = translationOf(t);
  return rigidFromRt(rt, [
    -(rt[0]! * tx + rt[1]! * ty + rt[2]! * tz),
    -(rt[3]! * tx + rt[4]! * ty + rt[5]! * tz),
    -(rt[6]! * tx + rt[7]! * ty + rt[8]! * tz),
  ]);
}

/** xyz triples (a mesh's positions, float32) mapped through a 4x4 rigid or similarity transform. */
export function transformPositions(t: ArrayLike<number>, positions: Float32Array): Float32Array {
  const out = new Float32Array(positions.length);
  for (let i = 0; i < positions.length; i += 3) {
    const x = positions[i]!,
      y = positions[i + 1]!,
      z = positions[i + 2]!;
    out[i] = t[0]! * x + t[1]! * y + t[2]! * z + t[3]!;
    out[i + 1] = t[4]! * x + t[5]! * y + t[6]! * z + t[7]!;
    out[i + 2] = t[8]! * x + t[9]! * y + t[10]! * z + t[11]!;
  }
  return out;
}

export function transformPoint(t: Mat4, p: Readonly<Vec3>): Vec3 {
  return [
    t[0]! * p[0] + t[1]! * p[1] + t[2]! * p[2] + t[3]!,
    t[4]! * p[0] + t[5]! * p[1] + t[6]! * p[2] + t[7]!,
    t[8]! * p[0] + t[9]! * p[1] + t[10]! * p[2] + t[11]!,
  ];
}

export function rotateVector(r: Mat3, v: Readonly<Vec3>): Vec3 {
  return [
    r[0]! * v[0] + r[1]! * v[1] + r[2]! * v[2],
    r[3]! * v[0] + r[4]! * v[1] + r[5]! * v[2],
    r[6]! * v[0] + r[7]! * v[1] + r[8]! * v[2],
  ];
}

export function isFiniteMatrix(m: ArrayLike<number>): boolean {
  for (let i = 0; i < m.length; i++) if (!Number.isFinite(m[i]!)) return false;
  return true;
}

/** True when t is a rigid transform: orthonormal rotation with det +1 and a [0 0 0 1] last row. */
export function isRigid(t: Mat4, tolerance = 1e-6): boolean {
  if (t.length !== 16 || !isFiniteMatrix(t)) return false;
  if (Math.abs(t[12]!) > tolerance || Math.abs(t[13]!) > tolerance || Math.abs(t[14]!) > tolerance)
    return false;
  if (Math.abs(t[15]! - 1) > tolerance) return false;
  const r = rotationOf(t);
  const rrt = multiply3(r, transpose3(r));
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      if (Math.abs(rrt[i * 3 + j]! - (i === j ? 1 : 0)) > tolerance * 10) return false;
    }
  }
  return Math.abs(determinant3(r) - 1) < tolerance * 10;
}

export function norm3(v: Readonly<Vec3>): number {
  return Math.hypot(v[0], v[1], v[2]);
}

export function sub3(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function dot3(a: Readonly<Vec3>, b: Readonly<Vec3>): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross3(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
