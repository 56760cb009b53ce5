/**
 * Turbo colour map (Google's perceptual rainbow) as a 256-entry RGB lookup table, from its published
 * polynomial approximation. The depth overlay maps near tissue to the warm (red) end.
 */
function channel(x: number, c: readonly number[]): number {
  const v = c[0]! + x * (c[1]! + x * (c[2]! + x * (c[3]! + x * (c[4]! + x * c[5]!))));
  return Math.round(255 * Math.min(1, Math.max(0, v)));
}

const R = [0.13572138, 4.6153926, -42.66032258, 132.13108234, -152.94239396, 59.28637943];
const G = [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604];
const B = [0.1066733, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973];

/** 256 x RGB, index 0 = dark blue, 255 = dark red. */
export const TURBO_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    lut[i * 3] = channel(x, R);
    lut[i * 3 + 1] = channel(x, G);
    lut[i * 3 + 2] = channel(x, B);
  }
  return lut;
})();

export function turboCss(x: number): string {
  const i = Math.round(Math.min(1, Math.max(0, x)) * 255) * 3;
  return `rgb(${TURBO_LUT[i]}, ${TURBO_LUT[i + 1]}, ${TURBO_LUT[i + 2]})`;
}
