/**
 * Stereo depth accuracy on the Open-CAS porcine liver pair (Maier-Hein et al., "Comparative validation of
 * single-shot optical techniques for laparoscopic 3-D surface reconstruction", IEEE TMI 2014; the files in
 * ../shared/data/real/opencas-liver, see its README).
 *
 * The rectified images img_rec_*.png were made with the homographies at the end of calibration_opencas.txt:
 * x_rect ~ inv(H) x_raw, with inv(H) K = K_rect R_rect (K_rect upper triangular, R_rect a rotation). An RQ
 * decomposition gives the rectified camera: K_rect (fx 429.06, fy 449.80, cx 388.85, cy 313.11) and
 * R_rect, which maps the right camera's centre onto the x axis ([4.3756, 0, 0] mm: the check that the
 * decomposition is right). Depth is compared in the rectified left frame: CT points rotated by R_rect and
 * projected with K_rect (nearest point per pixel), against fx * B / d of the matcher at that pixel.
 *
 * mask_rec_eval.png: the evaluated region is its black blob (value 0), which lies over the central liver
 * and holds 3,858 of the 4,973 CT points; the white rest is the image outside it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { decode } from 'fast-png';
import { type PinholeIntrinsics, scaleIntrinsics } from '../shared/camera.js';
import type { DepthImage, RgbImage } from '../shared/frames.js';
import { type Mat3, type Vec3, rotateVector } from '../shared/math/mat4.js';
import { readRgbPng } from '../engine/dataset/images.js';
import { readNumberFile } from '../engine/dataset/read-input-file.js';
import { distort } from '../workers/stereo/rectify.js';
import type { RectifiedGeometry } from '../workers/stereo/sgm.js';

export interface OpenCasStereo {
  left: RgbImage;
  right: RgbImage;
  /** The rectified pair at 720x576. */
  geometry: RectifiedGeometry;
  /** R_rect: left camera frame -> rectified left frame. */
  rectification: Mat3;
  /** CT surface points in the rectified left frame (mm). */
  points: Vec3[];
  /** 1 where mask_rec_eval.png marks the evaluated region, row-major 720x576. */
  evalMask: Uint8Array;
}

function invert3(m: readonly number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m as [
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
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!(Math.abs(det) > 1e-12)) throw new Error('rectification homography is singular');
  return [
    A / det,
    -(b * i - c * h) / det,
    (b * f - c * e) / det,
    B / det,
    (a * i - c * g) / det,
    -(a * f - c * d) / det,
    C / det,
    -(a * h - b * g) / det,
    (a * e - b * d) / det,
  ];
}

function mul3(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[r * 3 + c]! += a[r * 3 + k]! * b[k * 3 + c]!;
  return out;
}

/** M = K R with K upper triangular (positive diagonal, K[2][2] = 1 after scaling) and R a rotation. */
export function rqDecompose3(m: readonly number[]): { k: number[]; r: number[] } {
  const row = (i: number): Vec3 => [m[3 * i]!, m[3 * i + 1]!, m[3 * i + 2]!];
  const dot = (p: Vec3, q: Vec3): number => p[0] * q[0] + p[1] * q[1] + p[2] * q[2];
  const scaled = (p: Vec3, s: number): Vec3 => [p[0] * s, p[1] * s, p[2] * s];
  const minus = (p: Vec3, q: Vec3): Vec3 => [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
  // Gram-Schmidt from the last row up: row2 = k22 r2, row1 = k11 r1 + k12 r2, row0 = k00 r0 + k01 r1 + k02 r2.
  const m2 = row(2);
  const k22 = Math.sqrt(dot(m2, m2));
  const r2 = scaled(m2, 1 / k22);
  const m1 = row(1);
  const k12 = dot(m1, r2);
  const u1 = minus(m1, scaled(r2, k12));
  const k11 = Math.sqrt(dot(u1, u1));
  const r1 = scaled(u1, 1 / k11);
  const m0 = row(0);
  const k02 = dot(m0, r2);
  const k01 = dot(m0, r1);
  const u0 = minus(minus(m0, scaled(r2, k02)), scaled(r1, k01));
  const k00 = Math.sqrt(dot(u0, u0));
  const r0 = scaled(u0, 1 / k00);
  const k = [k00, k01, k02, 0, k11, k12, 0, 0, k22].map((v) => v / k22);
  return { k, r: [...r0, ...r1, ...r2] };
}

function readMask1(bytes: Uint8Array, file: string, width: number, height: number): Uint8Array {
  const png = decode(bytes);
  if (png.width !== width || png.height !== height)
    throw new Error(`${file}: mask is ${png.width}x${png.height}, the images are ${width}x${height}`);
  const out = new Uint8Array(width * height);
  const src = png.data as Uint8Array;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v: number;
      if (png.depth === 1) {
        const stride = Math.ceil((width * png.channels) / 8);
        v = (src[y * stride + (x >> 3)]! >> (7 - (x & 7))) & 1;
      } else if (png.depth === 8) {
        v = src[(y * width + x) * png.channels]! > 127 ? 1 : 0;
      } else {
        throw new Error(`${file}: unsupported ${png.depth}-bit mask`);
      }
      // The evaluated region is the black blob.
      out[y * width + x] = v === 0 ? 1 : 0;
    }
  }
  return out;
}

