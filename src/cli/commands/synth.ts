/** `navws synth`: writes a synthetic endoscopy phantom dataset with exact ground truth. */
import { type PhantomOptions, writePhantomDataset } from '../../synth/index.js';
import { type CliCommand, UsageError, parseCliArgs } from '../command.js';

const usage = `usage: navws synth --out DIR [options]

Renders a synthetic endoscopy sequence of tissue (folds, vessels, scope-tip light, specular
highlights, vignetting, sensor noise) and writes a dataset folder: intrinsics.json, rgb/, depth/
(exact, mm along the optical axis), groundtruth.txt (TUM, camera-to-world, world = first camera)
and mesh.ply (the ground-truth surface seen by the sequence). Same options and seed -> same files.

options:
  --out DIR          output dataset folder (required)
  --seed N           random seed (default 1)
  --frames N         number of frames (default 90)
  --width N          image width in pixels (default 384)
  --height N         image height in pixels (default 288)
  --focal PX         focal length in pixels (default 320 at 384 px width)
  --fps N            frame rate of the timestamps (default 30)
  --speed MM         scope speed in mm per frame (default 0.35; 1.05 with --hard)
  --hard             hard conditions: fast shaky motion, motion blur, smoke, saturated highlights, more noise
  --motion-blur F    exposure as a fraction of the frame interval (default 0; 0.8 with --hard)
  --smoke F          smoke density (default 0; 1 with --hard)
  --gain F           light gain (default 1; 1.7 with --hard)
  --noise F          sensor read noise in 8-bit levels (default 1.2; 3 with --hard)
  --fov-mask         black out the corners outside a circular field of view
  --depth-scale S    depth PNG units per mm (default 100, i.e. 0.01 mm steps)
  --mesh-spacing MM  ground-truth mesh grid spacing (default 0.8)
  --force            replace an existing dataset in DIR
  --video            store the frames as rgb.mp4 (H.264, like a recording) instead of rgb/*.png
  --stereo-baseline MM  also render the right view of a rectified stereo scope (right/, stereo.json)
  --quiet            no progress output`;

function num(name: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} expects ${integer ? 'an integer' : 'a number'}, got '${value}'`);
  }
  return n;
}

export const command: CliCommand = {
  name: 'synth',
  summary: 'render a synthetic endoscopy phantom dataset with exact depth, poses and mesh',
  usage,
  async run(argv) {
    const { values } = parseCliArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        seed: { type: 'string' },
        frames: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        focal: { type: 'string' },
        fps: { type: 'string' },
        speed: { type: 'string' },
        hard: { type: 'boolean' },
        'motion-blur': { type: 'string' },
        smoke: { type: 'string' },
        gain: { type: 'string' },
        noise: { type: 'string' },
        'fov-mask': { type: 'boolean' },
        'depth-scale': { type: 'string' },
        'mesh-spacing': { type: 'string' },
        force: { type: 'boolean' },
        video: { type: 'boolean' },
        'stereo-baseline': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (!values.out) throw new UsageError('--out DIR is required');
    const options: PhantomOptions = {
      seed: num('seed', values.seed, true),
      frames: num('frames', values.frames, true),
      width: num('width', values.width, true),
      height: num('height', values.height, true),
      focal: num('focal', values.focal),
      fps: num('fps', values.fps),
      speed: num('speed', values.speed),
      hard: values.hard ?? false,
      motionBlur: num('motion-blur', values['motion-blur']),
      smoke: num('smoke', values.smoke),
      gain: num('gain', values.gain),
      noise: num('noise', values.noise),
      fovMask: values['fov-mask'] ?? false,
      depthScale: num('depth-scale', values['depth-scale']),
      meshSpacing: num('mesh-spacing', values['mesh-spacing']),
    };
    for (const key of Object.keys(options) as (keyof PhantomOptions)[]) {
      if (options[key] === undefined) delete options[key];
    }
    const quiet = values.quiet ?? false;
    // A terminal gets one updating line; a log file gets a line per tenth of the work.
    const progress = (done: number, total: number): void => {
      if (process.stderr.isTTY)
        process.stderr.write(`\rsynth: frame ${done}/${total}${done === total ? '\n' : ''}`);
      else if (done === total || done % Math.max(1, Math.round(total / 10)) === 0) {
        process.stderr.write(`synth: frame ${done}/${total}\n`);
      }
    };
    let summary;
    try {
      summary = await writePhantomDataset(values.out, options, {
        overwrite: values.force ?? false,
        video: values.video ?? false,
        ...(values['stereo-baseline'] !== undefined
          ? { stereoBaselineMm: num('stereo-baseline', values['stereo-baseline']) }
          : {}),
        onProgress: quiet ? undefined : progress,
      });
    } catch (err) {
      if (err instanceof RangeError) throw new UsageError(err.message);
      throw err;
    }
    if (!quiet) {
      const k = summary.intrinsics;
      process.stderr.write(
        `synth: wrote ${summary.frames} frames ${k.width}x${k.height} (fx ${k.fx}), mesh ${summary.meshVertices} vertices / ` +
          `${summary.meshTriangles} triangles to ${summary.root} in ${summary.seconds.toFixed(1)} s\n`,
      );
    }
    return 0;
  },
};
