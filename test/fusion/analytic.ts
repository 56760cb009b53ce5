/**
 * Analytic scenes for fusion tests and the fusion benchmark: planes and spheres rendered exactly to
 * depth (mm along the optical axis) and colour from any camera-to-world pose, plus their true distance
 * functions to measure meshes against.
 */
import type { PinholeIntrinsics } from '../../src/shared/camera.js';
import type { DepthImage, RgbImage } from '../../src/shared/frames.js';
import { type Mat4, type Vec3, cross3, dot3, norm3, rigidFromRt, sub3 } from '../../src/shared/math/mat4.js';

export type Shape =
  | { kind: 'plane'; normal: Vec3; offset: number } // points x with normal . x = offset; normal unit
  | { kind: 'sphere'; centre: Vec3; radius: number };

/** Ray parameter z (= depth along the optical axis when dir has z_cam = 1) of the first hit, or Infinity. */
function intersect(shape: Shape, o: Vec3, d: Vec3): number {
  if (shape.kind === 'plane') {
    const denom = dot3(shape.normal, d);
    if (Math.abs(denom) < 1e-12) return Infinity;
    const z = (shape.offset - dot3(shape.normal, o)) / denom;
    return z > 0 ? z : Infinity;
  }
  const oc = sub3(o, shape.centre);
  const a = dot3(d, d);
  const b = 2 * dot3(oc, d);
  const c = dot3(oc, oc) - shape.radius * shape.radius;
  const disc = b * b - 4 * a * c;
  if (disc < 0) return Infinity;
  const s = Math.sqrt(disc);
  const z0 = (-b - s) / (2 * a);
  const z1 = (-b + s) / (2 * a);
  return z0 > 0 ? z0 : z1 > 0 ? z1 : Infinity;
}

/** Unsigned distance from a point to the nearest shape of the scene (mm). */
export function distanceToScene(scene: Shape[], p: Readonly<Vec3>): number {
  let best = Infinity;
  for (const s of scene) {
    const dist =
      s.kind === 'plane'
        ? Math.abs(dot3(s.normal, p as Vec3) - s.offset)
        : Math.abs(norm3(sub3(p as Vec3, s.centre)) - s.radius);
    best = Math.min(best, dist);
  }
  return best;
}

/** A texture that varies over the surface, so colour averaging is visible. */
export function sceneColour(p: Readonly<Vec3>): [number, number, number] {
  return [
    128 + Math.round(100 * Math.sin(p[0] * 0.3)),
    128 + Math.round(100 * Math.sin(p[1] * 0.3)),
    128 + Math.round(100 * Math.sin(p[2] * 0.3)),
  ];
}

export interface RenderedFrame {
  depth: DepthImage;
  rgb: RgbImage;
}

/** Exact depth and colour of the scene seen from `pose` (camera-to-world, mm); 0 = background. */
export function renderScene(
  scene: Shape[],
  pose: Mat4,
  k: PinholeIntrinsics,
  maxDepth = Infinity,
): RenderedFrame {
  const depth = new Float32Array(k.width * k.height);
  const rgb = new Uint8Array(k.width * k.height * 3);
  const o: Vec3 = [pose[3]!, pose[7]!, pose[11]!];
  for (let v = 0; v < k.height; v++) {
    for (let u = 0; u < k.width; u++) {
      const xn = (u - k.cx) / k.fx;
      const yn = (v - k.cy) / k.fy;
      const d: Vec3 = [
        pose[0]! * xn + pose[1]! * yn + pose[2]!,
        pose[4]! * xn + pose[5]! * yn + pose[6]!,
        pose[8]! * xn + pose[9]! * yn + pose[10]!,
      ];
      let z = Infinity;
      for (const s of scene) z = Math.min(z, intersect(s, o, d));
      if (!(z < maxDepth)) continue;
      const i = v * k.width + u;
      depth[i] = z;
      const c = sceneColour([o[0] + z * d[0], o[1] + z * d[1], o[2] + z * d[2]]);
      rgb.set(c, 3 * i);
    }
  }
  return {
    depth: { width: k.width, height: k.height, data: depth },
    rgb: { width: k.width, height: k.height, data: rgb },
  };
}

/** Camera-to-world pose of a camera at `eye` looking at `target` (OpenCV axes: y down). */
export function lookAt(eye: Vec3, target: Vec3, up: Vec3 = [0, -1, 0]): Mat4 {
  const z = sub3(target, eye);
  const zn = norm3(z);
  const zf: Vec3 = [z[0] / zn, z[1] / zn, z[2] / zn];
  let x = cross3(zf, up);
  if (norm3(x) < 1e-6) x = cross3(zf, [1, 0, 0]);
  const xn = norm3(x);
  const xf: Vec3 = [x[0] / xn, x[1] / xn, x[2] / xn];
  const yf = cross3(zf, xf);
  // Columns of R are the camera axes in world coordinates.
  return rigidFromRt(Float64Array.from([xf[0], yf[0], zf[0], xf[1], yf[1], zf[1], xf[2], yf[2], zf[2]]), eye);
}

/** `n` viewpoints spread evenly over a sphere around `centre` (Fibonacci lattice). */
export function viewsAround(centre: Vec3, distance: number, n: number): Mat4[] {
  const poses: Mat4[] = [];
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < n; i++) {
    const y = 1 - (2 * (i + 0.5)) / n;
    const r = Math.sqrt(1 - y * y);
    const eye: Vec3 = [
      centre[0] + distance * r * Math.cos(golden * i),
      centre[1] + distance * y,
      centre[2] + distance * r * Math.sin(golden * i),
    ];
    poses.push(lookAt(eye, centre, Math.abs(y) > 0.9 ? [1, 0, 0] : [0, -1, 0]));
  }
  return poses;
}

/** Topology of an indexed mesh: edge use counts and Euler characteristic over referenced vertices. */
export function meshTopology(indices: Uint32Array): {
  vertices: number;
  edges: number;
  faces: number;
  euler: number;
  nonManifoldEdges: number;
  boundaryEdges: number;
  inconsistentEdges: number;
} {
  const undirected = new Map<string, number>();
  const directed = new Set<string>();
  let inconsistent = 0;
  const used = new Set<number>();
  for (let t = 0; t < indices.length; t += 3) {
    for (let j = 0; j < 3; j++) {
      const a = indices[t + j]!;
      const b = indices[t + ((j + 1) % 3)]!;
      used.add(a);
      const key = a < b ? `${a},${b}` : `${b},${a}`;
      undirected.set(key, (undirected.get(key) ?? 0) + 1);
      const dk = `${a},${b}`;
      if (directed.has(dk)) inconsistent++;
      directed.add(dk);
    }
  }
  let nonManifold = 0;
  let boundary = 0;
  for (const c of undirected.values()) {
    if (c === 1) boundary++;
    else if (c > 2) nonManifold++;
  }
  const faces = indices.length / 3;
  return {
    vertices: used.size,
    edges: undirected.size,
    faces,
    euler: used.size - undirected.size + faces,
    nonManifoldEdges: nonManifold,
    boundaryEdges: boundary,
    inconsistentEdges: inconsistent,
  };
}
