/**
 * Rectified stereo pairs with exact disparity: a band-limited texture T(x, y) (random sinusoids) seen by
 * the left camera as L(x, y) = T(x, y) and by the right one as R(x_r, y) = T(x_l(x_r), y), where the
 * left pixel x_l lands on x_r = x_l - d(x_l). With d(x) = a + b x the inverse is x_l = (x_r + a) / (1 - b).
 */
import type { RgbImage } from '../../src/shared/frames.js';
import { Rng } from '../../src/synth/random.js';

export interface Texture {
  (x: number, y: number): number;
}

export function randomTexture(seed: number, waves = 48): Texture {
  const rng = new Rng(seed);
  const rnd = (): number => rng.next();
  const list = Array.from({ length: waves }, () => {
    const period = 2.5 + rnd() * 30; // px: finest detail well above the sampling limit
    const angle = rnd() * Math.PI;
    const k = (2 * Math.PI) / period;
    return { kx: k * Math.cos(angle), ky: k * Math.sin(angle), phase: rnd() * 2 * Math.PI, amp: 0.3 + rnd() };
  });
  const norm = list.reduce((s, w) => s + w.amp, 0);
  return (x, y) => {
    let v = 0;
    for (const w of list) v += w.amp * Math.sin(w.kx * x + w.ky * y + w.phase);
    return 128 + (110 * v) / Math.sqrt(norm * 4);
  };
}

function toRgb(width: number, height: number, value: (x: number, y: number) => number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const g = Math.max(0, Math.min(255, Math.round(value(x, y))));
      const i = 3 * (y * width + x);
      data[i] = data[i + 1] = data[i + 2] = g;
    }
  }
  return { width, height, data };
}

/** A pair whose true disparity at left pixel x is a + b x (px); `flat` marks a region without texture. */
export function planePair(
  width: number,
  height: number,
  a: number,
  b: number,
  seed = 1,
  flat?: { x0: number; x1: number; y0: number; y1: number },
): { left: RgbImage; right: RgbImage; disparity: (x: number) => number } {
  const t = randomTexture(seed);
  const inFlat = (x: number, y: number): boolean =>
    !!flat && x >= flat.x0 && x < flat.x1 && y >= flat.y0 && y < flat.y1;
  const left = toRgb(width, height, (x, y) => (inFlat(x, y) ? 128 : t(x, y)));
  const right = toRgb(width, height, (xr, y) => {
    const xl = (xr + a) / (1 - b);
    return inFlat(xl, y) ? 128 : t(xl, y);
  });
  return { left, right, disparity: (x) => a + b * x };
}
