// Native semi-global matcher on synthetic rectified pairs with exact disparity (synthetic-pair.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SgmMatcher, nativeRemapRgb } from '../../src/workers/stereo/sgm.js';
import { planePair } from './synthetic-pair.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const W = 320;
const H = 160;
const OPTS = { minDisparity: 0, numDisparities: 32 } as const;

function errors(
  disparity: Float32Array,
  truth: (x: number) => number,
  x0: number,
): { abs: number[]; px: number } {
  const abs: number[] = [];
  let px = 0;
  for (let y = 8; y < H - 8; y++) {
    for (let x = x0; x < W - 8; x++) {
      px++;
      const d = disparity[y * W + x]!;
      if (d > 0) abs.push(Math.abs(d - truth(x)));
    }
  }
  abs.sort((p, q) => p - q);
  return { abs, px };
}

const quantile = (sorted: number[], q: number): number => sorted[Math.floor(q * (sorted.length - 1))]!;

test('constant fractional disparity is recovered to sub-pixel accuracy', () => {
  for (const d of [9.0, 12.25, 17.5, 20.75]) {
    const pair = planePair(W, H, d, 0, 3);
    const m = new SgmMatcher(W, H, OPTS);
    const r = m.match(pair.left.data, pair.right.data);
    const e = errors(r.disparity, pair.disparity, OPTS.numDisparities + 8);
    assert.ok(e.abs.length / e.px > 0.95, `d=${d}: only ${((100 * e.abs.length) / e.px).toFixed(1)}% valid`);
    assert.ok(quantile(e.abs, 0.5) < 0.2, `d=${d}: median error ${quantile(e.abs, 0.5).toFixed(3)} px`);
    assert.ok(quantile(e.abs, 0.95) < 0.4, `d=${d}: p95 error ${quantile(e.abs, 0.95).toFixed(3)} px`);
    assert.ok(
      e.abs[e.abs.length - 1]! < 1.0,
      `d=${d}: a valid pixel is off by ${e.abs[e.abs.length - 1]} px`,
    );
  }
});

test('a slanted plane (disparity 6..26 px across the image) is recovered with 4 and 8 paths', () => {
  const truth = (x: number): number => 6 + (20 * x) / W;
  for (const paths of [4, 8] as const) {
    const pair = planePair(W, H, 6, 20 / W, 5);
    const m = new SgmMatcher(W, H, { ...OPTS, paths });
    const r = m.match(pair.left.data, pair.right.data);
    const e = errors(r.disparity, truth, OPTS.numDisparities + 8);
    assert.ok(
      e.abs.length / e.px > 0.9,
      `${paths} paths: only ${((100 * e.abs.length) / e.px).toFixed(1)}% valid`,
    );
    assert.ok(
      quantile(e.abs, 0.5) < 0.25,
      `${paths} paths: median error ${quantile(e.abs, 0.5).toFixed(3)} px`,
    );
    assert.ok(
      quantile(e.abs, 0.95) < 0.6,
      `${paths} paths: p95 error ${quantile(e.abs, 0.95).toFixed(3)} px`,
    );
  }
});

test('the one-sweep mode with box-summed census costs keeps sub-pixel accuracy', () => {
  const truth = (x: number): number => 6 + (20 * x) / W;
  for (const costBox of [0, 1, 3]) {
    const pair = planePair(W, H, 6, 20 / W, 5);
    const m = new SgmMatcher(W, H, { ...OPTS, paths: 5, costBox });
    const r = m.match(pair.left.data, pair.right.data);
    const e = errors(r.disparity, truth, OPTS.numDisparities + 8);
    assert.ok(
      e.abs.length / e.px > 0.9,
      `box ${costBox}: only ${((100 * e.abs.length) / e.px).toFixed(1)}% valid`,
    );
    assert.ok(
      quantile(e.abs, 0.5) < 0.25,
      `box ${costBox}: median error ${quantile(e.abs, 0.5).toFixed(3)} px`,
    );
    assert.ok(
      quantile(e.abs, 0.95) < 0.6,
      `box ${costBox}: p95 error ${quantile(e.abs, 0.95).toFixed(3)} px`,
    );
  }
});

