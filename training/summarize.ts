/**
 * Summarises a training run (log.jsonl + split.json) into the JSON that export.py merges into
 * models/manifest.json's "training" field, including the generator options of the held-out test
 * sequences (so `navws eval-depth` can regenerate them without training/data), and prints the
 * validation curve as a Markdown table for training/README.md.
 *
 *   npx tsx training/summarize.ts --run training/runs/shipped > training/runs/shipped/summary.md
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sequenceOptions } from './make_data.js';

interface Metrics {
  abs_rel: number;
  sq_rel: number;
  rmse: number;
  log_rmse: number;
  delta1: number;
}
interface LogRow {
  event: string;
  step?: number;
  elapsed_s?: number;
  args?: Record<string, unknown>;
  config?: Record<string, unknown>;
  train_samples?: number;
  raw?: Metrics;
  median_scaled?: Metrics;
  pose_rot_err_deg?: number;
  pose_trans_err_mm?: number;
  total?: number;
  supervised?: number;
  photometric?: number;
  smoothness?: number;
  pose?: number;
  torch?: string;
}

const seedOf = (name: string): number => Number(name.replace(/^phantom-/, ''));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { run: { type: 'string', default: 'training/runs/shipped' }, frames: { type: 'string', default: '64' } } });
  const run = values.run;
  const rows = (await readFile(path.join(run, 'log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LogRow);
  const split = JSON.parse(await readFile(path.join(run, 'split.json'), 'utf8')) as Record<'train' | 'val' | 'test', string[]>;
  const start = [...rows].reverse().find((r) => r.event === 'start')!;
  const startIndex = rows.lastIndexOf(start);
  const mine = rows.slice(startIndex);
  const vals = mine.filter((r) => r.event === 'val');
  const trains = mine.filter((r) => r.event === 'train');
  const end = mine.find((r) => r.event === 'end');
  const best = vals.reduce((b, v) => (v.raw && (!b?.raw || v.raw.abs_rel < b.raw.abs_rel) ? v : b), vals[0]);
  const frames = Number(values.frames);
  const a = start.args ?? {};
  const summary = {
    hardware: 'CPU only (no GPU in this task): 1 thread of a shared 2-core machine, nice -n 10',
    command:
      `/usr/bin/python3 training/train.py --data ${String(a.data)} --out ${String(a.out)} --width ${String(a.width)} ` +
      `--pose-width ${String(a.pose_width)} --size ${String(a.size)} --batch ${String(a.batch)} --steps ${String(a.steps)} ` +
      `--val-every ${String(a.val_every)} --val-frames ${String(a.val_frames)} --threads ${String(a.threads)} --seed ${String(a.seed)}` +
      (a.max_minutes ? ` --max-minutes ${String(a.max_minutes)}` : ''),
    data_command: `npx tsx training/make_data.ts --sequences 48 --frames ${frames} --first-seed 1000`,
    torch: start.torch,
    train_resolution: a.size,
    batch: a.batch,
    steps: end?.step ?? trains.at(-1)?.step,
    wall_seconds: end?.elapsed_s ?? trains.at(-1)?.elapsed_s,
    seed: a.seed,
    train_samples: start.train_samples,
    data:
      'NavWS phantom (src/synth) sequences, 384x288 rendered, area-resized to the training size; per-seed ' +
      'focal length, speed, gain, noise, FOV mask, smoke, motion blur; ~30% the hard variant. Split by sequence.',
    split: { train: split.train.length, val: split.val, test: split.test },
    test_sequences: split.test.map((name) => ({ name, options: sequenceOptions(seedOf(name), frames) })),
    best_validation: best ? { step: best.step, raw: best.raw, median_scaled: best.median_scaled, pose_rot_err_deg: best.pose_rot_err_deg, pose_trans_err_mm: best.pose_trans_err_mm } : null,
    validation_curve: vals.map((v) => ({ step: v.step, abs_rel_raw: v.raw?.abs_rel, abs_rel_median: v.median_scaled?.abs_rel, rmse_raw: v.raw?.rmse, delta1_raw: v.raw?.delta1, pose_trans_err_mm: v.pose_trans_err_mm })),
  };
  await writeFile(path.join(run, 'training-summary.json'), JSON.stringify(summary, null, 2) + '\n');

  const f = (v: number | undefined, d = 3): string => (v === undefined ? '-' : v.toFixed(d));
  const lines = [
    '| step | time (s) | train loss (total / supervised / photometric) | val AbsRel raw | val AbsRel median | val RMSE raw (mm) | val d<1.25 raw | pose err (deg / mm) |',
    '|---:|---:|---|---:|---:|---:|---:|---|',
  ];
  for (const v of vals) {
    const t = [...trains].reverse().find((r) => (r.step ?? 0) <= (v.step ?? 0));
    lines.push(
      `| ${v.step} | ${f(v.elapsed_s, 0)} | ${f(t?.total)} / ${f(t?.supervised)} / ${f(t?.photometric)} | ${f(v.raw?.abs_rel)} | ${f(v.median_scaled?.abs_rel)} | ${f(v.raw?.rmse, 2)} | ${f(v.raw?.delta1)} | ${f(v.pose_rot_err_deg, 2)} / ${f(v.pose_trans_err_mm, 2)} |`,
    );
  }
  console.log(lines.join('\n'));
}

await main();
