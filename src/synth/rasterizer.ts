/**
 * A z-buffer triangle rasteriser for the phantom's ground truth. Pixel centres are at integer
 * coordinates; a pixel takes the nearest triangle whose projection covers its centre. Depth comes from
 * the screen-space interpolation of 1/z, which for a planar triangle is exactly the depth at which the
 * pixel's ray meets it, so the depth maps and the written mesh agree to floating-point precision.
 */
import type { PinholeIntrinsics } from '../shared/camera.js';
import { type Mat4, invertRigid } from '../shared/math/mat4.js';

export interface Rasterization {
  width: number;
  height: number;
  /** Depth along the optical axis (mm), 0 where no triangle covers the pixel. */
  depth: Float64Array;
  /** Covering triangle per pixel, -1 for none. */
  triangle: Int32Array;
  /**
   * Perspective-correct barycentric weights of the triangle's first and second vertex per pixel (the
   * third is 1 minus both), i.e. the weights that interpolate any vertex attribute over the surface.
   */
  weights: Float64Array;
}

/** Tolerance on screen-space barycentrics so that pixels on a shared edge are never missed. */
const EDGE_EPS = 1e-9;

export function rasterize(
  positions: Float32Array,
  indices: Uint32Array,
  cameraToWorld: Mat4,
  k: PinholeIntrinsics,
  near = 1,
): Rasterization {
  const { width, height } = k;
  const nv = positions.length / 3;
  const m = invertRigid(cameraToWorld);
  const sx = new Float64Array(nv);
  const sy = new Float64Array(nv);
  const iz = new Float64Array(nv);
  for (let i = 0; i < nv; i++) {
    const x = positions[3 * i]!;
    const y = positions[3 * i + 1]!;
    const z = positions[3 * i + 2]!;
    const cx = m[0]! * x + m[1]! * y + m[2]! * z + m[3]!;
    const cy = m[4]! * x + m[5]! * y + m[6]! * z + m[7]!;
    const cz = m[8]! * x + m[9]! * y + m[10]! * z + m[11]!;
    // Vertices behind the near plane get 1/z = 0 and are rejected per triangle below.
    if (cz < near) {
      iz[i] = 0;
      continue;
    }
    iz[i] = 1 / cz;
    sx[i] = k.fx * cx * iz[i]! + k.cx;
    sy[i] = k.fy * cy * iz[i]! + k.cy;
  }
  const n = width * height;
  const zbuf = new Float64Array(n); // holds 1/z; 0 = empty, larger = nearer
  const triangle = new Int32Array(n).fill(-1);
  const screenW = new Float64Array(2 * n);
  const nt = indices.length / 3;
  for (let t = 0; t < nt; t++) {
    const a = indices[3 * t]!;
    const b = indices[3 * t + 1]!;
    const c = indices[3 * t + 2]!;
    const iza = iz[a]!;
    const izb = iz[b]!;
    const izc = iz[c]!;
    if (iza === 0 || izb === 0 || izc === 0) continue;
    const ax = sx[a]!;
    const ay = sy[a]!;
    const bx = sx[b]!;
    const by = sy[b]!;
    const cx = sx[c]!;
    const cy = sy[c]!;
    const x0 = Math.max(0, Math.ceil(Math.min(ax, bx, cx)));
    const x1 = Math.min(width - 1, Math.floor(Math.max(ax, bx, cx)));
    if (x0 > x1) continue;
    const y0 = Math.max(0, Math.ceil(Math.min(ay, by, cy)));
    const y1 = Math.min(height - 1, Math.floor(Math.max(ay, by, cy)));
    if (y0 > y1) continue;
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (Math.abs(area) < 1e-12) continue;
    const inv = 1 / area;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const w0 = ((bx - x) * (cy - y) - (by - y) * (cx - x)) * inv;
        if (w0 < -EDGE_EPS) continue;
        const w1 = ((cx - x) * (ay - y) - (cy - y) * (ax - x)) * inv;
        if (w1 < -EDGE_EPS) continue;
        const w2 = 1 - w0 - w1;
        if (w2 < -EDGE_EPS) continue;
        const z = w0 * iza + w1 * izb + w2 * izc;
        const p = y * width + x;
        if (z > zbuf[p]!) {
          zbuf[p] = z;
          triangle[p] = t;
          screenW[2 * p] = w0;
          screenW[2 * p + 1] = w1;
        }
      }
    }
  }
  const depth = new Float64Array(n);
  const weights = new Float64Array(2 * n);
  for (let p = 0; p < n; p++) {
    const t = triangle[p]!;
    if (t < 0) continue;
    const z = zbuf[p]!;
    depth[p] = 1 / z;
    weights[2 * p] = (screenW[2 * p]! * iz[indices[3 * t]!]!) / z;
    weights[2 * p + 1] = (screenW[2 * p + 1]! * iz[indices[3 * t + 1]!]!) / z;
  }
  return { width, height, depth, triangle, weights };
}
