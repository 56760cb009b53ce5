import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readTum } from '../../src/engine/dataset/trajectory.js';
import { readPly } from '../../src/engine/formats/ply.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sample = path.join(root, 'samples', 'phantom');

function navws(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src', 'cli', 'navws.ts'), ...args],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('navws --help lists every command; each command has --help', () => {
  const r = navws('--help');
  assert.equal(r.status, 0);
  for (const cmd of ['synth', 'eval', 'eval-depth', 'reconstruct', 'bench'])
    assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`));
  const sub = navws('reconstruct', '--help');
  assert.equal(sub.status, 0);
  assert.match(sub.stdout, /--depth network\|stereo\|gt/);
});

test('bad input ends with a one-line reason and a non-zero exit code', () => {
  const cases: [string[], RegExp, number][] = [
    [['frobnicate'], /unknown command 'frobnicate'/, 2],
    [['reconstruct', sample], /--out DIR is required/, 2],
    [['reconstruct', '/no/such/dataset', '--out', '/tmp/x'], /no such file or folder/, 2],
    [
      ['reconstruct', sample, '--out', '/tmp/x', '--depth', 'magic'],
      /--depth must be network, stereo or gt/,
      2,
    ],
  ];
  for (const [args, reason, code] of cases) {
    const r = navws(...args);
    assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, reason);
  }
});

test('reconstruct --depth gt --poses gt fuses the ground truth into the output folder contract', async () => {
  const out = await mkdtemp(path.join(tmpdir(), 'navws-recon-'));
  try {
    const r = navws(
      'reconstruct',
      sample,
      '--out',
      out,
      '--depth',
      'gt',
      '--poses',
      'gt',
      '--max-frames',
      '12',
      '--save-depth',
      '--quiet',
    );
    assert.equal(r.status, 0, r.stderr);
    const trajectory = await readTum(path.join(out, 'trajectory.txt'));
    assert.equal(trajectory.length, 12);
    // World = first camera: the first pose is the identity.
    trajectory[0]!.pose.forEach((v, i) => assert.ok(Math.abs(v - (i % 5 === 0 ? 1 : 0)) < 1e-6));
    const mesh = await readPly(path.join(out, 'mesh.ply'));
    assert.ok(mesh.positions.length / 3 > 1000, `only ${mesh.positions.length / 3} vertices`);
    assert.ok(mesh.colors && mesh.normals);
    assert.ok(existsSync(path.join(out, 'depth', '000011.png')));
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    assert.deepEqual(report.frames, { in: 12, processed: 12, dropped: 0, keyframes: 12, lost: 0 });
    assert.equal(report.stages.fusion.count, 12);
    assert.ok(report.metrics, 'metrics are computed when the input has ground truth');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('reconstruct on the product path (network depth, photometric tracking, fusion) runs the bundled clip', async () => {
  const out = await mkdtemp(path.join(tmpdir(), 'navws-product-'));
  try {
    const r = navws('reconstruct', sample, '--out', out, '--quiet');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    assert.deepEqual(report.modes, { depth: 'network', poses: 'track' });
    assert.equal(report.frames.processed, 60);
    // The keyframe schedule: the pose head on every frame, the depth network on keyframes only.
    assert.equal(report.schedule, 'keyframes');
    assert.equal(report.stages.poseHead.count, 60);
    assert.ok(
      report.stages.depth.count >= report.frames.keyframes && report.stages.depth.count < 30,
      `depth network ran ${report.stages.depth.count} times for ${report.frames.keyframes} keyframes`,
    );
    assert.equal(report.executionProvider, 'cpu');
    const trajectory = await readTum(path.join(out, 'trajectory.txt'));
    assert.ok(trajectory.length >= 55, `only ${trajectory.length} frames tracked`);
    // Monocular depth has no absolute scale; after a similarity alignment the path must still match.
    assert.ok(
      report.metrics.trajectory.ateSim3.rmse < 1,
      `ATE Sim(3) ${report.metrics.trajectory.ateSim3.rmse} mm`,
    );
    const mesh = await readPly(path.join(out, 'mesh.ply'));
    assert.ok(mesh.positions.length / 3 > 1000, `only ${mesh.positions.length / 3} vertices`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
