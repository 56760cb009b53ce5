/**
 * The phantom's tissue: a height field z = h(x, y) over a rectangular patch of the scene plane, with
 * mucosal folds, bumps and a low-frequency undulation, and a vascularised albedo. Everything is
 * precomputed on one fine grid in surface coordinates, so the texture sticks to the tissue across
 * frames (photometric tracking relies on that) and the renderer only samples it.
 *
 * Scene frame: the tissue lies roughly in the plane z = baseDistance, facing the scope at z ~ 0; x and
 * y follow the first camera's x (right) and y (down) before the scope is tilted.
 *
 * The tissue is an unbounded function of (seed, x, y): discrete features (folds, bumps, vessel trees)
 * are laid out per square tile of the plane from a stream keyed by (seed, tile), and the patch only
 * crops it. So one seed is one tissue, whatever the sequence length, speed or resolution.
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
  const x1 = x0 + (cols - 1) * texel;
  const y1 = y0 + (rows - 1) * texel;

  const folds = forTiles(seed, 1, 60, [x0, x1, y0, y1], FOLD_REACH, (rng, tx, ty) =>
    Array.from({ length: (rng.next() < 0.5 ? 1 : 0) + (rng.next() < 0.2 ? 1 : 0) }, () => {
      const angle = rng.uniform(0, Math.PI);
      return {
        px: tx + rng.uniform(0, 60),
        py: ty + rng.uniform(0, 60),
        ca: Math.cos(angle),
        sa: Math.sin(angle),
        amplitude: rng.uniform(2.5, 5.5),
        width: rng.uniform(2.5, 4.5),
        meander: rng.uniform(2, 7),
        wavelength: rng.uniform(12, 30),
        phase: rng.uniform(0, 2 * Math.PI),
        halfLength: rng.uniform(40, 90),
      };
    }),
  );
  const bumps = forTiles(seed, 2, 20, [x0, x1, y0, y1], 20, (rng, tx, ty) =>
    Array.from({ length: rng.int(0, 2) }, () => ({
      px: tx + rng.uniform(0, 20),
      py: ty + rng.uniform(0, 20),
      amplitude: rng.uniform(-1.6, 1.0),
      sigma: rng.uniform(1.5, 4.5),
    })),
  );
  const reliefSeed = mixSeed(seed, 2);
  const microSeed = mixSeed(seed, 3);
  const colourSeed = mixSeed(seed, 4);
  const mottleSeed = mixSeed(seed, 5);

  for (let r = 0; r < rows; r++) {
    const y = y0 + r * texel;
    for (let c = 0; c < cols; c++) {
      const x = x0 + c * texel;
      const i = r * cols + c;
      // Negative relief protrudes towards the scope; folds and bumps are added below.
      height[i] = opts.baseDistance + 7 * fbm(reliefSeed, x, y, 30, 3);
      // Albedo: pale-to-red base with a fine mottle.
      const redness = Math.min(1, Math.max(0, 0.45 + 1.6 * fbm(colourSeed, x, y, 18, 4)));
      const mottle = 1 + 0.12 * fbm(mottleSeed, x, y, 1.2, 3);
      for (let k = 0; k < 3; k++)
        albedo[i * 3 + k] = (BASE_PALE[k]! + (BASE_RED[k]! - BASE_PALE[k]!) * redness) * mottle;
    }
  }
  for (const f of folds) addFold(height, cols, rows, x0, y0, texel, f);
  for (const b of bumps) splatGaussian(height, cols, rows, x0, y0, texel, b.px, b.py, b.sigma, b.amplitude);
  const deepCover = new Float32Array(n);
  const superficialCover = new Float32Array(n);
  drawVessels(seed, deepCover, superficialCover, cols, rows, x0, y0, texel);
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
  const micro = new Float32Array(n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++)
      micro[r * cols + c] = 0.08 * fbm(microSeed, x0 + c * texel, y0 + r * texel, 0.5, 2);
  }
  const maps = new Float32Array(n * TISSUE_CHANNELS);
  for (let r = 0; r < rows; r++) {
    const rm = Math.max(0, r - 1);
    const rp = Math.min(rows - 1, r + 1);
    const sy = 1 / ((rp - rm) * texel);
    for (let c = 0; c < cols; c++) {
      const cm = Math.max(0, c - 1);
      const cp = Math.min(cols - 1, c + 1);
      const sx = 1 / ((cp - cm) * texel);
      const i = r * cols + c;
      const o = i * TISSUE_CHANNELS;
      maps[o] = albedo[i * 3]!;
      maps[o + 1] = albedo[i * 3 + 1]!;
      maps[o + 2] = albedo[i * 3 + 2]!;
      maps[o + 3] =
        (height[r * cols + cp]! - height[r * cols + cm]! + micro[r * cols + cp]! - micro[r * cols + cm]!) *
        sx;
      maps[o + 4] =
        (height[rp * cols + c]! - height[rm * cols + c]! + micro[rp * cols + c]! - micro[rm * cols + c]!) *
        sy;
      maps[o + 5] = height[i]!;
    }
  }
  return { x0, y0, texel, cols, rows, maps };
}

/** How far a fold reaches from its centre (mm): its longest half-length plus its meander and width. */
const FOLD_REACH = 90 + 7 + 4 * 4.5;

