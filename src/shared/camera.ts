/**
 * Pinhole camera model (OpenCV convention: x right, y down, z forward; pixel centres at integer
 * coordinates). Focal lengths and principal point in pixels; depth is z along the optical axis in mm.
 */
import type { Millimetres, Pixels } from './units.js';
import type { Vec3 } from './math/mat4.js';

export interface PinholeIntrinsics {
  width: Pixels;
  height: Pixels;
  fx: Pixels;
  fy: Pixels;
  cx: Pixels;
  cy: Pixels;
}

/** Throws a RangeError naming the field when the intrinsics cannot describe a camera. */
export function validateIntrinsics(k: PinholeIntrinsics, source = 'intrinsics'): void {
  for (const key of ['width', 'height'] as const) {
    if (!Number.isInteger(k[key]) || k[key] <= 0) {
      throw new RangeError(`${source}: ${key} must be a positive integer, got ${String(k[key])}`);
    }
  }
  for (const key of ['fx', 'fy'] as const) {
    if (!Number.isFinite(k[key]) || k[key] <= 0) {
      throw new RangeError(`${source}: ${key} must be a positive finite number, got ${String(k[key])}`);
    }
  }
  for (const key of ['cx', 'cy'] as const) {
    if (!Number.isFinite(k[key]))
      throw new RangeError(`${source}: ${key} must be finite, got ${String(k[key])}`);
  }
}

/** Projects a camera-frame point to pixel coordinates; null when behind the camera. */
export function project(k: PinholeIntrinsics, p: Readonly<Vec3>): [u: number, v: number] | null {
  if (!(p[2] > 0)) return null;
  return [(k.fx * p[0]) / p[2] + k.cx, (k.fy * p[1]) / p[2] + k.cy];
}

/** Back-projects pixel (u, v) with depth z (mm along the optical axis) to a camera-frame point. */
export function backproject(k: PinholeIntrinsics, u: number, v: number, z: Millimetres): Vec3 {
  return [((u - k.cx) * z) / k.fx, ((v - k.cy) * z) / k.fy, z];
}

/**
 * Intrinsics of the same camera resampled to another image size. With pixel centres at integer
 * coordinates, a pixel edge at -0.5 maps to -0.5, hence the half-pixel terms.
 */
export function scaleIntrinsics(k: PinholeIntrinsics, width: Pixels, height: Pixels): PinholeIntrinsics {
  const sx = width / k.width;
  const sy = height / k.height;
  return {
    width,
    height,
    fx: k.fx * sx,
    fy: k.fy * sy,
    cx: (k.cx + 0.5) * sx - 0.5,
    cy: (k.cy + 0.5) * sy - 0.5,
  };
}
