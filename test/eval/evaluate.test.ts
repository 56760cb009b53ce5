import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { command } from '../../src/cli/commands/eval.js';
import { UsageError } from '../../src/cli/command.js';
import { openDataset, readDatasetDepth } from '../../src/engine/dataset/dataset.js';
import { writeDepthPng } from '../../src/engine/dataset/images.js';
import { writeTum } from '../../src/engine/dataset/trajectory.js';
import { readPly, writePly } from '../../src/engine/formats/ply.js';
import { type EvaluationReport, evaluateReconstruction, formatEvaluation } from '../../src/eval/evaluate.js';
import { identity3, rigidFromRt } from '../../src/shared/math/mat4.js';
import { writePhantomDataset } from '../../src/synth/index.js';

let dir = '';
let dataset = '';

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'navws-eval-'));
  dataset = path.join(dir, 'dataset');
  await writePhantomDataset(dataset, { width: 128, height: 96, frames: 12, seed: 3 });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a dataset evaluated against itself has zero error in every part', async () => {
  const r = await evaluateReconstruction(dataset, dataset);
  assert.deepEqual(r.skipped, []);
  assert.ok(r.trajectory && r.tracking && r.depth && r.surface);
  assert.equal(r.trajectory.associated, 12);
  assert.ok(r.trajectory.ateSe3.rmse < 1e-5 && r.trajectory.ateSim3.rmse < 1e-5);
  assert.ok(Math.abs(r.trajectory.ateSim3.scale - 1) < 1e-6);
  assert.ok(r.trajectory.rpe.translationRmse < 1e-5 && r.trajectory.rpe.rotationRmseDeg < 1e-3);
  assert.ok(r.tracking.meanReprojectionError < 1e-4);
  assert.equal(r.tracking.triangulatedPoints, r.tracking.observablePoints);
  assert.equal(r.depth.frames, 12);
  for (const m of [r.depth.raw, r.depth.medianScaled]) {
    assert.equal(m.absRel, 0);
    assert.equal(m.rmse, 0);
    assert.equal(m.delta1, 1);
  }
  assert.ok(r.surface.accuracyP90 < 1e-5 && r.surface.chamfer < 1e-5);
  assert.equal(r.surface.completeness, 1);
  assert.equal(r.surface.fscore, 1);
});

test('a perturbed reconstruction: depth 10 % too far, trajectory at 1.1x scale, mesh 0.5 mm off', async () => {
  const ds = await openDataset(dataset);
  const out = path.join(dir, 'out');
  await mkdir(path.join(out, 'depth'), { recursive: true });
  // Only every other frame has a depth output, as when frames are dropped.
  for (let i = 0; i < 12; i += 2) {
    const d = await readDatasetDepth(ds, i);
    await writeDepthPng(
      path.join(out, 'depth', `${String(i).padStart(6, '0')}.png`),
      { ...d, data: d.data.map((z) => z * 1.1) },
      ds.intrinsics.depth_scale,
    );
  }
  await writeTum(
    path.join(out, 'trajectory.txt'),
    ds.groundTruth!.map((p) => {
      const pose = Float64Array.from(p.pose);
      pose[3] = pose[3]! * 1.1;
      pose[7] = pose[7]! * 1.1;
      pose[11] = pose[11]! * 1.1;
      return { timestamp: p.timestamp, pose };
    }),
  );
  const truthMesh = await readPly(ds.meshFile!);
  const shift = rigidFromRt(identity3(), [0, 0, 0.5]);
  const moved = Float32Array.from(truthMesh.positions);
  for (let i = 2; i < moved.length; i += 3) moved[i]! += shift[11]!;
  await writePly(path.join(out, 'mesh.ply'), { positions: moved, indices: truthMesh.indices });

  const r: EvaluationReport = await evaluateReconstruction(dataset, out);
  assert.ok(r.depth && r.trajectory && r.surface && r.tracking);
  assert.equal(r.depth.frames, 6);
  assert.ok(Math.abs(r.depth.raw.absRel - 0.1) < 2e-4, `AbsRel ${r.depth.raw.absRel}`);
  assert.ok(r.depth.medianScaled.absRel < 2e-4, `median-scaled AbsRel ${r.depth.medianScaled.absRel}`);
  assert.equal(r.depth.raw.delta1, 1);
  assert.ok(Math.abs(r.trajectory.ateSim3.scale - 1 / 1.1) < 1e-6);
  assert.ok(r.trajectory.ateSim3.rmse < 1e-5);
  assert.ok(r.trajectory.ateSe3.rmse > 0.01);
  assert.ok(r.trajectory.rpe.translationRmse > 0 && r.trajectory.rpeSim3Scaled.translationRmse < 1e-5);
  assert.ok(r.tracking.meanReprojectionError > 0);
  // A vertical shift of 0.5 mm is at most 0.5 mm from a sloped surface.
  assert.ok(
    r.surface.accuracyMedian > 0.3 && r.surface.accuracyMedian <= 0.5 + 1e-4,
    `accuracy ${r.surface.accuracyMedian}`,
  );
  assert.ok(r.surface.completeness > 0.95);
  const table = formatEvaluation(r);
  assert.match(table, /ATE RMSE Sim\(3\)/);
  assert.match(table, /AbsRel 0\.1000/);
  // The Sim(3) alignment also applies to the mesh on request (here it scales the shifted mesh by 1/1.1).
  const aligned = await evaluateReconstruction(dataset, out, { meshAlignment: 'sim3' });
  assert.equal(aligned.surface!.meshAlignment, 'sim3');
  assert.notEqual(aligned.surface!.accuracyMedian, r.surface.accuracyMedian);
});

test('navws eval writes eval.json and prints a table; bad arguments are usage errors', async () => {
  const json = path.join(dir, 'self', 'eval.json');
  const log = console.log;
  const lines: string[] = [];
  console.log = (s: string) => lines.push(s);
  try {
    assert.equal(await command.run([dataset, dataset, '--json', json, '--rpe-delta', '2']), 0);
  } finally {
    console.log = log;
  }
  assert.ok(existsSync(json));
  const report = JSON.parse(await readFile(json, 'utf8')) as EvaluationReport;
  assert.equal(report.trajectory!.rpe.delta, 2);
  assert.equal(report.depth!.raw.absRel, 0);
  assert.match(lines.join('\n'), /surface F-score@1 mm\s+1\.0000/);
  await assert.rejects(command.run([dataset]), UsageError);
  await assert.rejects(command.run([dataset, dataset, '--mesh-align', 'affine']), UsageError);
  await assert.rejects(command.run([dataset, dataset, '--max-depth', '-3']), UsageError);
  await assert.rejects(command.run([dataset, path.join(dir, 'missing')]), /does not exist/);
});
