/**
 * The phantom's tissue: a height field z = h(x, y) over a rectangular patch of the scene plane, with
 * mucosal folds, bumps and a low-frequency undulation, and a vascularised albedo. Everything is
 * precomputed on one fine grid in surface coordinates, so the texture sticks to the tissue across
 * frames (photometric tracking relies on that) and the renderer only samples it.
 *
 * Scene frame: the tissue lies roughly in the plane z = baseDistance, facing the scope at z ~ 0; x and
 * y follow the first camera's x (right) and y (down) before the scope is tilted.
 */
import { fbm } from './noise.js';
import { Rng, mixSeed } from './random.js';

export interface TissueOptions {
  /** Patch extent in scene x and y (mm). */
  xRange: readonly [number, number];
  yRange: readonly [number, number];
  /** Grid spacing of height, normal and albedo maps (mm). */
  texel: number;
  /** Mean distance of the tissue plane from the scope's start plane (mm). */
  baseDistance: number;
}

/** Channels per texel of {@link TissuePatch.maps}. */
export const TISSUE_CHANNELS = 6;

export interface TissuePatch {
  x0: number;
  y0: number;
  texel: number;
  cols: number;
  rows: number;
  /**
   * Interleaved per texel: albedo R, G, B (linear, 0..1), dh/dx, dh/dy (shading slope, includes
   * micro-relief below the mesh resolution), h (mm, scene z).
   */
  maps: Float32Array;
}

const BASE_PALE: readonly number[] = [0.8, 0.27, 0.2];
const BASE_RED: readonly number[] = [0.62, 0.07, 0.045];
const VESSEL_SUPERFICIAL: readonly number[] = [0.24, 0.012, 0.02];
const VESSEL_DEEP: readonly number[] = [0.3, 0.07, 0.13];

export function buildTissue(seed: number, opts: TissueOptions): TissuePatch {
  const { texel } = opts;
  const x0 = opts.xRange[0];
  const y0 = opts.yRange[0];
  const cols = Math.floor((opts.xRange[1] - x0) / texel) + 1;
  const rows = Math.floor((opts.yRange[1] - y0) / texel) + 1;
  const n = cols * rows;
  const height = new Float32Array(n);
  const albedo = new Float32Array(n * 3);
  const rng = new Rng(mixSeed(seed, 1));

  const folds = Array.from({ length: rng.int(4, 6) }, () => ({
    px: rng.uniform(opts.xRange[0] + 10, opts.xRange[1] - 10),
    py: rng.uniform(opts.yRange[0] + 10, opts.yRange[1] - 10),
    angle: rng.uniform(0, Math.PI),
    amplitude: rng.uniform(2.5, 5.5),
    width: rng.uniform(2.5, 4.5),
    meander: rng.uniform(2, 7),
    wavelength: rng.uniform(12, 30),
    phase: rng.uniform(0, 2 * Math.PI),
    halfLength: rng.uniform(25, 60),
  }));
  const bumps = Array.from({ length: 70 }, () => ({
    px: rng.uniform(opts.xRange[0], opts.xRange[1]),
    py: rng.uniform(opts.yRange[0], opts.yRange[1]),
    amplitude: rng.uniform(-1.6, 1.0),
    sigma: rng.uniform(1.5, 4.5),
  }));
  const reliefSeed = mixSeed(seed, 2);
  const microSeed = mixSeed(seed, 3);
  const colourSeed = mixSeed(seed, 4);
  const mottleSeed = mixSeed(seed, 5);

  for (let r = 0; r < rows; r++) {
    const y = y0 + r * texel;
    for (let c = 0; c < cols; c++) {
      const x = x0 + c * texel;
      // Negative h protrudes towards the scope.
      let h = opts.baseDistance + 7 * fbm(reliefSeed, x, y, 30, 3);
      for (const f of folds) {
        const dx = x - f.px;
        const dy = y - f.py;
        const ca = Math.cos(f.angle);
        const sa = Math.sin(f.angle);
        const along = dx * ca + dy * sa;
        const across = -dx * sa + dy * ca - f.meander * Math.sin(along / f.wavelength + f.phase);
        const envelope = 1 / (1 + (along / f.halfLength) ** 4);
        h -= f.amplitude * envelope * Math.exp(-(across * across) / (2 * f.width * f.width));
      }
      const i = r * cols + c;
      height[i] = h;
      // Albedo: pale-to-red base with a fine mottle.
      const redness = Math.min(1, Math.max(0, 0.45 + 1.6 * fbm(colourSeed, x, y, 18, 4)));
      const mottle = 1 + 0.12 * fbm(mottleSeed, x, y, 1.2, 3);
      for (let k = 0; k < 3; k++) albedo[i * 3 + k] = (BASE_PALE[k]! + (BASE_RED[k]! - BASE_PALE[k]!) * redness) * mottle;
    }
  }
  for (const b of bumps) splatGaussian(height, cols, rows, x0, y0, texel, b.px, b.py, b.sigma, b.amplitude);
  const deepCover = new Float32Array(n);
  const superficialCover = new Float32Array(n);
  drawVessels(deepCover, superficialCover, cols, rows, x0, y0, texel, new Rng(mixSeed(seed, 6)));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      let a = albedo[i * 3 + k]!;
      a += (VESSEL_DEEP[k]! - a) * deepCover[i]!;
      a += (VESSEL_SUPERFICIAL[k]! - a) * superficialCover[i]!;
      albedo[i * 3 + k] = a;
    }
  }

  // Shading slopes: central differences of the height plus micro-relief (wet mucosa sparkle), which
  // the mesh does not carry; its amplitude (~0.02 mm) is far below the depth tolerance.
  const maps = new Float32Array(n * TISSUE_CHANNELS);
  const inv2 = 1 / (2 * texel);
  for (let r = 0; r < rows; r++) {
    const rm = Math.max(0, r - 1);
    const rp = Math.min(rows - 1, r + 1);
    for (let c = 0; c < cols; c++) {
      const cm = Math.max(0, c - 1);
      const cp = Math.min(cols - 1, c + 1);
      const i = r * cols + c;
      const x = x0 + c * texel;
      const y = y0 + r * texel;
      const e = 0.02;
      const m0 = fbm(microSeed, x, y, 0.5, 2);
      const mdx = (fbm(microSeed, x + e, y, 0.5, 2) - m0) / e;
      const mdy = (fbm(microSeed, x, y + e, 0.5, 2) - m0) / e;
      const o = i * TISSUE_CHANNELS;
      maps[o] = albedo[i * 3]!;
      maps[o + 1] = albedo[i * 3 + 1]!;
      maps[o + 2] = albedo[i * 3 + 2]!;
      maps[o + 3] = (height[r * cols + cp]! - height[r * cols + cm]!) * inv2 * ((cp - cm) === 2 ? 1 : 2) + 0.15 * mdx;
      maps[o + 4] = (height[rp * cols + c]! - height[rm * cols + c]!) * inv2 * ((rp - rm) === 2 ? 1 : 2) + 0.15 * mdy;
      maps[o + 5] = height[i]!;
    }
  }
  return { x0, y0, texel, cols, rows, maps };
}

