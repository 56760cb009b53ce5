/**
 * A textured analytic scene for tracking tests and the benchmark's fallback when no phantom dataset
 * exists: a wavy tissue-like heightfield z = z0 + a sin(x/lx) cos(y/ly) (world = first camera, mm) with
 * a multi-frequency albedo, lit by a point light at the camera centre (inverse-square falloff, Lambert
 * plus an optional Blinn-Phong highlight that saturates), seen through a circular field of view.
 */
import type { PinholeIntrinsics } from '../../src/shared/camera.js';
import type { DepthImage, RgbImage } from '../../src/shared/frames.js';
import type { Mat4 } from '../../src/shared/math/mat4.js';

export interface SceneOptions {
  intrinsics: PinholeIntrinsics;
  /** Mean surface distance from the first camera (mm). */
  z0?: number;
  amplitude?: number;
  /** Radius of the circular field of view as a fraction of half the image diagonal; 0 disables it. */
  fovRadius?: number;
  /** Specular strength (0 = none); 1 gives saturated highlights near the light's reflection. */
  specular?: number;
  /** Light intensity gain and sensor offset (grey levels) applied to this view. */
  gain?: number;
  bias?: number;
  /** Standard deviation of additive sensor noise (grey levels), deterministic per seed. */
  noise?: number;
  seed?: number;
}

export interface RenderedView {
  rgb: RgbImage;
  depth: DepthImage;
}

export function testIntrinsics(width = 256, height = 192): PinholeIntrinsics {
  return { width, height, fx: 0.8 * width, fy: 0.8 * width, cx: (width - 1) / 2, cy: (height - 1) / 2 };
}

function albedo(x: number, y: number): number {
  return (
    0.5 +
    0.16 * Math.sin(0.45 * x + 0.8 * Math.sin(0.21 * y)) +
    0.12 * Math.cos(0.7 * y - 0.35 * x) +
    0.09 * Math.sin(1.3 * x + 1.1 * y) +
    0.06 * Math.cos(2.1 * x - 1.7 * y)
  );
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Renders the scene from camera-to-world pose `pose` (mm). */
export function renderView(pose: Mat4, opts: SceneOptions): RenderedView {
  const k = opts.intrinsics;
  const { width, height } = k;
  const z0 = opts.z0 ?? 60;
  const amp = opts.amplitude ?? 4;
  const lx = 9,
    ly = 13;
  const fovR = (opts.fovRadius ?? 0.92) * 0.5 * Math.hypot(width, height);
  const spec = opts.specular ?? 0;
  const gain = opts.gain ?? 1;
  const bias = opts.bias ?? 0;
  const noise = opts.noise ?? 0;
  const rand = mulberry32(opts.seed ?? 1);
  const surf = (x: number, y: number): number => z0 + amp * Math.sin(x / lx) * Math.cos(y / ly);
  const rgb = new Uint8Array(width * height * 3);
  const depth = new Float32Array(width * height);
  const ox = pose[3]!,
    oy = pose[7]!,
    oz = pose[11]!;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const i = v * width + u;
      if (fovR > 0 && Math.hypot(u - (width - 1) / 2, v - (height - 1) / 2) > fovR) continue;
      const dcx = (u - k.cx) / k.fx,
        dcy = (v - k.cy) / k.fy;
      const dx = pose[0]! * dcx + pose[1]! * dcy + pose[2]!;
      const dy = pose[4]! * dcx + pose[5]! * dcy + pose[6]!;
      const dz = pose[8]! * dcx + pose[9]! * dcy + pose[10]!;
      // Newton on g(s) = oz + s dz - surf(ox + s dx, oy + s dy); s is the depth along the optical axis.
      let s = (z0 - oz) / dz;
      for (let it = 0; it < 8; it++) {
        const x = ox + s * dx,
          y = oy + s * dy;
        const fxd = (amp / lx) * Math.cos(x / lx) * Math.cos(y / ly);
        const fyd = (-amp / ly) * Math.sin(x / lx) * Math.sin(y / ly);
        const g = oz + s * dz - surf(x, y);
        s -= g / (dz - fxd * dx - fyd * dy);
      }
      if (!(s > 0) || !Number.isFinite(s)) continue;
      const x = ox + s * dx,
        y = oy + s * dy,
        z = oz + s * dz;
      const nx = (amp / lx) * Math.cos(x / lx) * Math.cos(y / ly);
      const ny = (-amp / ly) * Math.sin(x / lx) * Math.sin(y / ly);
      const nn = Math.hypot(nx, ny, 1);
      const lxv = ox - x,
        lyv = oy - y,
        lzv = oz - z;
      const r = Math.hypot(lxv, lyv, lzv);
      const cosT = Math.max(0, (nx * lxv + ny * lyv - lzv) / (nn * r));
      const falloff = (z0 / r) ** 2;
      const a = albedo(x, y);
      const highlight = spec * Math.pow(cosT, 60) * 400;
      const base = 230 * a * cosT * falloff * gain;
      const n =
        noise > 0 ? noise * Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand()) : 0;
      const chan = [1.0, 0.62, 0.5];
      for (let c = 0; c < 3; c++) {
        rgb[3 * i + c] = Math.max(0, Math.min(255, Math.round(base * chan[c]! + highlight + bias + n)));
      }
      depth[i] = s;
    }
  }
  return { rgb: { width, height, data: rgb }, depth: { width, height, data: depth } };
}
