/** `navws eval <dataset> <output>`: metrics of a reconstruction against the dataset's ground truth. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type EvaluationOptions, evaluateReconstruction, formatEvaluation } from '../../eval/evaluate.js';
import { type CliCommand, UsageError, parseCliArgs } from '../command.js';

const usage = `usage: navws eval <dataset> <output> [options]

Compares a reconstruction output folder with a dataset's ground truth and prints a table:
  trajectory.txt vs groundtruth.txt  ATE RMSE after SE(3) and Sim(3) alignment, RPE (translation, rotation)
                                     and the tracking metrics (reprojection error of keyframe points,
                                     triangulated points) using the dataset's depth
  depth/ vs depth/                   AbsRel, SqRel, RMSE, logRMSE, delta<1.25^k, raw and median-scaled
  mesh.ply vs mesh.ply               accuracy (median, p90), completeness, Chamfer, F-score
Writes the full results (with per-frame depth metrics) to <output>/eval.json.
A dataset folder may be given as <output>; evaluating a dataset against itself gives zero error.

options:
  --json FILE            write the JSON here instead of <output>/eval.json
  --max-depth MM         depth cap of the depth metrics (default: none)
  --rpe-delta N          frame delta of the RPE (default 1)
  --keyframe-gap N       frames between keyframe and tracked frame (default 5)
  --reproj-threshold PX  reprojection threshold of a triangulated point (default 2)
  --surface-threshold MM threshold of completeness and F-score (default 1)
  --mesh-align MODE      none | se3 | sim3: move the mesh by the trajectory alignment first (default none)`;

function positive(name: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} expects a positive ${integer ? 'integer' : 'number'}, got '${value}'`);
  }
  return n;
}

export const command: CliCommand = {
  name: 'eval',
  summary: 'metrics of a reconstruction (trajectory, tracking, depth, surface) against ground truth',
  usage,
  async run(argv) {
    const parsed = parseCliArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'string' },
        'max-depth': { type: 'string' },
        'rpe-delta': { type: 'string' },
        'keyframe-gap': { type: 'string' },
        'reproj-threshold': { type: 'string' },
        'surface-threshold': { type: 'string' },
        'mesh-align': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (positionals.length !== 2) throw new UsageError('expects two arguments: <dataset> <output>');
    const [dataset, output] = positionals as [string, string];
    const align = values['mesh-align'] ?? 'none';
    if (align !== 'none' && align !== 'se3' && align !== 'sim3') {
      throw new UsageError(`--mesh-align expects none, se3 or sim3, got '${align}'`);
    }
    const options: EvaluationOptions = {
      maxDepth: positive('max-depth', values['max-depth'], false),
      rpeDelta: positive('rpe-delta', values['rpe-delta'], true),
      keyframeGap: positive('keyframe-gap', values['keyframe-gap'], true),
      reprojectionThreshold: positive('reproj-threshold', values['reproj-threshold'], false),
      surfaceThreshold: positive('surface-threshold', values['surface-threshold'], false),
      meshAlignment: align,
    };
    const report = await evaluateReconstruction(dataset, output, options);
    const jsonFile = values.json ?? path.join(output, 'eval.json');
    await mkdir(path.dirname(jsonFile), { recursive: true });
    await writeFile(jsonFile, JSON.stringify(report, null, 2) + '\n');
    console.log(formatEvaluation(report));
    process.stderr.write(`eval: wrote ${jsonFile}\n`);
    return 0;
  },
};