export async function loadOpenCasStereo(dir: string): Promise<OpenCasStereo> {
  const [left, right] = await Promise.all([
    readRgbPng(path.join(dir, 'img_rec_left.png')),
    readRgbPng(path.join(dir, 'img_rec_right.png')),
  ]);
  if (left.width !== right.width || left.height !== right.height) {
    throw new Error(`${dir}: rectified views differ in size`);
  }
  const kl = await readNumberFile(path.join(dir, 'calib.left.intrinsics.txt'), { skipWords: true });
  const kr = await readNumberFile(path.join(dir, 'calib.right.intrinsics.txt'), { skipWords: true });
  const l2r = await readNumberFile(path.join(dir, 'calib.l2r.txt'), { skipWords: true });
  const calib = await readNumberFile(path.join(dir, 'calibration_opencas.txt'), { skipWords: true });
  if (kl.length !== 9 || kr.length !== 9) throw new Error(`${dir}: intrinsics files need a 3x3 matrix`);
  if (l2r.length !== 16) throw new Error(`${dir}/calib.l2r.txt: expected a 4x4 matrix`);
  if (calib.length < 18) throw new Error(`${dir}/calibration_opencas.txt: no rectification homographies`);
  const hl = calib.slice(calib.length - 18, calib.length - 9);
  const hr = calib.slice(calib.length - 9);
  const recL = rqDecompose3(mul3(invert3(hl), kl));
  const recR = rqDecompose3(mul3(invert3(hr), kr));
  const rect: Mat3 = Float64Array.from(recL.r);
  // Right camera centre in the left frame: C = -R^T t of the left-to-right transform.
  const R = [l2r[0]!, l2r[1]!, l2r[2]!, l2r[4]!, l2r[5]!, l2r[6]!, l2r[8]!, l2r[9]!, l2r[10]!];
  const t: Vec3 = [l2r[3]!, l2r[7]!, l2r[11]!];
  const centre: Vec3 = [0, 1, 2].map((c) => -(R[c]! * t[0] + R[3 + c]! * t[1] + R[6 + c]! * t[2])) as Vec3;
  const baseline = rotateVector(rect, centre);
  if (Math.abs(baseline[1]) > 0.05 || Math.abs(baseline[2]) > 0.05 || !(baseline[0] > 0)) {
    throw new Error(
      `${dir}: the rectification does not put the right camera on the x axis (${baseline.map((v) => v.toFixed(3)).join(', ')})`,
    );
  }
  const intrinsics: PinholeIntrinsics = {
    width: left.width,
    height: left.height,
    fx: recL.k[0]!,
    fy: recL.k[4]!,
    cx: recL.k[2]!,
    cy: recL.k[5]!,
  };
  const xyz = await readNumberFile(path.join(dir, 'ct_surface.xyz'), { skipWords: true });
  if (xyz.length % 3 !== 0) throw new Error(`${dir}/ct_surface.xyz: expected x y z per line`);
  const points: Vec3[] = [];
  for (let i = 0; i < xyz.length; i += 3)
    points.push(rotateVector(rect, [xyz[i]!, xyz[i + 1]!, xyz[i + 2]!]));
  const maskFile = path.join(dir, 'mask_rec_eval.png');
  const evalMask = readMask1(await readFile(maskFile), maskFile, left.width, left.height);
  return {
    left,
    right,
    geometry: { intrinsics, baselineMm: baseline[0], disparityOffset: recL.k[2]! - recR.k[2]! },
    rectification: rect,
    points,
    evalMask,
  };
}

