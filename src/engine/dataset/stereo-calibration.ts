/**
 * stereo.json of a stereo dataset folder (docs/stereo.md): the stereo camera profile. The left camera is
 * the reference (its frames are rgb/, its intrinsics intrinsics.json); the right view's frames are right/.
 *
 *   {
 *     "layout": "separate",                      // right view in right/NNNNNN.png; or one stream carrying both:
 *                                                // "side-by-side", "top-bottom", "line-interleaved"
 *                                                // (src/engine/capture/stereo-layout.ts)
 *     "left":  { "width", "height", "fx", "fy", "cx", "cy", "distortion": [k1, k2, p1, p2, k3] },
 *     "right": { ... },
 *     "R": [9 numbers, row-major], "T": [3 numbers, mm]   // x_right = R x_left + T (OpenCV stereoCalibrate)
 *     "depth_range_mm": [min, max]               // optional, sets the disparity search range
 *   }
 *
 * A profile that is already rectified (no distortion, R = I, T along -x, equal focal lengths and cy) is
 * matched as it is; any other is rectified (src/workers/stereo/rectify.ts: tables computed once per profile,
 * the depth carried back onto the left camera of the frames).
 */
import { z } from 'zod';
import { type PinholeIntrinsics, validateIntrinsics } from '../../shared/camera.js';
import type { Mat3, Vec3 } from '../../shared/math/mat4.js';
import {
  type CameraModel,
  type Rectification,
  stereoRectify,
  validateDistortion,
} from '../../workers/stereo/rectify.js';
import { readInputFile, parseJsonInput } from './read-input-file.js';

const camera = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fx: z.number().positive(),
  fy: z.number().positive(),
  cx: z.number(),
  cy: z.number(),
  distortion: z.array(z.number()).max(14).default([]),
});

const schema = z.object({
  layout: z.enum(['separate', 'side-by-side', 'top-bottom', 'line-interleaved']).default('separate'),
  left: camera,
  right: camera,
  R: z.array(z.number()).length(9),
  T: z.array(z.number()).length(3),
  depth_range_mm: z.tuple([z.number().positive(), z.number().positive()]).optional(),
});

export type StereoLayout = z.infer<typeof schema>['layout'];

/**
 * A stereo profile. The matcher works on the rectified pair: depth = matching.fx * baselineMm /
 * (disparity - disparityOffset), in the rectified left camera `matching`.
 */
export interface StereoCalibration {
  layout: StereoLayout;
  /** The source cameras (the frames' own), without distortion terms. */
  left: PinholeIntrinsics;
  right: PinholeIntrinsics;
  /** The camera the pair is matched in: `left` for a rectified profile, else the rectified camera. */
  matching: PinholeIntrinsics;
  baselineMm: number;
  /** cx_left - cx_right (px) of the matched pair. */
  disparityOffset: number;
  /** Depths the matcher searches (mm). */
  depthRangeMm: [number, number];
  /** Null for a rectified profile; else the source cameras with distortion and the rectification. */
  rectification: { left: CameraModel; right: CameraModel; rectify: Rectification } | null;
}

export const DEFAULT_DEPTH_RANGE_MM: [number, number] = [20, 250];

const ROTATION_TOLERANCE = 1e-4;
const PIXEL_TOLERANCE = 0.5;

