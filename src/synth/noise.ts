/** Seeded 2D value noise and fractal sums of it, used for tissue relief, colour variation and smoke. */
import { hash32 } from './random.js';

function lattice(seed: number, ix: number, iy: number): number {
  return hash32(seed ^ Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1)) / 4294967296;
}

/** Value noise in [0, 1) with C1-continuous (smootherstep) interpolation between lattice points. */
export function valueNoise(seed: number, x: number, y: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const sx = fx * fx * fx * (fx * (fx * 6 - 15) + 10);
  const sy = fy * fy * fy * (fy * (fy * 6 - 15) + 10);
  const a = lattice(seed, ix, iy);
  const b = lattice(seed, ix + 1, iy);
  const c = lattice(seed, ix, iy + 1);
  const d = lattice(seed, ix + 1, iy + 1);
  const top = a + (b - a) * sx;
  const bottom = c + (d - c) * sx;
  return top + (bottom - top) * sy;
}

/**
 * Fractal sum of value noise, centred on zero: roughly in [-0.5, 0.5] times the sum of amplitudes.
 * `scale` is the feature size of the first octave in the units of x and y.
 */
export function fbm(seed: number, x: number, y: number, scale: number, octaves: number, gain = 0.5): number {
  let sum = 0;
  let amp = 1;
  let norm = 0;
  let f = 1 / scale;
  for (let o = 0; o < octaves; o++) {
    sum += amp * (valueNoise(seed + o * 1013, x * f + o * 17.17, y * f - o * 9.31) - 0.5);
    norm += amp;
    amp *= gain;
    f *= 2;
  }
  return sum / norm;
}