/** Area-average resize of an RGB image (each output pixel averages the source pixels it covers). */
export function resizeRgbArea(img: RgbImage, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const sx = img.width / width;
  const sy = img.height / height;
  for (let y = 0; y < height; y++) {
    const y0 = y * sy;
    const y1 = y0 + sy;
    for (let x = 0; x < width; x++) {
      const x0 = x * sx;
      const x1 = x0 + sx;
      const acc = [0, 0, 0];
      let wsum = 0;
      for (let v = Math.floor(y0); v < Math.ceil(y1); v++) {
        const wy = Math.min(y1, v + 1) - Math.max(y0, v);
        for (let u = Math.floor(x0); u < Math.ceil(x1); u++) {
          const w = wy * (Math.min(x1, u + 1) - Math.max(x0, u));
          const p = 3 * (v * img.width + u);
          acc[0]! += w * img.data[p]!;
          acc[1]! += w * img.data[p + 1]!;
          acc[2]! += w * img.data[p + 2]!;
          wsum += w;
        }
      }
      const o = 3 * (y * width + x);
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(acc[c]! / wsum);
    }
  }
  return { width, height, data: out };
}

/** The pair, its geometry and the evaluation samples at a processing size. */
export interface OpenCasAtSize {
  left: RgbImage;
  right: RgbImage;
  geometry: RectifiedGeometry;
  /** CT depth (mm, rectified frame) at each evaluated pixel: nearest CT point, inside the eval mask. */
  ctDepth: DepthImage;
  /** 1 where the eval mask holds at this size (nearest source pixel). */
  evalMask: Uint8Array;
}

export function openCasAtSize(data: OpenCasStereo, width: number, height: number): OpenCasAtSize {
  const same = width === data.left.width && height === data.left.height;
  const k = same ? data.geometry.intrinsics : scaleIntrinsics(data.geometry.intrinsics, width, height);
  const sx = width / data.left.width;
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy0 = Math.min(data.left.height - 1, Math.floor(((y + 0.5) * data.left.height) / height));
    for (let x = 0; x < width; x++) {
      const sx0 = Math.min(data.left.width - 1, Math.floor(((x + 0.5) * data.left.width) / width));
      mask[y * width + x] = data.evalMask[sy0 * data.left.width + sx0]!;
    }
  }
  const ct = new Float32Array(width * height);
  for (const p of data.points) {
    if (!(p[2] > 0)) continue;
    const u = Math.round((k.fx * p[0]) / p[2] + k.cx);
    const v = Math.round((k.fy * p[1]) / p[2] + k.cy);
    if (u < 0 || v < 0 || u >= width || v >= height) continue;
    const i = v * width + u;
    if (!mask[i]) continue;
    if (ct[i] === 0 || p[2] < ct[i]!) ct[i] = p[2];
  }
  return {
    left: same ? data.left : resizeRgbArea(data.left, width, height),
    right: same ? data.right : resizeRgbArea(data.right, width, height),
    // The disparity offset is in pixels of the image: it scales with the width.
    geometry: { ...data.geometry, intrinsics: k, disparityOffset: data.geometry.disparityOffset * sx },
    ctDepth: { width, height, data: ct },
    evalMask: mask,
  };
}

export interface CtDepthError {
  /** CT pixels (inside the eval mask) compared. */
  ctPixels: number;
  /** Share of those pixels where the method gives a depth. */
  ctCoverage: number;
  /** Share of the eval mask's pixels with a depth. */
  maskCoverage: number;
  medianMm: number;
  p90Mm: number;
  rmseMm: number;
  /** Median of (method - CT): the bias. */
  medianSignedMm: number;
}

/** CT depth per pixel (0 = no sample) and the evaluated region. */
export type CtSamples = Pick<OpenCasAtSize, 'ctDepth' | 'evalMask'>;

