/**
 * The synthetic endoscopy phantom: what a scope sees of tissue, with exact ground truth.
 *
 * Geometry: the tissue height field (tissue.ts) is tessellated into the ground-truth triangle mesh,
 * expressed in the world frame (= the first camera's frame). Each frame rasterises that very mesh
 * (rasterizer.ts), so depth and mesh agree exactly. Appearance: a point light at the scope tip with
 * inverse-square falloff and a cone profile, Lambertian tissue plus a wet specular lobe, cos^4
 * vignetting, optional smoke and motion blur, gamma, and seeded sensor noise. The albedo and shading
 * slopes are sampled in surface coordinates, so texture is consistent across frames.
 */
import type { DatasetIntrinsics } from '../engine/dataset/intrinsics.js';
import type { DepthImage, RgbImage } from '../shared/frames.js';
import {
  type Mat4,
  identity3,
  invertRigid,
  multiply4,
  rigidFromRt,
  rotationOf,
} from '../shared/math/mat4.js';
import type { TriangleMesh } from '../shared/mesh.js';
import { CameraPath } from './camera-path.js';
import { fbm } from './noise.js';
import { Rng, mixSeed } from './random.js';
import { rasterize } from './rasterizer.js';
import { TISSUE_CHANNELS, type TissuePatch, buildTissue, sampleTissue } from './tissue.js';

export interface PhantomOptions {
  /** Seed of every random choice (scene, path, noise); same seed and options -> identical output. Default 1. */
  seed?: number;
  /** Number of frames. Default 90. */
  frames?: number;
  /** Image size in pixels. Default 384 x 288 (as the Hamlyn data). */
  width?: number;
  height?: number;
  /** Focal length in pixels (fx = fy). Default 320 at 384 px width, scaled with the width. */
  focal?: number;
  /** Nominal frame rate for timestamps. Default 30. */
  fps?: number;
  /** Scope speed in mm per frame. Default 0.35 (about 10 mm/s at 30 fps); 'hard' triples it. */
  speed?: number;
  /**
   * Harder conditions for robustness tests: triple speed with hand tremor, motion blur, smoke, brighter
   * light with saturated specular highlights, more noise. Each can be overridden below.
   */
  hard?: boolean;
  /** Exposure time as a fraction of the frame interval; > 0 enables motion blur. Default 0 (hard: 0.8). */
  motionBlur?: number;
  /** Smoke density, 0 = clear air. Default 0 (hard: 1). */
  smoke?: number;
  /** Light gain (1 = nominal exposure). Default 1 (hard: 1.7, which saturates highlights). */
  gain?: number;
  /** Sensor read noise, standard deviation in 8-bit levels; shot noise scales with it. Default 1.2 (hard: 3). */
  noise?: number;
  /** Black out the corners outside the scope's circular field of view (depth there is 0). Default false. */
  fovMask?: boolean;
  /** Depth PNG units per mm. Default 100 (0.01 mm steps). */
  depthScale?: number;
  /** Ground-truth mesh grid spacing in mm. Default 0.8. */
  meshSpacing?: number;
}

export type ResolvedPhantomOptions = Required<PhantomOptions>;

export interface PhantomFrame {
  index: number;
  /** Seconds from the first frame. */
  timestamp: number;
  rgb: RgbImage;
  /** Exact depth along the optical axis (mm) at the frame's instant; 0 = no surface / outside the field of view. */
  depth: DepthImage;
  /** Camera-to-world (mm); the first frame's pose is the identity. */
  pose: Mat4;
}

