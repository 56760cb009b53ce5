import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RgbToPlanar, maskBlackBorder, resizeBilinear } from '../../src/workers/depth/resample.js';

test('area downsampling averages whole source blocks into planar channels scaled to [0, 1]', () => {
  // 4x2 RGB image: left 2x2 block R=10,G=20,B=30 / 50,60,70 alternating rows; right block all 255.
  const w = 4;
  const h = 2;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 3;
      const v = x < 2 ? (y === 0 ? [10, 20, 30] : [50, 60, 70]) : [255, 255, 255];
      data.set(v, p);
    }
  }
  const dst = new Float32Array(1 + 3 * 2);
  new RgbToPlanar(2, 1).write({ width: w, height: h, data }, dst, 1);
  const expect = [NaN, 30 / 255, 1, 40 / 255, 1, 50 / 255, 1];
  for (let i = 1; i < dst.length; i++)
    assert.ok(Math.abs(dst[i]! - expect[i]!) < 1e-6, `element ${i}: ${dst[i]} vs ${expect[i]}`);
  assert.equal(dst[0], 0, 'writes start at the offset');
});

test('upsampling is bilinear with pixel centres at integer coordinates', () => {
  const src = Float32Array.from([0, 10, 20, 30]); // 4x1 ramp
  const out = new Float32Array(8);
  resizeBilinear(src, 4, 1, out, 8, 1);
  // Output x maps to source (x + 0.5) / 2 - 0.5: 0 -> -0.25 (clamped), 3 -> 1.25, 7 -> 3.25 (clamped).
  assert.deepEqual(Array.from(out), [0, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 30]);
  const planar = new Float32Array(3 * 4);
  const img = { width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 255, 255, 255]) };
  new RgbToPlanar(4, 1).write(img, planar, 0);
  assert.deepEqual(Array.from(planar.subarray(0, 4)), [0, 0.25, 0.75, 1]);
});

test('black border pixels get unknown depth (0), others keep theirs', () => {
  const depth = Float32Array.from([40, 41, 42]);
  maskBlackBorder(depth, { width: 3, height: 1, data: Uint8Array.from([0, 0, 0, 200, 5, 5, 3, 9, 2]) });
  assert.deepEqual(Array.from(depth), [0, 41, 0]);
});
