/**
 * Public API of the synthetic endoscopy phantom (see docs/phantom.md).
 *
 *   for await (const f of generatePhantom({ seed: 7, frames: 100 })) { f.rgb; f.depth; f.pose }
 *   await writePhantomDataset('out/phantom', { seed: 7 });
 *
 * For training-data generation in quantity, construct a {@link Phantom} per seed and call
 * renderFrame(i) directly (synchronous, any order).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DatasetWriter, frameFileName } from '../engine/dataset/dataset.js';
import { writeRgbPng } from '../engine/dataset/images.js';
import type { DatasetIntrinsics } from '../engine/dataset/intrinsics.js';
import type { StampedPose } from '../engine/dataset/trajectory.js';
import { writePly } from '../engine/formats/ply.js';
import { encodeFramesAsVideo } from './video.js';
import { Phantom, type PhantomFrame, type PhantomOptions } from './phantom.js';

export { Phantom, resolvePhantomOptions } from './phantom.js';
export type { PhantomFrame, PhantomOptions, ResolvedPhantomOptions } from './phantom.js';

/** Renders the frames of one phantom sequence in order. */
export async function* generatePhantom(options: PhantomOptions = {}): AsyncGenerator<PhantomFrame> {
  const phantom = new Phantom(options);
  for (let i = 0; i < phantom.frameCount; i++) {
    yield phantom.renderFrame(i);
    // Let I/O and other tasks run between frames when the consumer does not await anything.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export interface PhantomDatasetSummary {
  root: string;
  frames: number;
  intrinsics: DatasetIntrinsics;
  meshVertices: number;
  meshTriangles: number;
  /** Wall-clock seconds spent rendering and writing. */
  seconds: number;
}

export interface WritePhantomOptions {
  /** Replace an existing dataset in `root` (only the dataset's own files are removed). */
  overwrite?: boolean;
  /** Called after each frame is written. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Store the frames as `rgb.mp4` (H.264 4:4:4, CRF 14) instead of `rgb/NNNNNN.png`, as an endoscope
   * recording would: about 30x smaller, at the cost of codec loss in the RGB (depth, poses and mesh stay exact).
   */
  video?: boolean;
  /**
   * Also render the right view of a rectified stereo scope with this baseline (mm) into right/ and write
   * its profile to stereo.json (docs/stereo.md); rgb/ is then the left view. PNG frames only.
   */
  stereoBaselineMm?: number;
}

const DATASET_ENTRIES = [
  'intrinsics.json',
  'rgb',
  'rgb.mp4',
  'depth',
  'groundtruth.txt',
  'mesh.ply',
  'right',
  'stereo.json',
];

/**
 * Writes a dataset folder (docs/formats.md): intrinsics.json, rgb/, depth/, groundtruth.txt and
 * mesh.ply (the part of the ground-truth surface seen by at least one frame).
 */
export async function writePhantomDataset(
  root: string,
  options: PhantomOptions = {},
  write: WritePhantomOptions = {},
): Promise<PhantomDatasetSummary> {
  const start = performance.now();
  if (existsSync(root)) {
    const present = (await readdir(root)).filter((e) => DATASET_ENTRIES.includes(e));
    if (present.length > 0) {
      if (!write.overwrite)
        throw new Error(
          `${root}: already holds a dataset (${present.join(', ')}); pass overwrite (navws synth --force) to replace it`,
        );
      for (const e of present) await rm(path.join(root, e), { recursive: true, force: true });
    }
  }
  const stereo = write.stereoBaselineMm;
  if (stereo !== undefined && write.video)
    throw new Error('a stereo phantom is written as PNG frames (rgb/ and right/), not rgb.mp4');
  const phantom = new Phantom(options);
  const writer = await DatasetWriter.create(root, phantom.intrinsics, true);
  if (stereo !== undefined) {
    await mkdir(path.join(root, 'right'), { recursive: true });
    await writeFile(
      path.join(root, 'stereo.json'),
      JSON.stringify(phantomStereoProfile(phantom, stereo), null, 2) + '\n',
    );
  }
  const poses: StampedPose[] = [];
  for (let i = 0; i < phantom.frameCount; i++) {
    const frame = phantom.renderFrame(i);
    await writer.writeRgb(i, frame.rgb);
    await writer.writeDepth(i, frame.depth);
    if (stereo !== undefined) {
      await writeRgbPng(path.join(root, 'right', frameFileName(i)), phantom.renderRightView(i, stereo).rgb);
    }
    poses.push({ timestamp: frame.timestamp, pose: frame.pose });
    write.onProgress?.(i + 1, phantom.frameCount);
  }
  await writer.writeGroundTruth(poses);
  if (write.video) await encodeFramesAsVideo(root, phantom.intrinsics.fps);
  const mesh = phantom.groundTruthMesh(true);
  await writePly(path.join(root, 'mesh.ply'), mesh);
  return {
    root,
    frames: phantom.frameCount,
    intrinsics: phantom.intrinsics,
    meshVertices: mesh.positions.length / 3,
    meshTriangles: mesh.indices.length / 3,
    seconds: (performance.now() - start) / 1000,
  };
}

/** stereo.json of a phantom rendered as a rectified pair: two identical pinhole cameras, baseline along x. */
export function phantomStereoProfile(phantom: Phantom, baselineMm: number) {
  const { width, height, fx, fy, cx, cy } = phantom.intrinsics;
  const camera = { width, height, fx, fy, cx, cy, distortion: [0, 0, 0, 0, 0] };
  return {
    layout: 'separate',
    left: camera,
    right: camera,
    R: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    T: [-baselineMm, 0, 0],
    // The phantom's tissue lies about 40..110 mm from the scope.
    depth_range_mm: [25, 150],
  };
}
