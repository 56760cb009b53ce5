import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Debian's python3-torch lives in /usr/bin/python3 (the default python3 on PATH may lack it).
const PYTHON = '/usr/bin/python3';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
const skip =
  probe.status === 0
    ? false
    : `needs ${PYTHON} with torch + torchvision (apt-get install python3-torch python3-torchvision)`;

test(
  'PyTorch network: shapes, SAB memory roll, pose output, losses (training/tests)',
  { skip, timeout: 120_000 },
  () => {
    const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', path.join(root, 'training', 'tests')], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Ran \d+ tests/);
    assert.match(r.stderr, /\nOK/);
  },
);
