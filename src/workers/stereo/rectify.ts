/**
 * Rectification of a calibrated stereo pair (Bouguet's method, as OpenCV's stereoRectify with
 * CALIB_ZERO_DISPARITY): both cameras are rotated half-way towards each other and then so that the
 * baseline is their common x axis; one pinhole camera K_rect serves both. The lookup tables are computed
 * once per profile; each frame is then resampled (bilinear) and the depth matched in the rectified left
 * camera is carried back onto the source left camera's pixels, so tracking and fusion see the camera of
 * the frames they get.
 *
 * Distortion: OpenCV's model with 4, 5 or 8 coefficients (k1 k2 p1 p2 [k3 [k4 k5 k6]]).
 * R, T: x_right = R x_left + T (mm), as stereoCalibrate gives them.
 */
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import {
  type Mat3,
  type Vec3,
  cross3,
  multiply3,
  norm3,
  rotateVector,
  transpose3,
} from '../../shared/math/mat4.js';
import { so3Exp, so3Log } from '../../shared/math/so3.js';
import { nativeRemapRgb } from './sgm.js';

export interface CameraModel extends PinholeIntrinsics {
  /** k1 k2 p1 p2 [k3 [k4 k5 k6]] (OpenCV order); empty = none. */
  distortion: readonly number[];
}

export interface Rectification {
  /** Rotations of the left and right cameras into their rectified frames. */
  r1: Mat3;
  r2: Mat3;
  /** The rectified pinhole camera of both views (same size as the source). */
  k: PinholeIntrinsics;
  baselineMm: number;
}

/** OpenCV's distortion of normalised image coordinates. */
export function distort(d: readonly number[], x: number, y: number): [number, number] {
  const [k1 = 0, k2 = 0, p1 = 0, p2 = 0, k3 = 0, k4 = 0, k5 = 0, k6 = 0] = d;
  const r2 = x * x + y * y;
  const radial = (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)));
  return [
    x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x),
    y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y,
  ];
}

/** Inverse of distort by fixed-point iteration (as OpenCV's undistortPoints). */
function undistort(d: readonly number[], xd: number, yd: number): [number, number] {
  const [k1 = 0, k2 = 0, p1 = 0, p2 = 0, k3 = 0, k4 = 0, k5 = 0, k6 = 0] = d;
  let x = xd;
  let y = yd;
  for (let i = 0; i < 20; i++) {
    const r2 = x * x + y * y;
    const icdist = (1 + r2 * (k4 + r2 * (k5 + r2 * k6))) / (1 + r2 * (k1 + r2 * (k2 + r2 * k3)));
    const dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x);
    const dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y;
    x = (xd - dx) * icdist;
    y = (yd - dy) * icdist;
  }
  return [x, y];
}

export function validateDistortion(d: readonly number[], what: string): void {
  if (![0, 4, 5, 8].includes(d.length))
    throw new RangeError(
      `${what}: distortion needs 4, 5 or 8 coefficients (k1 k2 p1 p2 [k3 [k4 k5 k6]]), got ${d.length}`,
    );
  if (d.some((v) => !Number.isFinite(v)))
    throw new RangeError(`${what}: distortion coefficients must be finite`);
}

export function stereoRectify(
  left: CameraModel,
  right: CameraModel,
  R: Mat3,
  T: Readonly<Vec3>,
): Rectification {
  const om = so3Log(R);
  const rr = so3Exp([-om[0] / 2, -om[1] / 2, -om[2] / 2]);
  const t = rotateVector(rr, T);
  const c = t[0];
  const nt = norm3(t);
  if (!(Math.abs(c) > Math.abs(t[1])))
    throw new RangeError('stereo: the baseline is not horizontal (vertical stereo is not supported)');
  const uu: Vec3 = [c > 0 ? 1 : -1, 0, 0];
  let ww = cross3(t, uu);
  const nw = norm3(ww);
  if (nw > 0) {
    const s = Math.acos(Math.min(1, Math.abs(c) / nt)) / nw;
    ww = [ww[0] * s, ww[1] * s, ww[2] * s];
  }
  const wr = so3Exp(ww);
  const r1 = multiply3(wr, transpose3(rr));
  const r2 = multiply3(wr, rr);
  // The smaller fy of the two: the central field keeps its resolution (strongly distorted corners may
  // fall outside; OpenCV instead rescales to fit them).
  const f = Math.min(left.fy, right.fy);
  const k: PinholeIntrinsics = {
    width: left.width,
    height: left.height,
    fx: f,
    fy: f,
    cx: (left.width - 1) / 2,
    cy: (left.height - 1) / 2,
  };
  return { r1, r2, k, baselineMm: nt };
}