export function resolvePhantomOptions(o: PhantomOptions = {}): ResolvedPhantomOptions {
  const hard = o.hard ?? false;
  const width = o.width ?? 384;
  const r: ResolvedPhantomOptions = {
    seed: o.seed ?? 1,
    frames: o.frames ?? 90,
    width,
    height: o.height ?? 288,
    focal: o.focal ?? (320 * width) / 384,
    fps: o.fps ?? 30,
    speed: o.speed ?? (hard ? 1.05 : 0.35),
    hard,
    motionBlur: o.motionBlur ?? (hard ? 0.8 : 0),
    smoke: o.smoke ?? (hard ? 1 : 0),
    gain: o.gain ?? (hard ? 1.7 : 1),
    noise: o.noise ?? (hard ? 3 : 1.2),
    fovMask: o.fovMask ?? false,
    depthScale: o.depthScale ?? 100,
    meshSpacing: o.meshSpacing ?? 0.8,
  };
  const positive = ['frames', 'width', 'height', 'focal', 'fps', 'depthScale', 'meshSpacing'] as const;
  for (const key of positive) {
    if (!(Number.isFinite(r[key]) && r[key] > 0))
      throw new RangeError(`phantom option ${key} must be positive, got ${r[key]}`);
  }
  for (const key of ['frames', 'width', 'height', 'seed'] as const) {
    if (!Number.isInteger(r[key]))
      throw new RangeError(`phantom option ${key} must be an integer, got ${r[key]}`);
  }
  for (const key of ['speed', 'motionBlur', 'smoke', 'gain', 'noise'] as const) {
    if (!(Number.isFinite(r[key]) && r[key] >= 0)) {
      throw new RangeError(`phantom option ${key} must be a non-negative number, got ${r[key]}`);
    }
  }
  if (r.motionBlur > 1)
    throw new RangeError(
      `phantom option motionBlur must be at most 1 (one frame interval), got ${r.motionBlur}`,
    );
  if (r.meshSpacing < 0.2 || r.meshSpacing > 5)
    throw new RangeError(`phantom option meshSpacing must be in [0.2, 5] mm`);
  return r;
}

/** Scope light and optics; the constants are chosen so a facing surface ~45 mm away is well exposed. */
const LIGHT_POWER = 2100; // radiance scale at 1 mm (inverse-square)
const LIGHT_CONE_EXPONENT = 1.5;
const SPECULAR = 0.9;
const SHININESS = 220;
const AMBIENT = 0.025;
const SMOKE_EXTINCTION = 0.005; // per mm at density 1
const SMOKE_RADIANCE = 0.32;
const TISSUE_DISTANCE = 45;
const SCOPE_TILT = 0.5; // radians between optical axis and tissue normal at rest

export class Phantom {
  readonly options: ResolvedPhantomOptions;
  readonly intrinsics: DatasetIntrinsics;
  private readonly tissue: TissuePatch;
  private readonly path: CameraPath;
  /** Scene -> world (first camera) transform. */
  private readonly worldFromScene: Mat4;
  /** Full tessellation of the tissue in world coordinates. */
  private readonly positions: Float32Array;
  private readonly indices: Uint32Array;
  /** Surface (scene x, y) coordinates per vertex, for texturing. */
  private readonly surface: Float64Array;
  /** Triangles that covered at least one pixel of a rendered frame. */
  private readonly seen: Uint8Array;

