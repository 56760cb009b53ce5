/**
 * Phantom benchmark: time to generate a dataset with `navws synth` settings, split into scene build,
 * rendering and the dataset's PNG encoding, against the target (100 frames at 384x288 well
 * under a minute on one core). Baseline: encoding the same frames to the dataset's PNGs, i.e. the cost
 * of merely storing a dataset of that size (fast-png, as DatasetWriter does), measured in the same run.
 *
 *   npm run bench:synth -- [--frames 100] [--width 384] [--height 288] [--hard]
 */
import { parseArgs } from 'node:util';
import { encodeDepthPng, encodeRgbPng } from '../src/engine/dataset/images.js';
import { Phantom } from '../src/synth/index.js';

const { values: args } = parseArgs({
  options: {
    frames: { type: 'string', default: '100' },
    width: { type: 'string', default: '384' },
    height: { type: 'string', default: '288' },
    hard: { type: 'boolean', default: false },
  },
});
const cpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

const frames = Number(args.frames);
let wall = performance.now();
let cpu = cpuMs();
const phantom = new Phantom({
  frames,
  width: Number(args.width),
  height: Number(args.height),
  hard: args.hard,
});
const buildWall = performance.now() - wall;
const buildCpu = cpuMs() - cpu;
let renderWall = 0;
let renderCpu = 0;
let encodeWall = 0;
let encodeCpu = 0;
let bytes = 0;
for (let i = 0; i < frames; i++) {
  wall = performance.now();
  cpu = cpuMs();
  const f = phantom.renderFrame(i);
  renderWall += performance.now() - wall;
  renderCpu += cpuMs() - cpu;
  wall = performance.now();
  cpu = cpuMs();
  bytes += encodeRgbPng(f.rgb).length + encodeDepthPng(f.depth, phantom.intrinsics.depth_scale).length;
  encodeWall += performance.now() - wall;
  encodeCpu += cpuMs() - cpu;
}
const k = phantom.intrinsics;
console.log(
  `phantom ${frames} frames ${k.width}x${k.height}${args.hard ? ' (hard)' : ''}; times: wall (cpu)`,
);
console.log(`scene build          ${buildWall.toFixed(0)} ms (${buildCpu.toFixed(0)} ms)`);
console.log(
  `render               ${(renderWall / frames).toFixed(1)} ms/frame (${(renderCpu / frames).toFixed(1)} ms/frame)`,
);
console.log(
  `PNG encode baseline  ${(encodeWall / frames).toFixed(1)} ms/frame (${(encodeCpu / frames).toFixed(1)} ms/frame), ${(bytes / frames / 1024).toFixed(0)} KiB/frame`,
);
console.log(`ratio render / encode: ${(renderCpu / encodeCpu).toFixed(2)}x (cpu)`);
const totalCpu = buildCpu + renderCpu + encodeCpu;
console.log(
  `total ${((buildWall + renderWall + encodeWall) / 1000).toFixed(1)} s wall, ${(totalCpu / 1000).toFixed(1)} s cpu; ` +
    `target 100 frames < 60 s: ${(((totalCpu / frames) * 100) / 1000).toFixed(1)} s cpu per 100 frames`,
);