function splatGaussian(
  grid: Float32Array,
  cols: number,
  rows: number,
  x0: number,
  y0: number,
  texel: number,
  px: number,
  py: number,
  sigma: number,
  amplitude: number,
): void {
  const reach = 3 * sigma;
  const c0 = Math.max(0, Math.floor((px - reach - x0) / texel));
  const c1 = Math.min(cols - 1, Math.ceil((px + reach - x0) / texel));
  const r0 = Math.max(0, Math.floor((py - reach - y0) / texel));
  const r1 = Math.min(rows - 1, Math.ceil((py + reach - y0) / texel));
  const k = -1 / (2 * sigma * sigma);
  for (let r = r0; r <= r1; r++) {
    const dy = y0 + r * texel - py;
    for (let c = c0; c <= c1; c++) {
      const dx = x0 + c * texel - px;
      grid[r * cols + c]! += amplitude * Math.exp((dx * dx + dy * dy) * k);
    }
  }
}

/**
 * Vessel trees as meandering, tapering, branching random walks, painted into the albedo with a soft
 * cross-section: a few wide, faint, bluish deep vessels and many thin, contrasted superficial ones.
 */
function drawVessels(
  deepCover: Float32Array,
  superficialCover: Float32Array,
  cols: number, rows: number, x0: number, y0: number, texel: number, rng: Rng): void {
  const w = (cols - 1) * texel;
  const h = (rows - 1) * texel;
  const area = w * h;
  interface Branch {
    x: number;
    y: number;
    dir: number;
    radius: number;
    deep: boolean;
    depth: number;
  }
  const stack: Branch[] = [];
  const deepTrees = Math.round(area / 900);
  const superficialTrees = Math.round(area / 380);
  for (let i = 0; i < deepTrees + superficialTrees; i++) {
    const deep = i < deepTrees;
    stack.push({
      x: x0 + rng.uniform(0, w),
      y: y0 + rng.uniform(0, h),
      dir: rng.uniform(0, 2 * Math.PI),
      radius: deep ? rng.uniform(0.6, 1.1) : rng.uniform(0.2, 0.5),
      deep,
      depth: 0,
    });
  }
  const step = 0.25;
  while (stack.length > 0) {
    const b = stack.pop()!;
    let { x, y, dir, radius } = b;
    let curl = 0;
    const maxSteps = Math.round((b.deep ? 160 : 90) / step);
    for (let s = 0; s < maxSteps && radius > 0.035; s++) {
      curl = 0.9 * curl + 0.025 * rng.gaussian();
      dir += curl;
      const nx = x + step * Math.cos(dir);
      const ny = y + step * Math.sin(dir);
      paintSegment(b.deep ? deepCover : superficialCover, cols, rows, x0, y0, texel, x, y, nx, ny, radius, b.deep);
      x = nx;
      y = ny;
      radius *= b.deep ? 0.998 : 0.9955;
      if (x < x0 || y < y0 || x > x0 + w || y > y0 + h) break;
      if (b.depth < 4 && rng.next() < (b.deep ? 0.012 : 0.03)) {
        stack.push({
          x,
          y,
          dir: dir + (rng.next() < 0.5 ? -1 : 1) * rng.uniform(0.4, 1.1),
          radius: radius * rng.uniform(0.55, 0.8),
          deep: b.deep,
          depth: b.depth + 1,
        });
      }
    }
  }
}