export function parseStereoCalibration(text: string, file = 'stereo.json'): StereoCalibration {
  const c = parseJsonInput(text, file, schema);
  validateIntrinsics(c.left, `${file}: left`);
  validateIntrinsics(c.right, `${file}: right`);
  if (c.left.width !== c.right.width || c.left.height !== c.right.height) {
    throw new Error(
      `${file}: left camera is ${c.left.width}x${c.left.height} but right camera is ${c.right.width}x${c.right.height}`,
    );
  }
  const unrectified: string[] = [];
  if ([...c.left.distortion, ...c.right.distortion].some((k) => Math.abs(k) > 1e-9))
    unrectified.push('non-zero distortion');
  const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  if (c.R.some((v, i) => Math.abs(v - identity[i]!) > ROTATION_TOLERANCE))
    unrectified.push('R is not the identity');
  const [tx, ty, tz] = c.T as [number, number, number];
  const baseline = -tx;
  if (!(baseline > 0) || Math.abs(ty) > 1e-3 * baseline || Math.abs(tz) > 1e-3 * baseline)
    unrectified.push('T is not along -x (right camera to the right of the left one)');
  if (
    Math.abs(c.left.fy - c.right.fy) > 1e-6 * c.left.fy ||
    Math.abs(c.left.fx - c.right.fx) > 1e-6 * c.left.fx
  )
    unrectified.push('the cameras differ in focal length');
  if (Math.abs(c.left.cy - c.right.cy) > PIXEL_TOLERANCE) unrectified.push('the cameras differ in cy');
  let rectification: StereoCalibration['rectification'] = null;
  if (unrectified.length > 0) {
    validateDistortion(c.left.distortion, `${file}: left`);
    validateDistortion(c.right.distortion, `${file}: right`);
    const r: Mat3 = Float64Array.from(c.R);
    const det =
      r[0]! * (r[4]! * r[8]! - r[5]! * r[7]!) -
      r[1]! * (r[3]! * r[8]! - r[5]! * r[6]!) +
      r[2]! * (r[3]! * r[7]! - r[4]! * r[6]!);
    let orthogonal = Math.abs(det - 1) < 1e-4;
    for (let i = 0; i < 3 && orthogonal; i++)
      for (let j = 0; j < 3; j++) {
        let d = 0;
        for (let k = 0; k < 3; k++) d += r[i * 3 + k]! * r[j * 3 + k]!;
        if (Math.abs(d - (i === j ? 1 : 0)) > 1e-4) orthogonal = false;
      }
    if (!orthogonal) throw new Error(`${file}: R is not a rotation matrix`);
    const left: CameraModel = { ...c.left };
    const right: CameraModel = { ...c.right };
    let rectify: Rectification;
    try {
      rectify = stereoRectify(left, right, r, c.T as Vec3);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
    }
    rectification = { left, right, rectify };
  }
  const range = c.depth_range_mm ?? DEFAULT_DEPTH_RANGE_MM;
  if (!(range[0] < range[1])) throw new Error(`${file}: depth_range_mm must be [min, max] with min < max`);
  const strip = ({ width, height, fx, fy, cx, cy }: z.infer<typeof camera>): PinholeIntrinsics => ({
    width,
    height,
    fx,
    fy,
    cx,
    cy,
  });
  return {
    layout: c.layout,
    left: strip(c.left),
    right: strip(c.right),
    matching: rectification ? rectification.rectify.k : strip(c.left),
    baselineMm: rectification ? rectification.rectify.baselineMm : baseline,
    disparityOffset: rectification ? 0 : c.left.cx - c.right.cx,
    depthRangeMm: [range[0], range[1]],
    rectification,
  };
}

export async function readStereoCalibration(file: string): Promise<StereoCalibration> {
  return parseStereoCalibration((await readInputFile(file)).toString('utf8'), file);
}

/** Checks that the profile describes frames of this camera: same size and the same left intrinsics. */
export function checkStereoMatchesCamera(
  calib: StereoCalibration,
  k: PinholeIntrinsics,
  file: string,
  what = 'intrinsics.json',
): void {
  const l = calib.left;
  if (l.width !== k.width || l.height !== k.height) {
    throw new Error(
      `${file}: stereo profile is for ${l.width}x${l.height} but ${what} says ${k.width}x${k.height}`,
    );
  }
  for (const key of ['fx', 'fy', 'cx', 'cy'] as const) {
    if (Math.abs(l[key] - k[key]) > 1e-3 * Math.max(1, Math.abs(k[key]))) {
      throw new Error(`${file}: left ${key} ${l[key]} does not match ${what} (${k[key]})`);
    }
  }
}

/** Disparity search range for the profile's depth range, in the matcher's units (multiple of 8). */
export function disparityRange(calib: StereoCalibration): { minDisparity: number; numDisparities: number } {
  const fb = calib.matching.fx * calib.baselineMm;
  const [zMin, zMax] = calib.depthRangeMm;
  const lo = Math.max(0, Math.floor(fb / zMax + calib.disparityOffset) - 1);
  const hi = Math.ceil(fb / zMin + calib.disparityOffset) + 2;
  const num = Math.max(8, Math.ceil((hi - lo) / 8) * 8);
  if (num > 256) {
    throw new Error(
      `stereo: depth range ${zMin}..${zMax} mm needs ${num} disparities (at most 256); narrow depth_range_mm`,
    );
  }
  return { minDisparity: lo, numDisparities: num };
}