  constructor(options: PhantomOptions = {}) {
    this.options = resolvePhantomOptions(options);
    const o = this.options;
    this.intrinsics = {
      width: o.width,
      height: o.height,
      fx: o.focal,
      fy: o.focal,
      cx: (o.width - 1) / 2,
      cy: (o.height - 1) / 2,
      depth_scale: o.depthScale,
      fps: o.fps,
    };
    this.path = new CameraPath(o.seed, { speed: o.speed, tilt: SCOPE_TILT, shake: o.hard });
    this.worldFromScene = invertRigid(this.path.sceneFromCamera(0));
    // The patch must cover everything the scope can see along its path (motion blur included).
    const reach = this.viewReach(TISSUE_DISTANCE + 12);
    const margin = 6;
    // Snapping the patch to a coarse lattice keeps mesh vertices and texels at the same scene points
    // whatever the path, so a seed renders the same tissue for any sequence length or speed.
    const snap = 10 * o.meshSpacing;
    const down = (v: number): number => Math.floor(v / snap) * snap;
    const up = (v: number): number => Math.ceil(v / snap) * snap;
    this.tissue = buildTissue(o.seed, {
      xRange: [down(reach.x0 - margin), up(reach.x1 + margin)],
      yRange: [down(reach.y0 - margin), up(reach.y1 + margin)],
      // About 0.75 of the footprint of a pixel on the nearest tissue (~30 mm): finer detail would only
      // alias, and coarser maps make low-resolution phantoms (network training, tests) cheap to build.
      // A whole number of texels per snap step keeps texels on the lattice too.
      texel: snap / Math.ceil(snap / Math.min(0.5, (0.125 * 320) / o.focal)),
      baseDistance: TISSUE_DISTANCE,
    });
    const mesh = this.tessellate(o.meshSpacing);
    this.positions = mesh.positions;
    this.indices = mesh.indices;
    this.surface = mesh.surface;
    this.seen = new Uint8Array(this.indices.length / 3);
  }

  get frameCount(): number {
    return this.options.frames;
  }

  /** Camera-to-world pose at time t in frames (fractional t lies between frames). */
  poseAt(t: number): Mat4 {
    return multiply4(this.worldFromScene, this.path.sceneFromCamera(t));
  }