/** Raises the vessel coverage (0..1) under one segment; overlapping segments take the maximum. */
function paintSegment(
  cover: Float32Array,
  cols: number,
  rows: number,
  x0: number,
  y0: number,
  texel: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
  radius: number,
  deep: boolean,
): void {
  const halo = deep ? radius * 2.2 : radius * 1.4;
  const c0 = Math.max(0, Math.floor((Math.min(ax, bx) - halo - x0) / texel));
  const c1 = Math.min(cols - 1, Math.ceil((Math.max(ax, bx) + halo - x0) / texel));
  const r0 = Math.max(0, Math.floor((Math.min(ay, by) - halo - y0) / texel));
  const r1 = Math.min(rows - 1, Math.ceil((Math.max(ay, by) + halo - y0) / texel));
  const ex = bx - ax;
  const ey = by - ay;
  const len2 = ex * ex + ey * ey;
  // Thin vessels are less saturated at the pixel scale; deep ones are blurred by the mucosa above.
  const opacity = deep ? 0.5 : Math.min(0.9, 0.55 + radius * 1.2);
  for (let r = r0; r <= r1; r++) {
    const py = y0 + r * texel;
    for (let c = c0; c <= c1; c++) {
      const px = x0 + c * texel;
      const t = len2 > 0 ? Math.min(1, Math.max(0, ((px - ax) * ex + (py - ay) * ey) / len2)) : 0;
      const dx = px - (ax + t * ex);
      const dy = py - (ay + t * ey);
      const d = Math.sqrt(dx * dx + dy * dy);
      if (d >= halo) continue;
      const u = d / halo;
      const profile = (1 - u * u) * (1 - u * u);
      const a = opacity * profile;
      const i = r * cols + c;
      if (a > cover[i]!) cover[i] = a;
    }
  }
}

/**
 * Bilinear sample of all channels at scene (x, y) into out[0..5]; coordinates outside the patch clamp
 * to its border.
 */
export function sampleTissue(patch: TissuePatch, x: number, y: number, out: Float32Array): void {
  let fx = (x - patch.x0) / patch.texel;
  let fy = (y - patch.y0) / patch.texel;
  fx = Math.min(patch.cols - 1.000001, Math.max(0, fx));
  fy = Math.min(patch.rows - 1.000001, Math.max(0, fy));
  const c = Math.floor(fx);
  const r = Math.floor(fy);
  const ax = fx - c;
  const ay = fy - r;
  const m = patch.maps;
  const i00 = (r * patch.cols + c) * TISSUE_CHANNELS;
  const i01 = i00 + TISSUE_CHANNELS;
  const i10 = i00 + patch.cols * TISSUE_CHANNELS;
  const i11 = i10 + TISSUE_CHANNELS;
  const w00 = (1 - ax) * (1 - ay);
  const w01 = ax * (1 - ay);
  const w10 = (1 - ax) * ay;
  const w11 = ax * ay;
  for (let k = 0; k < TISSUE_CHANNELS; k++) {
    out[k] = m[i00 + k]! * w00 + m[i01 + k]! * w01 + m[i10 + k]! * w10 + m[i11 + k]! * w11;
  }
}
