// Native photometric alignment on rendered pairs with known motion (analytic-scene.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Mat4, identity4, isFiniteMatrix, multiply4 } from '../../src/shared/math/mat4.js';
import { type Twist, rotationAngle, se3Exp, translationLength } from '../../src/shared/math/se3.js';
import {
  type AlignOptions,
  type NativeFrame,
  loadTrackingKernels,
} from '../../src/workers/tracking/kernels.js';
import { type RenderedView, type SceneOptions, renderView, testIntrinsics } from './analytic-scene.js';

const K = testIntrinsics(256, 192);
const kernels = loadTrackingKernels();

function frameOf(view: RenderedView, withDepth = true): NativeFrame {
  return new kernels.Frame({
    rgb: view.rgb.data,
    depth: withDepth ? view.depth.data : null,
    width: K.width,
    height: K.height,
    fx: K.fx,
    fy: K.fy,
    cx: K.cx,
    cy: K.cy,
  });
}

/** Aligns the view from `motion` (camera-to-world of frame 2, frame 1 = world) to frame 1. */
function alignPair(
  motion: Mat4,
  scene: Partial<SceneOptions> = {},
  second: Partial<SceneOptions> = {},
  opts: AlignOptions = {},
) {
  const a = renderView(identity4(), { intrinsics: K, ...scene });
  const b = renderView(motion, { intrinsics: K, ...scene, ...second });
  const out = kernels.align(frameOf(a), frameOf(b), identity4(), opts);
  // out.pose is T_b_a = inv(motion); the product is the identity when exact.
  const err = multiply4(out.pose, motion);
  return { out, dt: translationLength(err), dr: rotationAngle(err) };
}

const DEG = Math.PI / 180;

// Each motion case runs purely photometric (the method's core) and with the geometric term that the
// tracker adds when the frame has depth; the latter must be at least as accurate.
const MODES: [string, AlignOptions][] = [
  ['photometric', { depthWeight: 0 }],
  ['photometric+depth', {}],
];

test('pure rotation is recovered', () => {
  for (const [mode, opts] of MODES) {
    const { out, dt, dr } = alignPair(se3Exp([0, 0, 0, 1.5 * DEG, -2 * DEG, 1 * DEG] as Twist), {}, {}, opts);
    assert.ok(out.ok, out.reason);
    assert.ok(dr < 0.05 * DEG, `${mode}: rotation error ${dr / DEG} deg`);
    assert.ok(dt < 0.1, `${mode}: translation error ${dt} mm`);
    assert.ok(out.rms < 4, `${mode}: rms ${out.rms}`);
  }
});

test('pure translation is recovered (including along the optical axis)', () => {
  for (const [mode, opts] of MODES) {
    const { out, dt, dr } = alignPair(se3Exp([2, -1.5, 3, 0, 0, 0] as Twist), {}, {}, opts);
    assert.ok(out.ok, out.reason);
    assert.ok(dt < 0.1, `${mode}: translation error ${dt} mm of 3.9 mm`);
    assert.ok(dr < 0.05 * DEG, `${mode}: rotation error ${dr / DEG} deg`);
  }
});

test('the geometric term removes the bias the moving light puts into the photometric optimum', () => {
  const motion = se3Exp([2, -1, 1, 1 * DEG, 1 * DEG, -1 * DEG] as Twist);
  const photo = alignPair(motion, {}, {}, { depthWeight: 0 });
  const both = alignPair(motion);
  assert.ok(both.out.ok && both.out.depthPoints > 1000, 'depth residuals are used');
  assert.ok(both.dt < 0.02 && both.dr < 0.02 * DEG, `with depth: ${both.dt} mm ${both.dr / DEG} deg`);
  assert.ok(both.dt < photo.dt, `depth term helps: ${both.dt} vs ${photo.dt} mm`);
  assert.ok(both.out.depthRms < 0.05, `depth rms ${both.out.depthRms} mm`);
});

test('a frame depth with an inconsistent scale (network depth) does not bias the pose', () => {
  const motion = se3Exp([2, -1, 1, 1 * DEG, 1 * DEG, -1 * DEG] as Twist);
  const a = renderView(identity4(), { intrinsics: K });
  const b = renderView(motion, { intrinsics: K });
  const scaled = { ...b.depth, data: b.depth.data.map((z) => z * 1.08) };
  const out = kernels.align(frameOf(a), frameOf({ rgb: b.rgb, depth: scaled }), identity4());
  const err = multiply4(out.pose, motion);
  assert.ok(out.ok, out.reason);
  assert.ok(Math.abs(out.depthScale - 1 / 1.08) < 0.01, `depth scale ${out.depthScale}`);
  assert.ok(translationLength(err) < 0.1, `translation error ${translationLength(err)} mm`);
  assert.ok(rotationAngle(err) < 0.1 * DEG, `rotation error ${rotationAngle(err) / DEG} deg`);
});