  /**
   * Bounds in scene x, y of where the image border rays of every pose (sampled at half-frame steps)
   * meet the plane z = farPlane, the furthest the tissue can be; rays hitting beyond 300 mm are cut
   * there, which only affects grazing views that see nothing at that distance anyway.
   */
  private viewReach(farPlane: number): { x0: number; x1: number; y0: number; y1: number } {
    const k = { w: this.options.width - 1, h: this.options.height - 1, f: this.options.focal };
    const border: [number, number][] = [];
    for (let i = 0; i <= 8; i++) {
      const a = i / 8;
      border.push([a * k.w, 0], [a * k.w, k.h], [0, a * k.h], [k.w, a * k.h]);
    }
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let t = -0.5; t <= this.options.frames + 0.5; t += 0.5) {
      const m = this.path.sceneFromCamera(t);
      for (const [u, v] of border) {
        const rx = (u - k.w / 2) / k.f;
        const ry = (v - k.h / 2) / k.f;
        const dx = m[0]! * rx + m[1]! * ry + m[2]!;
        const dy = m[4]! * rx + m[5]! * ry + m[6]!;
        const dz = m[8]! * rx + m[9]! * ry + m[10]!;
        const len = Math.hypot(dx, dy, dz);
        const s = dz > 1e-6 ? Math.min((farPlane - m[11]!) / dz, 300 / len) : 300 / len;
        const x = m[3]! + s * dx;
        const y = m[7]! + s * dy;
        x0 = Math.min(x0, x, m[3]!);
        x1 = Math.max(x1, x, m[3]!);
        y0 = Math.min(y0, y, m[7]!);
        y1 = Math.max(y1, y, m[7]!);
      }
    }
    return { x0, x1, y0, y1 };
  }

  private tessellate(spacing: number): {
    positions: Float32Array;
    indices: Uint32Array;
    surface: Float64Array;
  } {
    const p = this.tissue;
    const width = (p.cols - 1) * p.texel;
    const height = (p.rows - 1) * p.texel;
    const nx = Math.floor(width / spacing) + 1;
    const ny = Math.floor(height / spacing) + 1;
    const positions = new Float32Array(nx * ny * 3);
    const surface = new Float64Array(nx * ny * 2);
    const sample = new Float32Array(TISSUE_CHANNELS);
    const w = this.worldFromScene;
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const x = p.x0 + i * spacing;
        const y = p.y0 + j * spacing;
        sampleTissue(p, x, y, sample);
        const z = sample[5]!;
        const v = j * nx + i;
        positions[3 * v] = w[0]! * x + w[1]! * y + w[2]! * z + w[3]!;
        positions[3 * v + 1] = w[4]! * x + w[5]! * y + w[6]! * z + w[7]!;
        positions[3 * v + 2] = w[8]! * x + w[9]! * y + w[10]! * z + w[11]!;
        surface[2 * v] = x;
        surface[2 * v + 1] = y;
      }
    }
    // Counter-clockwise seen from the scope (the outside of the tissue), as TriangleMesh expects.
    const indices = new Uint32Array((nx - 1) * (ny - 1) * 6);
    let o = 0;
    for (let j = 0; j + 1 < ny; j++) {
      for (let i = 0; i + 1 < nx; i++) {
        const v00 = j * nx + i;
        const v10 = v00 + 1;
        const v01 = v00 + nx;
        const v11 = v01 + 1;
        indices[o++] = v00;
        indices[o++] = v11;
        indices[o++] = v10;
        indices[o++] = v00;
        indices[o++] = v01;
        indices[o++] = v11;
      }
    }
    return { positions, indices, surface };
  }

  /** Renders frame `index` (0-based); frames are independent of rendering order. */
  renderFrame(index: number): PhantomFrame {
    return this.renderView(index, 0);
  }

  /**
   * The right view of a rectified stereo scope at frame `index`: a camera with the same intrinsics,
   * `baselineMm` along the left camera's x axis (so its disparity is exactly focal * baseline / depth).
   * Its sensor noise is drawn independently of the left view's.
   */
  renderRightView(index: number, baselineMm: number): PhantomFrame {
    if (!(baselineMm > 0 && baselineMm < 100))
      throw new RangeError(`stereo baseline must be in (0, 100) mm, got ${baselineMm}`);
    return this.renderView(index, baselineMm);
  }

  private renderView(index: number, eyeOffsetMm: number): PhantomFrame {
    const o = this.options;
    if (!Number.isInteger(index) || index < 0 || index >= o.frames) {
      throw new RangeError(`phantom frame index ${index} outside 0..${o.frames - 1}`);
    }
    const k = this.intrinsics;
    const n = k.width * k.height;
    const eye = eyeOffsetMm === 0 ? null : rigidFromRt(identity3(), [eyeOffsetMm, 0, 0]);
    const poseOf = (t: number): Mat4 => (eye ? multiply4(this.poseAt(t), eye) : this.poseAt(t));
    const pose = poseOf(index);
    const raster = rasterize(this.positions, this.indices, pose, k);
    // The ground-truth mesh is what the reference (left) views saw.
    if (!eye) for (let p = 0; p < n; p++) if (raster.triangle[p]! >= 0) this.seen[raster.triangle[p]!] = 1;

    // Motion blur integrates radiance over the exposure; the ground truth is the mid-exposure instant.
    const radiance = new Float64Array(n * 3);
    const subFrames = o.motionBlur > 0 ? 7 : 1;
    for (let s = 0; s < subFrames; s++) {
      const dt = subFrames === 1 ? 0 : (s / (subFrames - 1) - 0.5) * o.motionBlur;
      const subPose = dt === 0 ? pose : poseOf(index + dt);
      const subRaster = dt === 0 ? raster : rasterize(this.positions, this.indices, subPose, k);
      this.shade(subRaster, subPose, index + dt, radiance, 1 / subFrames);
    }

    const rgb = new Uint8Array(n * 3);
    const depth = new Float32Array(n);
    const rng = new Rng(eye ? mixSeed(o.seed, 101, index) : mixSeed(o.seed, 100, index));
    const fovRadius = 0.56 * Math.hypot(k.width, k.height) * 0.85;
    for (let v = 0; v < k.height; v++) {
      for (let u = 0; u < k.width; u++) {
        const p = v * k.width + u;
        let mask = 1;
        if (o.fovMask) {
          const r = Math.hypot(u - k.cx, v - k.cy);
          mask = Math.min(1, Math.max(0, (fovRadius - r) / 2 + 0.5));
        }
        depth[p] = mask >= 0.5 ? raster.depth[p]! : 0;
        for (let c = 0; c < 3; c++) {
          const linear = Math.min(1, Math.max(0, radiance[3 * p + c]!)) * mask;
          let level = 255 * Math.pow(linear, 1 / 2.2);
          if (mask > 0) level += rng.gaussian() * o.noise * Math.sqrt(1 + level / 40);
          rgb[3 * p + c] = Math.min(255, Math.max(0, Math.round(level)));
        }
      }
    }
    return {
      index,
      timestamp: index / o.fps,
      rgb: { width: k.width, height: k.height, data: rgb },
      depth: { width: k.width, height: k.height, data: depth },
      pose,
    };
  }

  /** Adds weight x linear radiance seen through each pixel of `raster` to `out` (RGB interleaved). */
  private shade(
    raster: ReturnType<typeof rasterize>,
    pose: Mat4,
    t: number,
    out: Float64Array,
    weight: number,
  ): void {
    const o = this.options;
    const k = this.intrinsics;
    // Rotation scene -> camera, for the tissue normals stored in scene coordinates.
    const rcs = rotationOf(multiply4(invertRigid(pose), this.worldFromScene));
    const sample = new Float32Array(TISSUE_CHANNELS);
    const smokeSeed = mixSeed(o.seed, 200);
    const idx = this.indices;
    const surf = this.surface;
    for (let v = 0; v < k.height; v++) {
      const ry = (v - k.cy) / k.fy;
      for (let u = 0; u < k.width; u++) {
        const p = v * k.width + u;
        const tri = raster.triangle[p]!;
        if (tri < 0) continue;
        const rx = (u - k.cx) / k.fx;
        const z = raster.depth[p]!;
        const r = z * Math.sqrt(rx * rx + ry * ry + 1);
        const cosAxis = z / r; // angle between the pixel ray and the optical axis
        const w0 = raster.weights[2 * p]!;
        const w1 = raster.weights[2 * p + 1]!;
        const w2 = 1 - w0 - w1;
        const a = idx[3 * tri]!;
        const b = idx[3 * tri + 1]!;
        const c = idx[3 * tri + 2]!;
        const sx = w0 * surf[2 * a]! + w1 * surf[2 * b]! + w2 * surf[2 * c]!;
        const sy = w0 * surf[2 * a + 1]! + w1 * surf[2 * b + 1]! + w2 * surf[2 * c + 1]!;
        sampleTissue(this.tissue, sx, sy, sample);
        // Normal facing the scope in scene coordinates (h_x, h_y, -1), rotated into the camera.
        const gx = sample[3]!;
        const gy = sample[4]!;
        const inv = 1 / Math.sqrt(gx * gx + gy * gy + 1);
        const nx = (rcs[0]! * gx + rcs[1]! * gy - rcs[2]!) * inv;
        const ny = (rcs[3]! * gx + rcs[4]! * gy - rcs[5]!) * inv;
        const nz = (rcs[6]! * gx + rcs[7]! * gy - rcs[8]!) * inv;
        // Light and viewer are both at the scope tip: L = V = -P / |P|, so the half vector is L too.
        const cosTheta = Math.max(0, -(nx * rx + ny * ry + nz) * (cosAxis / 1));
        const irradiance = (o.gain * LIGHT_POWER * Math.pow(cosAxis, LIGHT_CONE_EXPONENT)) / (r * r);
        const specular = SPECULAR * Math.pow(cosTheta, SHININESS);
        const vignette = cosAxis * cosAxis * cosAxis * cosAxis;
        let fog = 0;
        if (o.smoke > 0) {
          // Drifting wisps: patchy density with clear gaps between them.
          const wisp = 0.5 + fbm(smokeSeed, u / 90 + 0.03 * t, v / 90 - 0.02 * t, 1, 4);
          const density = o.smoke * Math.max(0, 2.2 * wisp - 0.7);
          fog = 1 - Math.exp(-SMOKE_EXTINCTION * density * r);
        }
        for (let ch = 0; ch < 3; ch++) {
          const albedo = sample[ch]!;
          let L = irradiance * (albedo * cosTheta + specular) + AMBIENT * albedo;
          L = L * (1 - fog) + fog * SMOKE_RADIANCE * o.gain * Math.pow(cosAxis, LIGHT_CONE_EXPONENT);
          out[3 * p + ch]! += weight * vignette * L;
        }
      }
    }
  }

  /**
   * The ground-truth surface in the world frame, with per-vertex albedo colours (sRGB) and normals.
   * `visibleOnly` keeps the triangles that covered a pixel of a frame rendered so far, so completeness
   * is measured against what the scope actually saw.
   */
  groundTruthMesh(visibleOnly = true): TriangleMesh {
    const nt = this.indices.length / 3;
    const keep: number[] = [];
    for (let t = 0; t < nt; t++) if (!visibleOnly || this.seen[t]) keep.push(t);
    const remap = new Int32Array(this.positions.length / 3).fill(-1);
    let nv = 0;
    for (const t of keep) {
      for (let j = 0; j < 3; j++) {
        const v = this.indices[3 * t + j]!;
        if (remap[v] === -1) remap[v] = nv++;
      }
    }
    const positions = new Float32Array(nv * 3);
    const colors = new Uint8Array(nv * 3);
    const sample = new Float32Array(TISSUE_CHANNELS);
    for (let v = 0; v < remap.length; v++) {
      const dst = remap[v]!;
      if (dst < 0) continue;
      positions.set(this.positions.subarray(3 * v, 3 * v + 3), 3 * dst);
      sampleTissue(this.tissue, this.surface[2 * v]!, this.surface[2 * v + 1]!, sample);
      for (let c = 0; c < 3; c++)
        colors[3 * dst + c] = Math.round(255 * Math.pow(Math.min(1, sample[c]!), 1 / 2.2));
    }
    const indices = new Uint32Array(keep.length * 3);
    keep.forEach((t, i) => {
      for (let j = 0; j < 3; j++) indices[3 * i + j] = remap[this.indices[3 * t + j]!]!;
    });
    return { positions, colors, normals: vertexNormals(positions, indices), indices };
  }
}