/**
 * Features of all tiles (of `tile` mm) whose features can reach the box [x0, x1] x [y0, y1] from at
 * most `reach` mm outside it; each tile draws from its own stream keyed by (seed, purpose, tile).
 */
function forTiles<T>(
  seed: number,
  purpose: number,
  tile: number,
  box: readonly [number, number, number, number],
  reach: number,
  make: (rng: Rng, tileX: number, tileY: number) => T[],
): T[] {
  const out: T[] = [];
  const i0 = Math.floor((box[0] - reach) / tile);
  const i1 = Math.floor((box[1] + reach) / tile);
  const j0 = Math.floor((box[2] - reach) / tile);
  const j1 = Math.floor((box[3] + reach) / tile);
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++)
      out.push(...make(new Rng(mixSeed(seed, purpose, i, j)), i * tile, j * tile));
  }
  return out;
}

interface Fold {
  px: number;
  py: number;
  ca: number;
  sa: number;
  amplitude: number;
  width: number;
  meander: number;
  wavelength: number;
  phase: number;
  halfLength: number;
}

/**
 * A mucosal fold: a meandering ridge towards the scope with a Gaussian cross-section and a smooth,
 * compactly supported profile along its length, added over its bounding box only.
 */
function addFold(
  grid: Float32Array,
  cols: number,
  rows: number,
  x0: number,
  y0: number,
  texel: number,
  f: Fold,
): void {
  const across = f.meander + 4 * f.width;
  const rx = Math.abs(f.ca) * f.halfLength + Math.abs(f.sa) * across;
  const ry = Math.abs(f.sa) * f.halfLength + Math.abs(f.ca) * across;
  const c0 = Math.max(0, Math.floor((f.px - rx - x0) / texel));
  const c1 = Math.min(cols - 1, Math.ceil((f.px + rx - x0) / texel));
  const r0 = Math.max(0, Math.floor((f.py - ry - y0) / texel));
  const r1 = Math.min(rows - 1, Math.ceil((f.py + ry - y0) / texel));
  const k = -1 / (2 * f.width * f.width);
  for (let r = r0; r <= r1; r++) {
    const dy = y0 + r * texel - f.py;
    for (let c = c0; c <= c1; c++) {
      const dx = x0 + c * texel - f.px;
      const u = (dx * f.ca + dy * f.sa) / f.halfLength;
      if (u <= -1 || u >= 1) continue;
      const v = -dx * f.sa + dy * f.ca - f.meander * Math.sin((u * f.halfLength) / f.wavelength + f.phase);
      const envelope = (1 - u * u) * (1 - u * u);
      grid[r * cols + c]! -= f.amplitude * envelope * Math.exp(v * v * k);
    }
  }
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
  const reach = 4 * sigma;
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

interface VesselKind {
  deep: boolean;
  /** Trees per mm^2 of patch. */
  density: number;
  radius: readonly [number, number];
  /** Length range of a tree's trunk, mm. */
  length: readonly [number, number];
  step: number;
  /** Radius factor per mm of length. */
  taper: number;
  /** Branching probability per mm and the deepest branching level. */
  branching: number;
  levels: number;
  /** Standard deviation of the heading's curl per step (tortuosity). */
  curl: number;
}

/**
 * Three layers of vessels, from the random walks below: a few wide, faint, bluish deep vessels; red
 * superficial trees that taper and branch; and short, tortuous capillaries that give the mucosa a fine
 * texture (which photometric tracking feeds on).
 */
const VESSELS: readonly VesselKind[] = [
  {
    deep: true,
    density: 1 / 5000,
    radius: [0.7, 1.2],
    length: [80, 160],
    step: 0.35,
    taper: 0.993,
    branching: 0.035,
    levels: 2,
    curl: 0.01,
  },
  {
    deep: false,
    density: 1 / 2000,
    radius: [0.3, 0.65],
    length: [60, 120],
    step: 0.3,
    taper: 0.985,
    branching: 0.1,
    levels: 3,
    curl: 0.015,
  },
  {
    deep: false,
    density: 1 / 90,
    radius: [0.08, 0.16],
    length: [3, 12],
    step: 0.2,
    taper: 0.97,
    branching: 0,
    levels: 0,
    curl: 0.06,
  },
];

/** Paints the vessel coverage maps; vessels are meandering, tapering, branching random walks. */
function drawVessels(
  seed: number,
  deepCover: Float32Array,
  superficialCover: Float32Array,
  cols: number,
  rows: number,
  x0: number,
  y0: number,
  texel: number,
): void {
  const box = [x0, x0 + (cols - 1) * texel, y0, y0 + (rows - 1) * texel] as const;
  interface Branch {
    x: number;
    y: number;
    dir: number;
    radius: number;
    length: number;
    level: number;
  }
  const TILE = 50;
  VESSELS.forEach((kind, k) => {
    const cover = kind.deep ? deepCover : superficialCover;
    const taper = Math.pow(kind.taper, kind.step);
    const branchChance = kind.branching * kind.step;
    const perTile = kind.density * TILE * TILE;
    // Each tree grows from its own stream, so it is the same whichever patch is being painted.
    const trees = forTiles(seed, 10 + k, TILE, box, kind.length[1], (rng, tx, ty) => {
      const count = Math.floor(perTile) + (rng.next() < perTile - Math.floor(perTile) ? 1 : 0);
      return Array.from({ length: count }, () => ({ tx, ty, seed: Math.floor(rng.next() * 4294967296) }));
    });
    for (const tree of trees) {
      const rng = new Rng(tree.seed);
      const stack: Branch[] = [
        {
          x: tree.tx + rng.uniform(0, TILE),
          y: tree.ty + rng.uniform(0, TILE),
          dir: rng.uniform(0, 2 * Math.PI),
          radius: rng.uniform(kind.radius[0], kind.radius[1]),
          length: rng.uniform(kind.length[0], kind.length[1]),
          level: 0,
        },
      ];
      while (stack.length > 0) {
        const b = stack.pop()!;
        let { x, y, dir, radius } = b;
        let curl = 0;
        const steps = Math.round(b.length / kind.step);
        for (let s = 0; s < steps && radius > 0.03; s++) {
          curl = 0.9 * curl + kind.curl * rng.gaussian();
          dir += curl;
          const nx = x + kind.step * Math.cos(dir);
          const ny = y + kind.step * Math.sin(dir);
          paintSegment(cover, cols, rows, x0, y0, texel, x, y, nx, ny, radius, kind.deep);
          x = nx;
          y = ny;
          radius *= taper;
          if (b.level < kind.levels && rng.next() < branchChance) {
            stack.push({
              x,
              y,
              dir: dir + (rng.next() < 0.5 ? -1 : 1) * rng.uniform(0.4, 1.1),
              radius: radius * rng.uniform(0.5, 0.8),
              length: (b.length - s * kind.step) * rng.uniform(0.3, 0.8),
              level: b.level + 1,
            });
          }
        }
      }
    }
  });
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
  const invLen2 = len2 > 0 ? 1 / len2 : 0;
  const invHalo2 = 1 / (halo * halo);
  // Thin vessels are less saturated at the pixel scale; deep ones are blurred by the mucosa above.
  const opacity = deep ? 0.3 : Math.min(0.85, 0.4 + radius * 0.8);
  for (let r = r0; r <= r1; r++) {
    const py = y0 + r * texel;
    for (let c = c0; c <= c1; c++) {
      const px = x0 + c * texel;
      let t = ((px - ax) * ex + (py - ay) * ey) * invLen2;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const dx = px - (ax + t * ex);
      const dy = py - (ay + t * ey);
      const u2 = (dx * dx + dy * dy) * invHalo2;
      if (u2 >= 1) continue;
      const profile = (1 - u2) * (1 - u2);
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
