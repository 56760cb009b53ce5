// `navws reconstruct --depth stereo` on a stereo phantom (src/synth rendered as a rectified pair, exact
// depth, poses and mesh), and the errors that bad stereo input ends with.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeRgbPng } from '../../src/engine/dataset/images.js';
import { writePhantomDataset } from '../../src/synth/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sample = path.join(root, 'samples', 'phantom');
let tmp = '';
let stereo = '';

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

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'navws-stereo-cli-'));
  stereo = path.join(tmp, 'stereo');
  await writePhantomDataset(stereo, { seed: 5, frames: 16 }, { stereoBaselineMm: 4 });
});
after(() => rm(tmp, { recursive: true, force: true }));

interface Report {
  modes: { depth: string };
  scaleSource: string | null;
  frames: { processed: number; lost: number };
  metrics: {
    trajectory: { ateSe3: { rmse: number } };
    surface: { accuracyMedian: number; completeness: number };
  };
}

test('reconstruct --depth stereo gives a metric trajectory and surface on the stereo phantom', () => {
  const out = path.join(tmp, 'out');
  const r = navws('reconstruct', stereo, '--out', out, '--depth', 'stereo', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  return readFile(path.join(out, 'report.json'), 'utf8').then((text) => {
    const report = JSON.parse(text) as Report;
    assert.equal(report.modes.depth, 'stereo');
    assert.equal(report.scaleSource, 'stereo');
    assert.equal(report.frames.processed, 16);
    assert.equal(report.frames.lost, 0);
    // Metric depth: no scale alignment, sub-millimetre trajectory and surface.
    assert.ok(report.metrics.trajectory.ateSe3.rmse < 0.3, `ATE ${report.metrics.trajectory.ateSe3.rmse} mm`);
    assert.ok(
      report.metrics.surface.accuracyMedian < 0.6,
      `surface ${report.metrics.surface.accuracyMedian} mm`,
    );
    assert.ok(
      report.metrics.surface.completeness > 0.5,
      `completeness ${report.metrics.surface.completeness}`,
    );
  });
});

test('bad stereo input ends with a one-line reason', async () => {
  // A mono dataset.
  let r = navws('reconstruct', sample, '--out', path.join(tmp, 'x1'), '--depth', 'stereo', '--quiet');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--depth stereo needs a stereo dataset folder/);

  // A right view of another size than the left one.
  const sized = path.join(tmp, 'sized');
  await cp(stereo, sized, { recursive: true });
  await writeRgbPng(path.join(sized, 'right', '000003.png'), {
    width: 320,
    height: 240,
    data: new Uint8Array(320 * 240 * 3),
  });
  r = navws('reconstruct', sized, '--out', path.join(tmp, 'x2'), '--depth', 'stereo', '--quiet');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /right[/\\]000003\.png: image is 320x240, intrinsics\.json says 384x288/);

  // A profile for another camera than the frames'.
  const other = path.join(tmp, 'other');
  await cp(stereo, other, { recursive: true });
  const profile = JSON.parse(await readFile(path.join(other, 'stereo.json'), 'utf8')) as {
    left: Record<string, number>;
    right: Record<string, number>;
  };
  profile.left = { ...profile.left, width: 720, height: 576 };
  profile.right = { ...profile.right, width: 720, height: 576 };
  await writeFile(path.join(other, 'stereo.json'), JSON.stringify(profile));
  r = navws('reconstruct', other, '--out', path.join(tmp, 'x3'), '--depth', 'stereo', '--quiet');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /stereo\.json: stereo profile is for 720x576 but intrinsics\.json says 384x288/);

  // A layout the stream does not have.
  const layout = path.join(tmp, 'layout');
  await cp(stereo, layout, { recursive: true });
  await writeFile(
    path.join(layout, 'stereo.json'),
    JSON.stringify({
      ...JSON.parse(await readFile(path.join(stereo, 'stereo.json'), 'utf8')),
      layout: 'top-bottom',
    }),
  );
  r = navws('reconstruct', layout, '--out', path.join(tmp, 'x4'), '--depth', 'stereo', '--quiet');
  assert.notEqual(r.status, 0);
  // It declares both views packed into each frame, while the frames are single views beside right/.
  assert.match(
    r.stderr,
    /layout 'top-bottom' packs both views into each frame, but the dataset also has right\/ frames/,
  );
});
