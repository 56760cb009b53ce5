import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openDataset, readDatasetDepth, readDatasetRgb } from '../../src/engine/dataset/dataset.js';
import { readPly } from '../../src/engine/formats/ply.js';
import { backproject, project } from '../../src/shared/camera.js';
import { invertRigid, isRigid, multiply4, transformPoint } from '../../src/shared/math/mat4.js';
import { TriangleGrid } from '../../src/eval/point-mesh-distance.js';
import { Phantom, generatePhantom, writePhantomDataset } from '../../src/synth/index.js';

// Small frames keep the suite fast; the scene and path do not depend on the resolution.
const SMALL = { width: 128, height: 96, frames: 6, seed: 5 } as const;
let shared: Phantom | null = null;
const base = (): Phantom => (shared ??= new Phantom(SMALL));

test('same seed and options give identical frames in any rendering order; another seed does not', () => {
  const a = base().renderFrame(3);
  const other = new Phantom(SMALL);
  for (let i = 0; i < 3; i++) other.renderFrame(i);
  const b = other.renderFrame(3);
  assert.deepEqual(a.rgb.data, b.rgb.data);
  assert.deepEqual(a.depth.data, b.depth.data);
  assert.deepEqual(a.pose, b.pose);
  const c = new Phantom({ ...SMALL, seed: 6 }).renderFrame(3);
  assert.notDeepEqual(a.rgb.data, c.rgb.data);
});

test('a seed is one tissue: a longer or faster sequence starts with the same view', () => {
  const a = base().renderFrame(0);
  const b = new Phantom({ ...SMALL, frames: 40, speed: 0.9 }).renderFrame(0);
  let depthDiff = 0;
  let rgbDiff = 0;
  for (let i = 0; i < a.depth.data.length; i++)
    depthDiff = Math.max(depthDiff, Math.abs(a.depth.data[i]! - b.depth.data[i]!));
  for (let i = 0; i < a.rgb.data.length; i++)
    rgbDiff += Math.abs(a.rgb.data[i]! - b.rgb.data[i]!) / a.rgb.data.length;
  assert.ok(depthDiff < 1e-3, `depth differs by up to ${depthDiff} mm`);
  assert.ok(rgbDiff < 0.5, `mean colour difference ${rgbDiff} levels`);
});

