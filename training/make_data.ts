/**
 * Renders the training/validation/test sequences of the depth network with the project's phantom
 * generator (src/synth) into dataset folders (docs/formats.md) under training/data/ (git-ignored).
 *
 *   npx tsx training/make_data.ts [--out training/data] [--sequences 48] [--frames 64] [--first-seed 1000]
 *
 * Every sequence draws its conditions from its own seed (deterministic): scope speed, focal length,
 * light gain, sensor noise, circular field-of-view mask, smoke, motion blur, and about a third use the
 * generator's 'hard' variant. Texture and geometry vary with the seed itself.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type PhantomOptions, writePhantomDataset } from '../src/synth/index.js';

/** Small deterministic generator (mulberry32) so the conditions depend on the seed only. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sequenceOptions(seed: number, frames: number): PhantomOptions {
  const r = rng(seed * 7919 + 17);
  const u = (lo: number, hi: number): number => lo + (hi - lo) * r();
  const hard = r() < 0.3;
  const opts: PhantomOptions = {
    seed,
    frames,
    width: 384,
    height: 288,
    focal: u(220, 380),
    hard,
    fovMask: r() < 0.35,
  };
  if (!hard) {
    opts.speed = u(0.3, 1.2);
    opts.gain = u(0.7, 1.5);
    opts.noise = u(0.5, 3);
    opts.smoke = r() < 0.2 ? u(0.1, 0.8) : 0;
    opts.motionBlur = r() < 0.2 ? u(0.1, 0.6) : 0;
  }
  return opts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'training/data' },
      sequences: { type: 'string', default: '48' },
      frames: { type: 'string', default: '64' },
      'first-seed': { type: 'string', default: '1000' },
    },
  });
  const count = Number(values.sequences);
  const frames = Number(values.frames);
  const first = Number(values['first-seed']);
  for (let i = 0; i < count; i++) {
    const seed = first + i;
    const root = path.join(values.out, `phantom-${seed}`);
    if (existsSync(path.join(root, 'groundtruth.txt'))) continue; // finished earlier (resumable)
    const opts = sequenceOptions(seed, frames);
    const s = await writePhantomDataset(root, opts, { overwrite: true });
    console.log(`${root}: ${s.frames} frames in ${s.seconds.toFixed(1)} s ${JSON.stringify(opts)}`);
  }
}

// Runs only as a script (training/summarize.ts imports sequenceOptions).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