/** For each rectified pixel: where to sample the source image (x, y in source pixels). */
export interface RemapTable {
  width: number;
  height: number;
  x: Float32Array;
  y: Float32Array;
}

export function rectifyMap(cam: CameraModel, r: Mat3, k: PinholeIntrinsics): RemapTable {
  const rt = transpose3(r);
  const n = k.width * k.height;
  const mx = new Float32Array(n);
  const my = new Float32Array(n);
  for (let v = 0; v < k.height; v++) {
    for (let u = 0; u < k.width; u++) {
      const p = rotateVector(rt, [(u - k.cx) / k.fx, (v - k.cy) / k.fy, 1]);
      const i = v * k.width + u;
      if (!(p[2] > 0)) {
        mx[i] = my[i] = -1e6;
        continue;
      }
      const [xd, yd] = distort(cam.distortion, p[0] / p[2], p[1] / p[2]);
      mx[i] = cam.fx * xd + cam.cx;
      my[i] = cam.fy * yd + cam.cy;
    }
  }
  return { width: k.width, height: k.height, x: mx, y: my };
}

/** Bilinear resampling through a table (native); samples outside the source are black. */
export function remapRgb(img: RgbImage, map: RemapTable): RgbImage {
  return nativeRemapRgb(img, map.x, map.y, map.width, map.height);
}

/**
 * Carries depth of the rectified left camera back onto the source left camera: each source pixel takes
 * the rectified pixel its ray lands on (nearest) and that point's z in the source camera.
 */
export class DepthToSource {
  private readonly index: Int32Array;
  private readonly factor: Float32Array;
  constructor(
    private readonly cam: CameraModel,
    rect: Rectification,
  ) {
    const k = rect.k;
    const n = cam.width * cam.height;
    this.index = new Int32Array(n).fill(-1);
    this.factor = new Float32Array(n);
    const r1t = transpose3(rect.r1);
    for (let v = 0; v < cam.height; v++) {
      for (let u = 0; u < cam.width; u++) {
        const [xu, yu] = undistort(cam.distortion, (u - cam.cx) / cam.fx, (v - cam.cy) / cam.fy);
        const q = rotateVector(rect.r1, [xu, yu, 1]);
        if (!(q[2] > 0)) continue;
        const qu = Math.round((k.fx * q[0]) / q[2] + k.cx);
        const qv = Math.round((k.fy * q[1]) / q[2] + k.cy);
        if (qu < 0 || qv < 0 || qu >= k.width || qv >= k.height) continue;
        const i = v * cam.width + u;
        this.index[i] = qv * k.width + qu;
        // X_rect = z_rect * ray(q) with ray(q).z = 1, so z_source = z_rect * (R1^T ray(q)).z.
        this.factor[i] = rotateVector(r1t, [(qu - k.cx) / k.fx, (qv - k.cy) / k.fy, 1])[2];
      }
    }
  }

  /** A per-pixel map of the rectified view (e.g. confidence) on the source pixels, 0 where none lands. */
  applyPlain(values: Float32Array): Float32Array {
    const out = new Float32Array(this.cam.width * this.cam.height);
    for (let i = 0; i < out.length; i++) {
      const j = this.index[i]!;
      if (j >= 0) out[i] = values[j]!;
    }
    return out;
  }

  apply(depth: DepthImage): DepthImage {
    const out = new Float32Array(this.cam.width * this.cam.height);
    for (let i = 0; i < out.length; i++) {
      const j = this.index[i]!;
      if (j < 0) continue;
      const z = depth.data[j]!;
      if (z > 0) out[i] = z * this.factor[i]!;
    }
    return { width: this.cam.width, height: this.cam.height, data: out };
  }
}
