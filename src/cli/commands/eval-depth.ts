/** `navws eval-depth`: accuracy of the shipped depth network on held-out phantom sequences and real data. */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DepthMetrics } from '../../eval/depth-metrics.js';
import type { PhantomOptions } from '../../synth/index.js';
import { DepthClient } from '../../workers/depth/client.js';
import {
  type DepthEvalRow,
  evaluateDataset,
  evaluateLiver,
  evaluatePhantom,
} from '../../workers/depth/evaluation.js';
import { defaultModelDir } from '../../workers/depth/manifest.js';
import { PROVIDER_NAMES, type ProviderRequest } from '../../workers/depth/providers.js';
import { type CliCommand, UsageError, parseCliArgs } from '../command.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const defaultReal = path.resolve(root, '..', 'shared', 'data', 'real', 'opencas-liver');

const usage = `usage: navws eval-depth [options]

Runs the depth network (models/manifest.json) and prints the method's Table 1 metrics (AbsRel, SqRel,
RMSE, logRMSE, delta<1.25), raw and median-scaled, on
  - the held-out phantom test sequences listed in the manifest (regenerated with src/synth), and/or
    dataset folders with depth/ given by --dataset;
  - the Open-CAS porcine liver frame (Maier-Hein et al., "Comparative validation of single-shot optical
    techniques for laparoscopic 3-D surface reconstruction", IEEE TMI 2014): prediction on img_rec_left.png,
    compared at the CT surface points (ct_surface.xyz) projected with calib.left.intrinsics.txt.

options:
  --models DIR        model folder (default: models/)
  --provider NAME     ${PROVIDER_NAMES.join(' | ')} (default auto)
  --dataset DIR       evaluate this dataset folder too (repeatable)
  --no-phantom        skip the manifest's held-out phantom sequences
  --frames N          frames per sequence (default 32)
  --real DIR          Open-CAS liver folder (default ../shared/data/real/opencas-liver; skipped if absent)
  --no-real           skip the liver frame
  --max-depth MM      ignore ground truth beyond this (default: the model's maximum depth)
  --json FILE         also write the results as JSON`;

interface TestSequence {
  name: string;
  options: PhantomOptions;
}

async function heldOutSequences(modelDir: string): Promise<TestSequence[]> {
  const file = path.join(modelDir, 'manifest.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as { training?: { test_sequences?: unknown } };
  const list = manifest.training?.test_sequences;
  if (!Array.isArray(list))
    throw new Error(`${file}: training.test_sequences is missing (which phantom sequences are held out?)`);
  return list.map((entry, i) => {
    const e = entry as Partial<TestSequence>;
    if (typeof e.name !== 'string' || typeof e.options !== 'object' || e.options === null) {
      throw new Error(`${file}: training.test_sequences[${i}] needs a name and generator options`);
    }
    return { name: e.name, options: e.options };
  });
}

const f = (v: number, digits = 3): string => v.toFixed(digits).padStart(8);

function formatRow(row: DepthEvalRow, mode: string, m: DepthMetrics): string {
  return (
    `${row.name.padEnd(20)} ${mode.padEnd(7)}${f(m.absRel)}${f(m.sqRel)}${f(m.rmse, 2)}${f(m.logRmse)}${f(m.delta1)}` +
    `${String(row.frames).padStart(7)}${String(Math.round(m.count / Math.max(1, row.frames))).padStart(9)}`
  );
}

export function formatTable(rows: readonly DepthEvalRow[]): string {
  const lines = [
    `${'sequence'.padEnd(20)} ${'scaling'.padEnd(7)}${'AbsRel'.padStart(8)}${'SqRel'.padStart(8)}${'RMSE mm'.padStart(8)}` +
      `${'logRMSE'.padStart(8)}${'d<1.25'.padStart(8)}${'frames'.padStart(7)}${'px/frame'.padStart(9)}`,
  ];
  for (const r of rows) {
    lines.push(formatRow(r, 'raw', r.raw));
    lines.push(formatRow(r, 'median', r.medianScaled));
    lines.push(formatRow(r, 'const*', r.constantMedianScaled));
  }
  lines.push(
    'const* = reference: a constant depth, median-scaled (what knowing only the typical distance scores)',
  );
  return lines.join('\n');
}

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`--${name} expects a positive integer, got '${v}'`);
  return n;
}

export const command: CliCommand = {
  name: 'eval-depth',
  summary: 'depth network accuracy (AbsRel, RMSE, ...) on held-out phantom sequences and the Open-CAS liver',
  usage,
  async run(argv) {
    const { values } = parseCliArgs({
      args: argv,
      options: {
        models: { type: 'string' },
        provider: { type: 'string', default: 'auto' },
        dataset: { type: 'string', multiple: true },
        'no-phantom': { type: 'boolean', default: false },
        frames: { type: 'string' },
        real: { type: 'string' },
        'no-real': { type: 'boolean', default: false },
        'max-depth': { type: 'string' },
        json: { type: 'string' },
      },
    });
    const provider = values.provider as ProviderRequest;
    if (!PROVIDER_NAMES.includes(provider))
      throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(', ')}`);
    const frames = positiveInt('frames', values.frames, 32);
    const modelDir = path.resolve(values.models ?? defaultModelDir());
    for (const d of values.dataset ?? [])
      if (!existsSync(d)) throw new UsageError(`--dataset ${d}: no such folder`);
    if (values.real && !existsSync(values.real))
      throw new UsageError(`--real ${values.real}: no such folder`);

    const client = await DepthClient.start({ modelDir, provider });
    const maxDepth = values['max-depth'] ? Number(values['max-depth']) : client.info.depthRangeMm[1];
    if (!(maxDepth > 0)) throw new UsageError(`--max-depth expects a positive number`);
    console.log(`depth network: ${modelDir} (execution provider ${client.executionProvider})`);
    const rows: DepthEvalRow[] = [];
    try {
      if (!values['no-phantom']) {
        for (const seq of await heldOutSequences(modelDir)) {
          rows.push(await evaluatePhantom(client, seq.name, seq.options, frames, maxDepth));
        }
      }
      for (const d of values.dataset ?? []) rows.push(await evaluateDataset(client, d, frames, maxDepth));
      const real = values.real ?? defaultReal;
      if (!values['no-real']) {
        if (existsSync(real)) rows.push(await evaluateLiver(client, real, maxDepth));
        else console.log(`(skipping the real liver frame: ${real} not found)`);
      }
    } finally {
      await client.close();
    }
    if (rows.length === 0) throw new UsageError('nothing to evaluate');
    const phantomRows = rows.filter((r) => r.name !== 'opencas-liver');
    console.log(formatTable(rows));
    if (phantomRows.length > 1) {
      const mean = (k: 'raw' | 'medianScaled' | 'constantMedianScaled'): number =>
        phantomRows.reduce((s, r) => s + r[k].absRel, 0) / phantomRows.length;
      console.log(
        `phantom mean over ${phantomRows.length} sequences: AbsRel raw ${mean('raw').toFixed(3)}, median-scaled ${mean('medianScaled').toFixed(3)} (constant reference ${mean('constantMedianScaled').toFixed(3)})`,
      );
    }
    if (rows.some((r) => r.name === 'opencas-liver')) {
      console.log(
        'opencas-liver: Open-CAS porcine liver, Stereo_SD_d_complete_22 (Maier-Hein et al., IEEE TMI 2014), CT surface points',
      );
    }
    if (values.json)
      await writeFile(
        values.json,
        JSON.stringify({ modelDir, executionProvider: client.executionProvider, rows }, null, 2) + '\n',
      );
    return 0;
  },
};