test('affine brightness change (light gain and offset) is estimated jointly', () => {
  const motion = se3Exp([1, 1, -1.5, 0.5 * DEG, 1 * DEG, 0] as Twist);
  const withAffine = alignPair(motion, {}, { gain: 1.35, bias: -12 }, { depthWeight: 0 });
  assert.ok(withAffine.out.ok, withAffine.out.reason);
  assert.ok(withAffine.dt < 0.15, `translation error ${withAffine.dt} mm`);
  assert.ok(withAffine.dr < 0.08 * DEG, `rotation error ${withAffine.dr / DEG} deg`);
  // Illumination normalisation divides out the multiplicative gain; the offset remains as a contrast
  // change (gain > 1 on normalised intensities).
  assert.ok(withAffine.out.gain > 1.03 && withAffine.out.gain < 1.5, `gain ${withAffine.out.gain}`);
  const without = alignPair(motion, {}, { gain: 1.35, bias: -12 }, { estimateAffine: false, depthWeight: 0 });
  assert.ok(without.out.rms > withAffine.out.rms, 'the brightness model must lower the residual');
});

test('specular highlights that move with the light do not pull the pose', () => {
  const { out, dt, dr } = alignPair(
    se3Exp([1.5, 0.5, 1, 1 * DEG, 0, -1 * DEG] as Twist),
    { specular: 1 },
    {},
    { depthWeight: 0 },
  );
  assert.ok(out.ok, out.reason);
  assert.ok(dt < 0.2, `translation error ${dt} mm`);
  assert.ok(dr < 0.2 * DEG, `rotation error ${dr / DEG} deg`);
});

test('sensor noise and a combined motion still converge coarse-to-fine', () => {
  const { out, dt, dr } = alignPair(se3Exp([2, -1, 1, 1 * DEG, 1 * DEG, -1 * DEG] as Twist), {
    noise: 2,
    seed: 7,
  });
  assert.ok(out.ok, out.reason);
  // Moving light + noise bias the photometric optimum slightly; 0.3 mm at 60 mm is ~1 px.
  assert.ok(dt < 0.3, `translation error ${dt} mm`);
  assert.ok(dr < 0.3 * DEG, `rotation error ${dr / DEG} deg`);
  assert.ok(out.checkedPoints > 1000 && out.consistentPoints > 0.8 * out.checkedPoints, 'depth round trip');
  assert.ok(out.reprojectionError < 1, `reprojection ${out.reprojectionError} px`);
});

test('degenerate input gives ok=false with a finite pose, never NaN', () => {
  const n = K.width * K.height;
  const good = renderView(identity4(), { intrinsics: K });
  const uniform = { rgb: { ...good.rgb, data: new Uint8Array(n * 3).fill(128) }, depth: good.depth };
  const noDepth = { rgb: good.rgb, depth: { ...good.depth, data: new Float32Array(n) } };
  const nanDepth = { rgb: good.rgb, depth: { ...good.depth, data: new Float32Array(n).fill(NaN) } };
  const black = { rgb: { ...good.rgb, data: new Uint8Array(n * 3) }, depth: good.depth };
  const cases: [string, NativeFrame, NativeFrame][] = [
    ['uniform keyframe', frameOf(uniform), frameOf(good)],
    ['uniform frame', frameOf(good), frameOf(uniform)],
    ['no valid depth', frameOf(noDepth), frameOf(good)],
    ['NaN depth', frameOf(nanDepth), frameOf(good)],
    ['black frame', frameOf(good), frameOf(black)],
    ['keyframe without depth', frameOf(good, false), frameOf(good)],
  ];
  for (const [name, kf, f] of cases) {
    const out = kernels.align(kf, f, identity4());
    assert.equal(out.ok, false, name);
    assert.ok(out.reason.length > 0, `${name}: a reason is given`);
    assert.ok(isFiniteMatrix(out.pose), `${name}: pose is finite`);
    assert.ok(Number.isFinite(out.rms) && Number.isFinite(out.gain), `${name}: measures are finite`);
  }
  // NaN depth frames are still valid tracking targets; only their depth is unusable.
  const info = frameOf(nanDepth).info();
  assert.deepEqual(info.points, [0, 0, 0, 0]);
});

test('bad arguments throw errors that name the problem', () => {
  const good = renderView(identity4(), { intrinsics: K });
  const f = frameOf(good);
  const base = { width: K.width, height: K.height, fx: K.fx, fy: K.fy, cx: K.cx, cy: K.cy };
  assert.throws(() => new kernels.Frame({ ...base, rgb: new Uint8Array(10) }), /rgb.*bytes/);
  assert.throws(
    () => new kernels.Frame({ ...base, rgb: good.rgb.data, depth: new Float32Array(3) }),
    /depth/,
  );
  assert.throws(() => new kernels.Frame({ ...base, rgb: good.rgb.data, fx: -1 }), /fx/);
  assert.throws(() => new kernels.Frame({ ...base, rgb: good.rgb.data, levels: 0 }), /levels/);
  assert.throws(() => kernels.align({} as NativeFrame, f, identity4()), /keyframe.*tracking\.Frame/);
  assert.throws(() => kernels.align(f, f, new Float64Array(16)), /rigid/);
  assert.throws(() => kernels.align(f, f, new Float64Array(16).fill(NaN)), /non-finite/);
  assert.throws(() => kernels.align(f, f, identity4(), { huberK: -1 }), /positive/);
  const small = renderView(identity4(), { intrinsics: testIntrinsics(64, 48) });
  const g = new kernels.Frame({ ...testIntrinsics(64, 48), rgb: small.rgb.data, depth: small.depth.data });
  assert.throws(() => kernels.align(f, g, identity4()), /differ in size/);
});
