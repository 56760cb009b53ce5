/**
 * ONNX-vs-PyTorch parity: runs the exported graphs in onnxruntime-node (CPU) on the inputs export.py
 * saved, compares with the PyTorch outputs saved next to them, and records the max abs differences in
 * the manifest.
 *
 *   npx tsx training/check_onnx.ts --models models --parity training/runs/shipped/parity
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

interface IoSpec {
  name: string;
  shape: number[];
}
interface ModelEntry {
  file: string;
  inputs: IoSpec[];
  outputs: IoSpec[];
  parity?: Record<string, number>;
}
interface Manifest {
  models: Record<string, ModelEntry>;
}

async function readBin(dir: string, name: string): Promise<Float32Array> {
  const buf = await readFile(path.join(dir, `${name}.bin`));
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { models: { type: 'string', default: 'models' }, parity: { type: 'string' } },
  });
  if (!values.parity) throw new Error('--parity <dir> is required');
  const manifestFile = path.join(values.models, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
  for (const [key, entry] of Object.entries(manifest.models)) {
    const session = await ort.InferenceSession.create(path.join(values.models, entry.file), {
      executionProviders: ['cpu'],
      intraOpNumThreads: 2,
    });
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of entry.inputs) {
      feeds[input.name] = new ort.Tensor('float32', await readBin(values.parity, input.name), input.shape);
    }
    const out = await session.run(feeds);
    const parity: Record<string, number> = {};
    for (const output of entry.outputs) {
      const expected = await readBin(values.parity, output.name);
      const got = out[output.name]!.data as Float32Array;
      if (got.length !== expected.length) throw new Error(`${key}.${output.name}: ${got.length} values, expected ${expected.length}`);
      let maxAbs = 0;
      for (let i = 0; i < got.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i]! - expected[i]!));
      parity[output.name] = maxAbs;
    }
    entry.parity = parity;
    console.log(`${key}: max |onnxruntime - pytorch| ${JSON.stringify(parity)}`);
    await session.release();
  }
  await writeFile(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
}

await main();
