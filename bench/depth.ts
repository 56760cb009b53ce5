/**
 * npm run bench:depth — depth network speed on this CPU, against a plain ResNet34-UNet measured in the
 * same run (same input size, same export settings, same onnxruntime-node session options).
 *
 * Measured, interleaved round by round so both see the same machine load:
 *   shipped@native   the shipped depth graph at the input size its manifest declares
 *   shipped@WxH      the shipped depth graph at the comparison size (default 384x288)
 *   baseline@WxH     plain ResNet34-UNet at the comparison size (exported by training/export_baseline.py;
 *                    needs /usr/bin/python3 with torch, or pass --baseline FILE.onnx)
 *   client@WxH       DepthClient.estimate on WxH frames: resize + depth + pose + upsampling, in its worker
 *
 *   npm run bench:depth -- [--size 384x288] [--rounds 15] [--threads 2] [--baseline FILE.onnx]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { DepthClient } from '../src/workers/depth/client.js';
import { defaultModelDir, loadManifest } from '../src/workers/depth/manifest.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '384x288' },
    rounds: { type: 'string', default: '15' },
    threads: { type: 'string', default: '2' },
    baseline: { type: 'string' },
    models: { type: 'string' },
  },
});
const [width, height] = values.size.split('x').map(Number) as [number, number];
const rounds = Number(values.rounds);
const threads = Number(values.threads);
if (!(width > 0 && height > 0 && rounds > 0 && threads > 0))
  throw new Error('bad --size, --rounds or --threads');
const modelDir = values.models ?? defaultModelDir();

function exportBaseline(): { file: string; cleanup: () => void } {
  if (values.baseline) return { file: values.baseline, cleanup: () => undefined };
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `the ResNet34-UNet baseline is exported with ${PYTHON} + torch (apt-get install python3-torch python3-torchvision python3-onnx), or pass --baseline FILE.onnx`,
    );
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'navws-bench-depth-'));
  const file = path.join(dir, 'resnet34-unet.onnx');
  const r = spawnSync(
    PYTHON,
    [path.join(root, 'training', 'export_baseline.py'), '--out', file, '--size', `${width}x${height}`],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`baseline export failed: ${r.stderr.trim().split('\n').at(-1)}`);
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const sessionOptions: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
};

interface Runner {
  name: string;
  run: () => Promise<unknown>;
  times: number[];
}

function graphRunner(
  name: string,
  session: ort.InferenceSession,
  w: number,
  h: number,
  memory: number[] | null,
): Runner {
  const feeds: Record<string, ort.Tensor> = {
    image: new ort.Tensor(
      'float32',
      new Float32Array(3 * w * h).map((_, i) => (i % 97) / 97),
      [1, 3, h, w],
    ),
  };
  if (memory)
    feeds.memory_in = new ort.Tensor('float32', new Float32Array(memory.reduce((a, b) => a * b, 1)), memory);
  return { name, run: () => session.run(feeds), times: [] };
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const manifest = await loadManifest(modelDir);
  const depthEntry = manifest.models.depth;
  const image = depthEntry.inputs.find((t) => t.name === 'image')!.shape;
  const memory = depthEntry.inputs.find((t) => t.name === 'memory_in')!.shape;
  const [nativeH, nativeW] = [image[2]!, image[3]!];
  const depthFile = path.join(modelDir, depthEntry.file);
  const baseline = exportBaseline();
  try {
    const shipped = await ort.InferenceSession.create(depthFile, sessionOptions);
    const shippedBig = await ort.InferenceSession.create(depthFile, sessionOptions);
    const unet = await ort.InferenceSession.create(baseline.file, sessionOptions);
    const client = await DepthClient.start({ modelDir, provider: 'cpu', threads });
    const frame = {
      rgb: { width, height, data: new Uint8Array(width * height * 3).map((_, i) => (i * 37) % 251) },
      intrinsics: {
        width,
        height,
        fx: 0.83 * width,
        fy: 0.83 * width,
        cx: (width - 1) / 2,
        cy: (height - 1) / 2,
      },
    };
    const runners: Runner[] = [
      graphRunner(`shipped depth graph @${nativeW}x${nativeH} (native)`, shipped, nativeW, nativeH, memory),
      graphRunner(`shipped depth graph @${width}x${height}`, shippedBig, width, height, memory),
      graphRunner(`ResNet34-UNet baseline @${width}x${height}`, unet, width, height, null),
      {
        name: `DepthClient.estimate, ${width}x${height} frames (depth+pose)`,
        run: () => client.estimate(frame),
        times: [],
      },
    ];
    for (const r of runners) for (let i = 0; i < 2; i++) await r.run(); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const r of runners) {
        const t = performance.now();
        await r.run();
        r.times.push(performance.now() - t);
      }
    }
    await client.close();
    const base = median(runners[2]!.times);
    console.log(
      `bench:depth  CPU ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, ${threads} intra-op threads, ${rounds} rounds, median ms/frame`,
    );
    for (const r of runners) {
      const m = median(r.times);
      console.log(
        `  ${r.name.padEnd(56)} ${m.toFixed(1).padStart(8)} ms   x${(base / m).toFixed(2)} vs baseline`,
      );
    }
    const sizes = [depthEntry, manifest.models.pose].map((e) => e.bytes);
    console.log(
      `  model files: depth ${(sizes[0]! / 1e6).toFixed(1)} MB + pose ${(sizes[1]! / 1e6).toFixed(1)} MB = ${((sizes[0]! + sizes[1]!) / 1e6).toFixed(1)} MB` +
        (existsSync(baseline.file) ? `; baseline ${(statSync(baseline.file).size / 1e6).toFixed(1)} MB` : ''),
    );
  } finally {
    baseline.cleanup();
  }
}

await main();