test('depth is fx * baseline / (disparity - offset) at every valid pixel and 0 elsewhere', () => {
  const pair = planePair(W, H, 14.5, 0, 7);
  const m = new SgmMatcher(W, H, OPTS);
  const intrinsics = { width: W, height: H, fx: 400, fy: 400, cx: W / 2, cy: H / 2 };
  const s = m.depth(pair.left, pair.right, { intrinsics, baselineMm: 5, disparityOffset: 0.5 });
  let valid = 0;
  for (let i = 0; i < W * H; i++) {
    const d = s.disparity[i]!;
    const z = s.depth.data[i]!;
    if (d > 0) {
      valid++;
      assert.ok(Math.abs(z - (400 * 5) / (d - 0.5)) < 1e-3 * z, `pixel ${i}: depth ${z} for disparity ${d}`);
      assert.ok(s.confidence[i]! > 0 && s.confidence[i]! <= 1, `pixel ${i}: confidence ${s.confidence[i]}`);
    } else {
      assert.equal(z, 0, `pixel ${i}: invalid disparity but depth ${z}`);
      assert.equal(s.confidence[i], 0);
    }
  }
  assert.equal(valid, s.stats.valid);
  // 14.5 px - 0.5 offset = 14 px -> 142.86 mm
  const zs = Array.from(s.depth.data)
    .filter((z) => z > 0)
    .sort((p, q) => p - q);
  assert.ok(Math.abs(quantile(zs, 0.5) - 2000 / 14) < 1.5, `median depth ${quantile(zs, 0.5)}`);
});

test('pixels without texture are unknown, not given a made-up disparity', () => {
  const grey = new Uint8Array(W * H).fill(128);
  const m = new SgmMatcher(W, H, OPTS);
  const r = m.match(grey, grey);
  assert.equal(r.valid, 0, `${r.valid} disparities on a uniform pair`);
  assert.ok(r.disparity.every((d) => d === 0) && r.confidence.every((c) => c === 0));
  // A flat patch inside a textured scene: the paths may carry the surrounding disparity into it (SGM's
  // smoothness prior, right here), but nothing else.
  const flat = { x0: 150, x1: 230, y0: 50, y1: 110 };
  const pair = planePair(W, H, 12, 0, 9, flat);
  const p = m.match(pair.left.data, pair.right.data);
  let wrongInside = 0;
  for (let y = flat.y0; y < flat.y1; y++) {
    for (let x = flat.x0; x < flat.x1; x++) {
      const d = p.disparity[y * W + x]!;
      if (d > 0 && Math.abs(d - 12) > 1) wrongInside++;
    }
  }
  assert.equal(wrongInside, 0, `${wrongInside} wrong disparities inside the untextured patch`);
});

test('the left-right check rejects pixels occluded in the right view', () => {
  // Right view: the texture shifted by 12 px, with a band replaced by other texture (as if occluded).
  const pair = planePair(W, H, 12, 0, 11);
  const other = planePair(W, H, 12, 0, 99);
  for (let y = 0; y < H; y++) {
    for (let x = 160; x < 200; x++) {
      for (let c = 0; c < 3; c++)
        pair.right.data[3 * (y * W + x) + c] = other.right.data[3 * (y * W + x) + c]!;
    }
  }
  const m = new SgmMatcher(W, H, OPTS);
  const r = m.match(pair.left.data, pair.right.data);
  // Left pixels 176..208 see the replaced band (x_r = x - 12 in 164..196): no correct match exists.
  const keptShare = (x0: number, x1: number): number => {
    let kept = 0;
    for (let y = 8; y < H - 8; y++) for (let x = x0; x < x1; x++) kept += r.disparity[y * W + x]! > 0 ? 1 : 0;
    return kept / ((H - 16) * (x1 - x0));
  };
  assert.ok(keptShare(180, 204) < 0.2, `${(100 * keptShare(180, 204)).toFixed(1)}% kept without a match`);
  assert.ok(keptShare(60, 150) > 0.9, `${(100 * keptShare(60, 150)).toFixed(1)}% kept where the views agree`);
  assert.ok(r.rejectedLr + r.rejectedUniqueness + r.rejectedSpeckle > 0);
});

