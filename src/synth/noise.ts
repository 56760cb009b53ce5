/**
 * Seeded 2D gradient (Perlin) noise and fractal sums of it, used for tissue relief, colour variation
 * and smoke. Gradient rather than value noise: value noise has zero slope along every lattice line,
 * which a specular renderer turns into visible axis-aligned flat patches.
 */
import { hash32 } from './random.js';

/** 256 unit gradients at evenly spaced angles; a lattice point's hash picks one (no trigonometry per call). */
const GRADIENTS = (() => {
  const g = new Float64Array(512);
  for (let i = 0; i < 256; i++) {
    g[2 * i] = Math.cos((2 * Math.PI * i) / 256);
    g[2 * i + 1] = Math.sin((2 * Math.PI * i) / 256);
  }
  return g;
})();

function latticeGradient(seed: number, ix: number, iy: number, dx: number, dy: number): number {
  const h = (hash32(seed ^ Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1)) & 255) * 2;
  return GRADIENTS[h]! * dx + GRADIENTS[h + 1]! * dy;
}

/** Per-octave rotations (cos, sin) so that lattice directions of successive octaves do not line up. */
const OCTAVE_ROTATIONS = Float64Array.from({ length: 32 }, (_, i) =>
  i % 2 === 0 ? Math.cos(0.9 + (i / 2) * 1.3) : Math.sin(0.9 + ((i - 1) / 2) * 1.3),
);

/** Perlin gradient noise, roughly in [-0.7, 0.7], zero at lattice points, C2-continuous. */
export function gradientNoise(seed: number, x: number, y: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const sx = fx * fx * fx * (fx * (fx * 6 - 15) + 10);
  const sy = fy * fy * fy * (fy * (fy * 6 - 15) + 10);
  const a = latticeGradient(seed, ix, iy, fx, fy);
  const b = latticeGradient(seed, ix + 1, iy, fx - 1, fy);
  const c = latticeGradient(seed, ix, iy + 1, fx, fy - 1);
  const d = latticeGradient(seed, ix + 1, iy + 1, fx - 1, fy - 1);
  const top = a + (b - a) * sx;
  const bottom = c + (d - c) * sx;
  return top + (bottom - top) * sy;
}

/**
 * Fractal sum of gradient noise, centred on zero, about [-0.5, 0.5] (normalised by the amplitude sum).
 * `scale` is the feature size of the first octave in the units of x and y; each octave is rotated so
 * that lattice directions do not line up.
 */
export function fbm(seed: number, x: number, y: number, scale: number, octaves: number, gain = 0.5): number {
  let sum = 0;
  let amp = 1;
  let norm = 0;
  let f = 1 / scale;
  for (let o = 0; o < octaves; o++) {
    const c = OCTAVE_ROTATIONS[(2 * o) % 32]!;
    const s = OCTAVE_ROTATIONS[(2 * o + 1) % 32]!;
    sum +=
      amp * gradientNoise(seed + o * 1013, (c * x - s * y) * f + o * 17.17, (s * x + c * y) * f - o * 9.31);
    norm += amp;
    amp *= gain;
    f *= 2;
  }
  return (0.75 * sum) / norm;
}