/** Area-weighted vertex normals, oriented like the triangles' winding (towards the scope). */
function vertexNormals(positions: Float32Array, indices: Uint32Array): Float32Array {
  const acc = new Float64Array(positions.length);
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t]! * 3;
    const b = indices[t + 1]! * 3;
    const c = indices[t + 2]! * 3;
    const e1x = positions[b]! - positions[a]!;
    const e1y = positions[b + 1]! - positions[a + 1]!;
    const e1z = positions[b + 2]! - positions[a + 2]!;
    const e2x = positions[c]! - positions[a]!;
    const e2y = positions[c + 1]! - positions[a + 1]!;
    const e2z = positions[c + 2]! - positions[a + 2]!;
    const nx = e1y * e2z - e1z * e2y;
    const ny = e1z * e2x - e1x * e2z;
    const nz = e1x * e2y - e1y * e2x;
    for (const v of [a, b, c]) {
      acc[v]! += nx;
      acc[v + 1]! += ny;
      acc[v + 2]! += nz;
    }
  }
  const out = new Float32Array(positions.length);
  for (let v = 0; v < out.length; v += 3) {
    const len = Math.hypot(acc[v]!, acc[v + 1]!, acc[v + 2]!) || 1;
    out[v] = acc[v]! / len;
    out[v + 1] = acc[v + 1]! / len;
    out[v + 2] = acc[v + 2]! / len;
  }
  return out;
}
