import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../src/cli/command.js';
import { command } from '../../src/cli/commands/synth.js';
import { openDataset } from '../../src/engine/dataset/dataset.js';

test('navws synth writes the dataset its options describe; bad options are usage errors', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'navws-synth-cli-'));
  try {
    const out = path.join(dir, 'ds');
    const args = [
      '--out',
      out,
      '--frames',
      '3',
      '--width',
      '96',
      '--height',
      '72',
      '--fps',
      '25',
      '--fov-mask',
    ];
    assert.equal(await command.run([...args, '--quiet', '--depth-scale', '50']), 0);
    const ds = await openDataset(out);
    assert.equal(ds.rgbFiles.length, 3);
    assert.equal(ds.depthFiles.length, 3);
    assert.equal(ds.intrinsics.width, 96);
    assert.equal(ds.intrinsics.fps, 25);
    assert.equal(ds.intrinsics.depth_scale, 50);
    assert.equal(ds.intrinsics.fx, 80, 'focal scales with the width: 320 * 96 / 384');
    assert.equal(ds.groundTruth!.length, 3);
    assert.ok(ds.meshFile);
    await assert.rejects(command.run([...args, '--quiet']), /already holds a dataset/);
    assert.equal(await command.run([...args, '--quiet', '--force', '--seed', '9']), 0);
    await assert.rejects(command.run(['--frames', '3']), UsageError);
    await assert.rejects(command.run(['--out', out, '--frames', 'three']), UsageError);
    await assert.rejects(command.run(['--out', out, '--frames', '0', '--force']), UsageError);
    await assert.rejects(command.run(['--out', out, '--bogus']), UsageError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