test('bad input names the problem', () => {
  const m = new SgmMatcher(W, H, OPTS);
  const pair = planePair(W, H, 10, 0, 2);
  const small = planePair(W - 16, H, 10, 0, 2);
  const intrinsics = { width: W, height: H, fx: 400, fy: 400, cx: W / 2, cy: H / 2 };
  const geometry = { intrinsics, baselineMm: 5, disparityOffset: 0 };
  assert.throws(
    () => m.depth(pair.left, small.right, geometry),
    /left view is 320x160 but right view is 304x160/,
  );
  assert.throws(() => m.depth(small.left, small.right, geometry), /matcher was made for 320x160/);
  assert.throws(
    () =>
      m.depth(pair.left, pair.right, { ...geometry, intrinsics: { ...intrinsics, width: 640, height: 320 } }),
    /stereo calibration is for 640x320/,
  );
  assert.throws(
    () => m.match(pair.left.data, small.right.data),
    /'right' has 145920 bytes, expected 51200 \(grey\) or 153600/,
  );
  assert.throws(() => new SgmMatcher(W, H, { numDisparities: 20 }), /multiple of 8/);
  assert.throws(() => new SgmMatcher(W, H, { p1: 50, p2: 10 }), /'p2' must be >= 'p1'/);
  assert.throws(() => new SgmMatcher(W, H, { paths: 8, costBox: 2 }), /'costBox' needs 'paths' 5/);
});

test('the SSE2 build of the row kernels gives bit-identical results to the AVX2 one', () => {
  // The kernels are chosen at run time; NAVWS_STEREO_NO_AVX2 forces the baseline build in a child.
  const script = `
    import { SgmMatcher } from ${JSON.stringify(path.join(root, 'src', 'workers', 'stereo', 'sgm.ts'))};
    import { planePair } from ${JSON.stringify(path.join(root, 'test', 'stereo', 'synthetic-pair.ts'))};
    const out = {};
    for (const [key, opts] of [['4', { paths: 4 }], ['5', { paths: 5 }], ['8', { paths: 8 }], ['5box', { paths: 5, costBox: 2 }]]) {
      const pair = planePair(${W}, ${H}, 6, ${20 / W}, 5);
      const r = new SgmMatcher(${W}, ${H}, { minDisparity: 0, numDisparities: 32, ...opts }).match(pair.left.data, pair.right.data);
      out[key] = { avx2: r.avx2, d: Array.from(r.disparity), c: Array.from(r.confidence) };
    }
    console.log(JSON.stringify(out));`;
  const run = (env: Record<string, string>): Record<string, { avx2: boolean; d: number[]; c: number[] }> => {
    const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20,
    });
    assert.equal(p.status, 0, p.stderr);
    return JSON.parse(p.stdout) as Record<string, { avx2: boolean; d: number[]; c: number[] }>;
  };
  const base = run({ NAVWS_STEREO_NO_AVX2: '1' });
  const best = run({});
  for (const paths of ['4', '5', '8', '5box']) {
    assert.equal(base[paths]!.avx2, false);
    assert.deepEqual(best[paths]!.d, base[paths]!.d, `${paths} paths: disparities differ`);
    assert.deepEqual(best[paths]!.c, base[paths]!.c, `${paths} paths: confidences differ`);
  }
});

test('the native remap reproduces an image through the identity table and shifts it through a shifted one', () => {
  const pair = planePair(64, 32, 4, 0, 13);
  const n = 64 * 32;
  const mx = new Float32Array(n);
  const my = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    mx[i] = i % 64;
    my[i] = Math.floor(i / 64);
  }
  assert.deepEqual(nativeRemapRgb(pair.left, mx, my, 64, 32).data, pair.left.data);
  for (let i = 0; i < n; i++) mx[i] = (i % 64) + 0.5;
  const half = nativeRemapRgb(pair.left, mx, my, 64, 32);
  const p = 3 * (10 * 64 + 20);
  const expect = (pair.left.data[p]! + pair.left.data[p + 3]!) / 2;
  assert.ok(Math.abs(half.data[p]! - expect) <= 0.5, `${half.data[p]} vs ${expect}`);
  // The last column samples x = 63.5, outside the image: black, not a made-up edge value.
  assert.equal(half.data[3 * (10 * 64 + 63)], 0);
  assert.throws(
    () => nativeRemapRgb(pair.left, mx.subarray(1), my, 64, 32),
    /the maps are not outWidth\*outHeight/,
  );
});
