/**
 * `navws reconstruct <dataset|video> --out DIR`: the product path (network depth -> photometric tracking
 * -> TSDF fusion -> mesh) on a dataset folder or any video file ffmpeg reads, writing the output folder
 * contract of docs/formats.md. `--depth gt` / `--poses gt` swap in the dataset's ground truth to evaluate
 * one stage alone.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type PinholeIntrinsics, scaleIntrinsics } from '../../shared/camera.js';
import { DatasetFrameSource } from '../../engine/capture/dataset-source.js';
import type { FrameSource } from '../../engine/capture/frame-source.js';
import { VideoFileFrameSource } from '../../engine/capture/video-file-source.js';
import { describeFfmpeg, getFfmpeg } from '../../engine/capture/ffmpeg.js';
import { type DatasetInfo, frameFileName } from '../../engine/dataset/dataset.js';
import { writeDepthPng } from '../../engine/dataset/images.js';
import { readIntrinsics } from '../../engine/dataset/intrinsics.js';
import { GroundTruthDepthStage, GroundTruthPoseStage } from '../../engine/pipeline/ground-truth-stages.js';
import {
  DEFAULT_FUSION_SETTINGS,
  createFusionStage,
  createNetworkDepthStage,
  createStereoDepthStage,
  createTrackingStage,
  stereoProfileOfDataset,
} from '../../engine/pipeline/product-stages.js';
import { buildReport, writeReport, writeTrajectoryAndMesh } from '../../engine/pipeline/output-folder.js';
import { LIVE_MESH_UPDATE_INTERVAL_MS, runReconstruction } from '../../engine/pipeline/reconstruct.js';
import type { DepthStage, FusionStage, PoseStage } from '../../engine/pipeline/stages.js';
import { type CliCommand, UsageError, parseCliArgs } from '../command.js';
import { type IgtlCliOptions, igtlCliOptions, openIgtlFromCli } from '../igtl-options.js';
import { DEFAULT_IGTL_SETTINGS } from '../../engine/igtl/publisher.js';
import { evaluateReconstruction, formatEvaluation } from '../../eval/evaluate.js';

const usage = `usage: navws reconstruct <dataset-folder|video-file> --out DIR [options]

Reconstructs the surgical scene: depth -> tracking -> fusion -> mesh. Writes DIR/trajectory.txt,
DIR/mesh.ply, DIR/report.json (and DIR/depth/ with --save-depth); see docs/formats.md.

options:
  --out DIR              output folder (created)
  --depth network|stereo|gt
                         depth from the bundled network (default), from the rectified pair of a stereo
                         dataset (right/ + stereo.json, metric; docs/stereo.md) or the dataset's ground truth
  --poses track|gt       poses from photometric tracking (default) or the dataset's ground truth
  --save-depth           write the depth used for every processed frame to DIR/depth/
  --intrinsics FILE      intrinsics.json for a video input (a dataset folder has its own)
  --size WxH             processing size for a video input (default: the intrinsics' size)
  --max-frames N         stop after N frames
  --voxel MM             TSDF voxel size in mm (default ${DEFAULT_FUSION_SETTINGS.voxelSize})
  --model-dir DIR        folder with manifest.json and the ONNX models (default: models/)
  --quiet                no progress on stderr
  --igtl [HOST:]PORT     stream pose, surface, video and tracking status over OpenIGTLink while it runs
                         (3D Slicer: docs/openigtlink.md); HOST defaults to 127.0.0.1
  --igtl-wait N          wait for N OpenIGTLink clients before reading the input (default 0)
  --igtl-frame ras|lps   coordinate frame sent (default ras)
  --igtl-depth           also send the depth maps (IMAGE NavWS-Depth)
  --igtl-triangles N     decimate the streamed surface to at most N triangles (default ${DEFAULT_IGTL_SETTINGS.meshMaxTriangles})

The gt modes are evaluation tools (they isolate one stage); the product path is network (or stereo) + track.`;

interface Input {
  source: FrameSource;
  intrinsics: PinholeIntrinsics;
  dataset: DatasetInfo | null;
  depthScale: number;
}

async function openInput(
  input: string,
  intrinsicsFile: string | undefined,
  size: string | undefined,
): Promise<Input> {
  if (!existsSync(input)) throw new UsageError(`${input}: no such file or folder`);
  if (statSync(input).isDirectory()) {
    const source = await DatasetFrameSource.open(input);
    return {
      source,
      intrinsics: source.dataset.intrinsics,
      dataset: source.dataset,
      depthScale: source.dataset.intrinsics.depth_scale,
    };
  }
  if (!intrinsicsFile)
    throw new UsageError(`${input}: a video input needs --intrinsics <intrinsics.json> (camera calibration)`);
  const k = await readIntrinsics(intrinsicsFile);
  let target = { width: k.width, height: k.height };
  if (size) {
    const m = /^(\d+)x(\d+)$/.exec(size);
    if (!m) throw new UsageError(`--size must look like 384x288, got '${size}'`);
    target = { width: Number(m[1]), height: Number(m[2]) };
  }
  const source = await VideoFileFrameSource.open(input, { size: target });
  // The calibration describes the video's own resolution; rescale it to the processing size.
  const calibrated = source.info.sourceWidth === k.width && source.info.sourceHeight === k.height;
  if (!calibrated) {
    throw new Error(
      `${intrinsicsFile}: calibrated for ${k.width}x${k.height} but ${input} is ${source.info.sourceWidth}x${source.info.sourceHeight}`,
    );
  }
  return {
    source,
    intrinsics: scaleIntrinsics(k, target.width, target.height),
    dataset: null,
    depthScale: k.depth_scale,
  };
}

function needDataset(input: Input, flag: string): DatasetInfo {
  if (!input.dataset)
    throw new UsageError(`${flag} needs a dataset folder with ground truth, not a video file`);
  return input.dataset;
}

export const command: CliCommand = {
  name: 'reconstruct',
  summary: 'reconstruct a dataset folder or video: depth -> tracking -> fusion -> mesh',
  usage,
  async run(argv) {
    const { values, positionals } = parseCliArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        depth: { type: 'string', default: 'network' },
        poses: { type: 'string', default: 'track' },
        'save-depth': { type: 'boolean', default: false },
        intrinsics: { type: 'string' },
        size: { type: 'string' },
        'max-frames': { type: 'string' },
        voxel: { type: 'string' },
        'model-dir': { type: 'string' },
        quiet: { type: 'boolean', default: false },
        ...igtlCliOptions,
      },
    });
    const [inputPath, ...extra] = positionals;
    if (!inputPath || extra.length > 0)
      throw new UsageError('expects exactly one input (dataset folder or video file)');
    if (!values.out) throw new UsageError('--out DIR is required');
    if (values.depth !== 'network' && values.depth !== 'stereo' && values.depth !== 'gt')
      throw new UsageError(`--depth must be network, stereo or gt, got '${values.depth}'`);
    if (values.poses !== 'track' && values.poses !== 'gt')
      throw new UsageError(`--poses must be track or gt, got '${values.poses}'`);
    const maxFrames = values['max-frames'] === undefined ? undefined : Number(values['max-frames']);
    if (maxFrames !== undefined && !(Number.isInteger(maxFrames) && maxFrames > 0)) {
      throw new UsageError(`--max-frames must be a positive integer, got '${values['max-frames']}'`);
    }
    const voxelSize = values.voxel === undefined ? DEFAULT_FUSION_SETTINGS.voxelSize : Number(values.voxel);
    if (!(voxelSize > 0 && voxelSize <= 50))
      throw new UsageError(`--voxel must be a size in mm in (0, 50], got '${values.voxel}'`);

    const log = (level: string, message: string): void => {
      if (!values.quiet) process.stderr.write(`\n${level}: ${message}\n`);
    };
    const igtl = await openIgtlFromCli(values as IgtlCliOptions, log);
    const input = await openInput(inputPath, values.intrinsics, values.size).catch(async (err: unknown) => {
      await igtl?.close();
      throw err;
    });
    const out = values.out;
    await mkdir(out, { recursive: true });
    if (values['save-depth']) await mkdir(path.join(out, 'depth'), { recursive: true });

    const stages: { depth?: DepthStage; poses?: PoseStage; fusion?: FusionStage } = {};
    try {
      if (values.depth === 'gt') {
        stages.depth = new GroundTruthDepthStage(needDataset(input, '--depth gt'));
      } else if (values.depth === 'stereo') {
        const ds = input.dataset;
        if (!ds || !ds.stereoFile) {
          throw new UsageError(
            `--depth stereo needs a stereo dataset folder (stereo.json with rgb/ = left and right/, or packed frames; docs/stereo.md), not ${inputPath}`,
          );
        }
        const calibration = await stereoProfileOfDataset(ds, input.intrinsics);
        stages.depth = await createStereoDepthStage({ calibration, intrinsics: input.intrinsics });
      } else {
        stages.depth = await createNetworkDepthStage({
          modelDir: values['model-dir'],
          intrinsics: input.intrinsics,
        });
      }
      stages.poses =
        values.poses === 'gt'
          ? new GroundTruthPoseStage(needDataset(input, '--poses gt'))
          : await createTrackingStage({ intrinsics: input.intrinsics });
      stages.fusion = await createFusionStage({ ...DEFAULT_FUSION_SETTINGS, voxelSize });

      if (igtl) await igtl.waitForClients();
      const total = maxFrames ?? input.source.info.frameCount ?? null;
      const quiet = values.quiet;
      let lastLine = 0;
      const result = await runReconstruction({
        source: input.source.frames(maxFrames === undefined ? {} : { maxFrames }),
        intrinsics: input.intrinsics,
        depth: stages.depth,
        poses: stages.poses,
        fusion: stages.fusion,
        live: false,
        onDepth: values['save-depth']
          ? (frame, depth) =>
              writeDepthPng(path.join(out, 'depth', frameFileName(frame.index)), depth, input.depthScale)
          : undefined,
        meshUpdateIntervalMs: igtl ? LIVE_MESH_UPDATE_INTERVAL_MS : undefined,
        onEvent: (e) => {
          igtl?.onPipelineEvent(e);
          if (quiet) return;
          if (e.type === 'frame' && performance.now() - lastLine > 500) {
            lastLine = performance.now();
            process.stderr.write(
              `\rframe ${e.index + 1}${total ? '/' + total : ''}  ${e.trackingState}${e.isKeyframe ? ' (keyframe)' : '           '}   `,
            );
          } else if (e.type === 'log') process.stderr.write(`\n${e.level}: ${e.message}\n`);
        },
      });
      if (!quiet) process.stderr.write('\n');

      await writeTrajectoryAndMesh(out, result);
      if (igtl && result.mesh) igtl.finalMesh(result.mesh);
      const r = result.report;
      const hasGroundTruth =
        input.dataset &&
        (input.dataset.groundTruth || input.dataset.meshFile || input.dataset.depthFiles.length > 0);
      const metrics = hasGroundTruth ? await evaluateReconstruction(input.dataset!.root, out) : undefined;
      const run = {
        input: inputPath,
        modes: { depth: values.depth, poses: values.poses },
        voxelSizeMm: voxelSize,
      };
      await writeReport(out, buildReport(result, run, metrics));
      if (!quiet) {
        const fps = r.framesProcessed / Math.max(r.wallSeconds, 1e-9);
        process.stderr.write(
          `reconstruct: ${r.framesProcessed} frames (${fps.toFixed(1)} fps), ${r.keyframes} keyframes, ${r.lostFrames} lost -> ${out}\n`,
        );
        if (metrics) process.stderr.write(`${formatEvaluation(metrics)}\n`);
        // The frames came through ffmpeg (a video file, or a dataset's rgb.mp4): say which one, for support.
        if (!input.dataset || input.dataset.video)
          process.stderr.write(`ffmpeg: ${describeFfmpeg(await getFfmpeg())}\n`);
      }
      if (r.sourceError)
        throw new Error(`input failed after ${r.framesIn} frames (outputs kept in ${out}): ${r.sourceError}`);
      return 0;
    } finally {
      await Promise.all([
        stages.depth?.close(),
        stages.poses?.close(),
        stages.fusion?.close(),
        igtl?.close(),
      ]);
    }
  },
};