/** Error of a depth map (mm, 0 = unknown) against CT samples (openCasAtSize, loadOpenCasRaw). */
export function depthErrorVsCt(depth: DepthImage, sample: CtSamples): CtDepthError {
  const ct = sample.ctDepth.data;
  if (depth.width !== sample.ctDepth.width || depth.height !== sample.ctDepth.height) {
    throw new RangeError(
      `depth is ${depth.width}x${depth.height}, the CT samples are ${sample.ctDepth.width}x${sample.ctDepth.height}`,
    );
  }
  const abs: number[] = [];
  const signed: number[] = [];
  let ctPixels = 0;
  let sq = 0;
  let maskPixels = 0;
  let maskValid = 0;
  for (let i = 0; i < ct.length; i++) {
    const z = depth.data[i]!;
    const ok = Number.isFinite(z) && z > 0;
    if (sample.evalMask[i]) {
      maskPixels++;
      if (ok) maskValid++;
    }
    if (!(ct[i]! > 0)) continue;
    ctPixels++;
    if (!ok) continue;
    const e = z - ct[i]!;
    abs.push(Math.abs(e));
    signed.push(e);
    sq += e * e;
  }
  abs.sort((a, b) => a - b);
  signed.sort((a, b) => a - b);
  const q = (s: number[], f: number): number => (s.length ? s[Math.floor(f * (s.length - 1))]! : NaN);
  return {
    ctPixels,
    ctCoverage: ctPixels ? abs.length / ctPixels : 0,
    maskCoverage: maskPixels ? maskValid / maskPixels : 0,
    medianMm: q(abs, 0.5),
    p90Mm: q(abs, 0.9),
    rmseMm: abs.length ? Math.sqrt(sq / abs.length) : NaN,
    medianSignedMm: q(signed, 0.5),
  };
}

/** The raw (unrectified) Open-CAS pair with its calibration as a stereo.json profile, and CT samples on it. */
export interface OpenCasRaw {
  left: RgbImage;
  right: RgbImage;
  /** stereo.json content (docs/stereo.md) built from the calib.* files: distortion, R, T. */
  profile: Record<string, unknown>;
  /** CT depth (mm, left camera frame) at the raw left pixels inside mask_eval.png, projected with distortion. */
  sample: CtSamples;
}

export async function loadOpenCasRaw(dir: string): Promise<OpenCasRaw> {
  const [left, right] = await Promise.all([
    readRgbPng(path.join(dir, 'img_left.png')),
    readRgbPng(path.join(dir, 'img_right.png')),
  ]);
  const kl = await readNumberFile(path.join(dir, 'calib.left.intrinsics.txt'), { skipWords: true });
  const kr = await readNumberFile(path.join(dir, 'calib.right.intrinsics.txt'), { skipWords: true });
  const dl = await readNumberFile(path.join(dir, 'calib.left.distortion.txt'), { skipWords: true });
  const dr = await readNumberFile(path.join(dir, 'calib.right.distortion.txt'), { skipWords: true });
  const t = await readNumberFile(path.join(dir, 'calib.l2r.txt'), { skipWords: true });
  if (kl.length !== 9 || kr.length !== 9 || t.length !== 16)
    throw new Error(`${dir}: calib.* files are incomplete`);
  const cam = (k: number[], d: number[]) => ({
    width: left.width,
    height: left.height,
    fx: k[0]!,
    fy: k[4]!,
    cx: k[2]!,
    cy: k[5]!,
    distortion: d,
  });
  const profile = {
    layout: 'separate',
    left: cam(kl, dl),
    right: cam(kr, dr),
    R: [t[0]!, t[1]!, t[2]!, t[4]!, t[5]!, t[6]!, t[8]!, t[9]!, t[10]!],
    T: [t[3]!, t[7]!, t[11]!],
    // The liver lies 42-64 mm from the scope.
    depth_range_mm: [30, 90],
  };
  const maskFile = path.join(dir, 'mask_eval.png');
  const evalMask = readMask1(await readFile(maskFile), maskFile, left.width, left.height);
  const xyz = await readNumberFile(path.join(dir, 'ct_surface.xyz'), { skipWords: true });
  const ct = new Float32Array(left.width * left.height);
  for (let i = 0; i + 2 < xyz.length; i += 3) {
    const z = xyz[i + 2]!;
    if (!(z > 0)) continue;
    const [xd, yd] = distort(dl, xyz[i]! / z, xyz[i + 1]! / z);
    const u = Math.round(kl[0]! * xd + kl[2]!);
    const v = Math.round(kl[4]! * yd + kl[5]!);
    if (u < 0 || v < 0 || u >= left.width || v >= left.height) continue;
    const p = v * left.width + u;
    if (!evalMask[p]) continue;
    if (ct[p] === 0 || z < ct[p]!) ct[p] = z;
  }
  return {
    left,
    right,
    profile,
    sample: { ctDepth: { width: left.width, height: left.height, data: ct }, evalMask },
  };
}
