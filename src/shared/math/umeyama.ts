/**
 * Least-squares alignment of corresponding 3D point sets (Umeyama 1991): finds s, R, t minimising
 * sum |dst_i - (s R src_i + t)|^2. The rotation comes from Horn's quaternion formulation, which always
 * yields a proper rotation (det +1) and needs only a symmetric 4x4 eigen-decomposition.
 */
import { type Mat3, type Mat4, type Vec3, rigidFromRt } from './mat4.js';
import { quaternionToMatrix } from './quaternion.js';
import { symmetricEigen } from './linalg.js';

export interface Alignment {
  /** Maps source points onto destination points: dst ≈ scale * R * src + t. */
  rotation: Mat3;
  translation: Vec3;
  scale: number;
  /** [R t; 0 1] with the scale folded into the rotation block when scale != 1. */
  matrix: Mat4;
}

export function umeyamaAlign(src: readonly Vec3[], dst: readonly Vec3[], withScale: boolean): Alignment {
  const n = src.length;
  if (n !== dst.length)
    throw new RangeError(`umeyamaAlign: ${n} source points but ${dst.length} destination points`);
  if (n < 3) throw new RangeError(`umeyamaAlign: needs at least 3 point pairs, got ${n}`);
  const mean = (pts: readonly Vec3[]): Vec3 => {
    const m: Vec3 = [0, 0, 0];
    for (const p of pts) {
      m[0] += p[0];
      m[1] += p[1];
      m[2] += p[2];
    }
    return [m[0] / n, m[1] / n, m[2] / n];
  };
  const ms = mean(src);
  const md = mean(dst);
  // Cross-covariance S = sum (src_i - ms)(dst_i - md)^T and source variance.
  const s = new Float64Array(9);
  let varSrc = 0;
  for (let i = 0; i < n; i++) {
    const a: Vec3 = [src[i]![0] - ms[0], src[i]![1] - ms[1], src[i]![2] - ms[2]];
    const b: Vec3 = [dst[i]![0] - md[0], dst[i]![1] - md[1], dst[i]![2] - md[2]];
    varSrc += a[0] * a[0] + a[1] * a[1] + a[2] * a[2];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) s[r * 3 + c]! += a[r]! * b[c]!;
  }
  const [sxx, sxy, sxz, syx, syy, syz, szx, szy, szz] = s as unknown as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Horn's symmetric matrix N (quaternion order w, x, y, z).
  const nMat = [
    sxx + syy + szz,
    syz - szy,
    szx - sxz,
    sxy - syx,
    syz - szy,
    sxx - syy - szz,
    sxy + syx,
    szx + sxz,
    szx - sxz,
    sxy + syx,
    -sxx + syy - szz,
    syz + szy,
    sxy - syx,
    szx + sxz,
    syz + szy,
    -sxx - syy + szz,
  ];
  const { vectors } = symmetricEigen(nMat, 4);
  const qw = vectors[0]!,
    qx = vectors[4]!,
    qy = vectors[8]!,
    qz = vectors[12]!;
  const rotation = quaternionToMatrix([qx, qy, qz, qw]);
  let scale = 1;
  if (withScale) {
    let num = 0;
    for (let i = 0; i < n; i++) {
      const a: Vec3 = [src[i]![0] - ms[0], src[i]![1] - ms[1], src[i]![2] - ms[2]];
      const b: Vec3 = [dst[i]![0] - md[0], dst[i]![1] - md[1], dst[i]![2] - md[2]];
      for (let r = 0; r < 3; r++) {
        num += b[r]! * (rotation[r * 3]! * a[0] + rotation[r * 3 + 1]! * a[1] + rotation[r * 3 + 2]! * a[2]);
      }
    }
    if (!(varSrc > 0))
      throw new RangeError('umeyamaAlign: source points are all identical; scale is undefined');
    scale = num / varSrc;
  }
  const rs = Float64Array.from(rotation, (x) => x * scale);
  const translation: Vec3 = [
    md[0] - (rs[0]! * ms[0] + rs[1]! * ms[1] + rs[2]! * ms[2]),
    md[1] - (rs[3]! * ms[0] + rs[4]! * ms[1] + rs[5]! * ms[2]),
    md[2] - (rs[6]! * ms[0] + rs[7]! * ms[1] + rs[8]! * ms[2]),
  ];
  return { rotation, translation, scale, matrix: rigidFromRt(rs, translation) };
}
