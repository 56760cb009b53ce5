/** Missing, truncated, corrupt or mismatched model files fail with an error naming the file and the problem. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { DepthClient } from '../../src/workers/depth/client.js';
import { DepthEngine } from '../../src/workers/depth/depth-engine.js';
import { defaultModelDir } from '../../src/workers/depth/manifest.js';

interface Entry {
  file: string;
  bytes: number;
  sha256: string;
  inputs: { name: string; shape: number[] }[];
}
type Manifest = { format: string; models: Record<'depth' | 'pose', Entry> };

const models = defaultModelDir();
const manifestText = readFileSync(path.join(models, 'manifest.json'), 'utf8');
const real = JSON.parse(manifestText) as Manifest;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'navws-depth-models-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A model folder: the real files linked in (no 30 MB copies), then `depthBytes` (if given) written as the
 * depth model and `edit` applied to the manifest.
 */
function folder(
  name: string,
  depthBytes: Uint8Array | null | 'real',
  edit: (m: Manifest) => void = () => undefined,
): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const m = JSON.parse(manifestText) as Manifest;
  symlinkSync(path.join(models, real.models.pose.file), path.join(dir, real.models.pose.file));
  const depthFile = path.join(dir, real.models.depth.file);
  if (depthBytes === 'real') symlinkSync(path.join(models, real.models.depth.file), depthFile);
  else if (depthBytes) {
    writeFileSync(depthFile, depthBytes);
    m.models.depth.bytes = depthBytes.length;
    m.models.depth.sha256 = createHash('sha256').update(depthBytes).digest('hex');
  }
  edit(m);
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
  return dir;
}

const depthName = real.models.depth.file.replace(/\./g, '\\.');

test('missing model file', async () => {
  const dir = folder('missing', null);
  await assert.rejects(
    DepthEngine.create({ modelDir: dir }),
    new RegExp(`${depthName}: model file is missing`),
  );
});

test('truncated or replaced model file (size differs from the manifest)', async () => {
  const dir = folder('truncated', 'real', (m) => {
    m.models.depth.bytes += 1;
  });
  await assert.rejects(
    DepthEngine.create({ modelDir: dir }),
    new RegExp(`${depthName}: model file is \\d+ bytes, manifest.json says`),
  );
});

test('corrupt model file (sha256 differs from the manifest)', async () => {
  const dir = folder('corrupt', 'real', (m) => {
    m.models.depth.sha256 = '0'.repeat(64);
  });
  await assert.rejects(
    DepthEngine.create({ modelDir: dir }),
    new RegExp(`${depthName}: model file is corrupt or mismatched`),
  );
});

test('a file that is not an ONNX graph (listed with its own checksum) fails in onnxruntime, named', async () => {
  const dir = folder('garbage', new TextEncoder().encode('not an onnx model'));
  await assert.rejects(
    DepthEngine.create({ modelDir: dir }),
    new RegExp(`${depthName}: onnxruntime cannot load the model`),
  );
});

test('manifest that does not match the graph (input name, shape) or lacks a field', async () => {
  const renamed = folder('renamed', 'real', (m) => {
    m.models.depth.inputs[0]!.name = 'rgb';
  });
  await assert.rejects(
    DepthEngine.create({ modelDir: renamed }),
    /manifest.json: depth model lacks input 'image'/,
  );
  const reshaped = folder('reshaped', 'real', (m) => {
    const mem = m.models.depth.inputs.find((i) => i.name === 'memory_in')!;
    mem.shape = [1, mem.shape[1]! + 1, mem.shape[2]!];
  });
  await assert.rejects(
    DepthEngine.create({ modelDir: reshaped }),
    new RegExp(`${depthName}: input 'memory_in' has shape`),
  );
  const noFile = folder('no-sha', 'real', (m) => {
    (m.models.depth as Partial<Entry>).sha256 = undefined;
  });
  await assert.rejects(
    DepthEngine.create({ modelDir: noFile }),
    /manifest.json: field 'models.depth.sha256'/,
  );
  await assert.rejects(
    DepthEngine.create({ modelDir: path.join(tmp, 'nowhere') }),
    /nowhere.manifest\.json: cannot read model manifest/,
  );
});

test('errors cross the worker boundary intact', async () => {
  const dir = folder('via-worker', null);
  await assert.rejects(
    DepthClient.start({ modelDir: dir }),
    new RegExp(`${depthName}: model file is missing`),
  );
});

test('the packaged layout: the depth stage reads its models from NAVWS_MODELS_DIR (resources/models)', async () => {
  const shipped = folder(path.join('resources', 'models'), 'real');
  const empty = path.join(tmp, 'resources-empty');
  mkdirSync(empty, { recursive: true });
  assert.equal(defaultModelDir({ NAVWS_MODELS_DIR: shipped }), shipped);
  assert.notEqual(defaultModelDir({}), shipped, 'without it: the repository models/');
  const saved = process.env.NAVWS_MODELS_DIR;
  try {
    // What the Electron engine process does with the --models folder main gives it.
    process.env.NAVWS_MODELS_DIR = shipped;
    const client = await DepthClient.start({ provider: 'cpu' });
    await client.close();
    process.env.NAVWS_MODELS_DIR = empty;
    await assert.rejects(DepthClient.start({ provider: 'cpu' }), (err: Error) =>
      err.message.includes(path.join(empty, 'manifest.json')),
    );
  } finally {
    if (saved === undefined) delete process.env.NAVWS_MODELS_DIR;
    else process.env.NAVWS_MODELS_DIR = saved;
  }
});