test('poses: first is the identity, all rigid, the scope moves and turns, timestamps follow fps', async () => {
  const frames = [];
  for await (const f of generatePhantom({ ...SMALL, fps: 25 })) frames.push(f);
  assert.equal(frames.length, SMALL.frames);
  assert.deepEqual(Array.from(frames[0]!.pose), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  for (const f of frames) assert.ok(isRigid(f.pose, 1e-9), `pose ${f.index} is rigid`);
  assert.equal(frames[5]!.timestamp, 5 / 25);
  const last = frames[5]!.pose;
  const moved = Math.hypot(last[3]!, last[7]!, last[11]!);
  // 5 frames at the default 0.35 mm/frame, within the path's speed variation.
  assert.ok(moved > 0.5 && moved < 4, `moved ${moved} mm`);
  assert.ok(last[0]! < 0.99999, 'the scope rotates');
});

test('depth range and appearance look like endoscopy: pink tissue, dark periphery', () => {
  const f = base().renderFrame(0);
  const { width, height } = f.rgb;
  let zmin = Infinity;
  let zmax = 0;
  for (const z of f.depth.data) {
    assert.ok(z > 0, 'the tissue fills the view');
    zmin = Math.min(zmin, z);
    zmax = Math.max(zmax, z);
  }
  assert.ok(zmin > 20 && zmax < 120, `depth ${zmin}..${zmax} mm`);
  const mean = [0, 0, 0];
  for (let i = 0; i < f.rgb.data.length; i++) mean[i % 3]! += f.rgb.data[i]! / (width * height);
  assert.ok(mean[0]! > mean[1]! + 40 && mean[1]! >= mean[2]! - 10, `mean colour ${mean.map(Math.round)}`);
  const luminance = (u: number, v: number): number => {
    let s = 0;
    for (let dv = 0; dv < 8; dv++)
      for (let du = 0; du < 8; du++) s += f.rgb.data[3 * ((v + dv) * width + u + du)]!;
    return s / 64;
  };
  const centre = luminance(width / 2 - 4, height / 2 - 4);
  const corners = [
    luminance(0, 0),
    luminance(width - 8, 0),
    luminance(0, height - 8),
    luminance(width - 8, height - 8),
  ];
  assert.ok(
    Math.max(...corners) < centre,
    `corners ${corners.map(Math.round)} darker than centre ${Math.round(centre)}`,
  );
});

test('written dataset: depth back-projects onto mesh.ply within 0.05 mm, poses agree across frames', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'navws-phantom-'));
  try {
    const summary = await writePhantomDataset(dir, SMALL);
    assert.equal(summary.frames, SMALL.frames);
    const ds = await openDataset(dir);
    assert.equal(ds.rgbFiles.length, SMALL.frames);
    assert.equal(ds.depthFiles.length, SMALL.frames);
    assert.ok(ds.groundTruth && ds.meshFile);
    const k = ds.intrinsics;
    assert.equal(k.width, 128);
    const mesh = await readPly(ds.meshFile);
    const grid = new TriangleGrid(mesh);
    let worst = 0;
    let checked = 0;
    for (const index of [0, 5]) {
      const depth = await readDatasetDepth(ds, index);
      const pose = ds.groundTruth[index]!.pose;
      for (let v = 0; v < k.height; v += 3) {
        for (let u = 0; u < k.width; u += 3) {
          const z = depth.data[v * k.width + u]!;
          const p = transformPoint(pose, backproject(k, u, v, z));
          worst = Math.max(worst, grid.distance(p[0], p[1], p[2]));
          checked++;
        }
      }
    }
    assert.ok(checked > 2500);
    assert.ok(worst < 0.05, `worst back-projection distance to the mesh ${worst} mm`);

    // Independent of the mesh: a point seen in frame 0 lands where frame 5's depth says it is.
    const d0 = await readDatasetDepth(ds, 0);
    const d5 = await readDatasetDepth(ds, 5);
    const t50 = multiply4(invertRigid(ds.groundTruth[5]!.pose), ds.groundTruth[0]!.pose);
    let agree = 0;
    let total = 0;
    for (let v = 8; v < k.height - 8; v += 4) {
      for (let u = 8; u < k.width - 8; u += 4) {
        const q = transformPoint(t50, backproject(k, u, v, d0.data[v * k.width + u]!));
        const [x, y] = project(k, q)!;
        const x0 = Math.floor(x);
        const y0 = Math.floor(y);
        if (x0 < 0 || y0 < 0 || x0 + 1 >= k.width || y0 + 1 >= k.height) continue;
        total++;
        const at = (xx: number, yy: number): number => d5.data[yy * k.width + xx]!;
        const fx = x - x0;
        const fy = y - y0;
        const z =
          (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) +
          (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
        // Bilinear interpolation of a curved surface: small errors, large only across occluding edges.
        if (Math.abs(z - q[2]) < 0.1) agree++;
      }
    }
    assert.ok(total > 300 && agree / total > 0.95, `${agree}/${total} reprojected depths agree`);
    const rgb = await readDatasetRgb(ds, 2);
    assert.equal(rgb.data.length, 128 * 96 * 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('writing refuses to replace an existing dataset unless asked', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'navws-phantom-'));
  try {
    await writeFile(path.join(dir, 'intrinsics.json'), '{}');
    await assert.rejects(writePhantomDataset(dir, { ...SMALL, frames: 2 }), /already holds a dataset/);
    await writePhantomDataset(dir, { ...SMALL, frames: 2 }, { overwrite: true });
    assert.equal((await openDataset(dir)).rgbFiles.length, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('hard variant and field-of-view mask', () => {
  const easy = base().renderFrame(2);
  const hard = new Phantom({ ...SMALL, frames: 3, hard: true }).renderFrame(2);
  const saturated = (d: Uint8Array): number => d.filter((x) => x === 255).length;
  assert.ok(saturated(hard.rgb.data) > saturated(easy.rgb.data), 'hard light saturates more highlights');
  const masked = new Phantom({ ...SMALL, frames: 1, fovMask: true }).renderFrame(0);
  assert.equal(masked.depth.data[0], 0, 'no depth outside the field of view');
  assert.deepEqual(Array.from(masked.rgb.data.subarray(0, 3)), [0, 0, 0]);
  const centre = 48 * 128 + 64;
  assert.ok(masked.depth.data[centre]! > 0);
});

test('invalid options are rejected with the option named', () => {
  assert.throws(() => new Phantom({ frames: 0 }), /frames/);
  assert.throws(() => new Phantom({ width: 10.5 }), /width/);
  assert.throws(() => new Phantom({ speed: -1 }), /speed/);
  assert.throws(() => new Phantom({ motionBlur: 2 }), /motionBlur/);
  assert.throws(() => base().renderFrame(SMALL.frames), /outside/);
});
