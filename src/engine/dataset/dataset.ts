/**
 * The dataset folder contract (docs/formats.md):
 *   intrinsics.json, rgb/NNNNNN.png (or rgb.mp4), depth/NNNNNN.png (optional), groundtruth.txt (optional),
 *   mesh.ply (optional); for a stereo dataset also right/NNNNNN.png and stereo.json (docs/stereo.md).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import { type DatasetIntrinsics, readIntrinsics, writeIntrinsics } from './intrinsics.js';
import { readDepthPng, readRgbPng, writeDepthPng, writeRgbPng } from './images.js';
import { type StampedPose, readTum, writeTum } from './trajectory.js';

export interface DatasetInfo {
  root: string;
  intrinsics: DatasetIntrinsics;
  /** Frame file names (sorted) under rgb/, or empty when the frames come from rgb.mp4. */
  rgbFiles: string[];
  /** Path of rgb.mp4 when the dataset stores video instead of PNG frames. */
  video: string | null;
  /**
   * Number of frames: the PNG count, or for rgb.mp4 the depth/ground-truth count (null when the video
   * is the only record of it; reading the frames then tells).
   */
  frameCount: number | null;
  /** Depth file names (sorted) under depth/, empty when the dataset has no depth. */
  depthFiles: string[];
  groundTruth: StampedPose[] | null;
  meshFile: string | null;
  /** Right-view frame names (sorted) under right/ of a stereo dataset, else empty; rgb/ is the left view. */
  rightFiles: string[];
  /** Path of stereo.json (the stereo camera profile) when present. */
  stereoFile: string | null;
}

export const frameFileName = (index: number): string => `${String(index).padStart(6, '0')}.png`;

async function listPngs(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.png')).sort();
  names.forEach((n, i) => {
    if (!/^\d{6}\.png$/.test(n))
      throw new Error(`${path.join(dir, n)}: frame files must be named NNNNNN.png`);
    if (Number(n.slice(0, 6)) !== i)
      throw new Error(`${dir}: frame ${frameFileName(i)} is missing (found ${n} instead)`);
  });
  return names;
}

export async function openDataset(root: string): Promise<DatasetInfo> {
  if (!existsSync(root)) throw new Error(`${root}: dataset folder does not exist`);
  const intrinsics = await readIntrinsics(path.join(root, 'intrinsics.json'));
  const rgbFiles = await listPngs(path.join(root, 'rgb'));
  const videoPath = path.join(root, 'rgb.mp4');
  const video = rgbFiles.length === 0 && existsSync(videoPath) ? videoPath : null;
  if (rgbFiles.length === 0 && !video)
    throw new Error(`${root}: dataset has neither rgb/NNNNNN.png frames nor rgb.mp4`);
  const depthFiles = await listPngs(path.join(root, 'depth'));
  if (depthFiles.length > 0 && rgbFiles.length > 0 && depthFiles.length !== rgbFiles.length) {
    throw new Error(
      `${path.join(root, 'depth')}: ${depthFiles.length} depth frames for ${rgbFiles.length} RGB frames`,
    );
  }
  const gtFile = path.join(root, 'groundtruth.txt');
  const groundTruth = existsSync(gtFile) ? await readTum(gtFile) : null;
  if (groundTruth && rgbFiles.length > 0 && groundTruth.length !== rgbFiles.length) {
    throw new Error(`${gtFile}: ${groundTruth.length} poses for ${rgbFiles.length} frames`);
  }
  if (video && groundTruth && depthFiles.length > 0 && groundTruth.length !== depthFiles.length) {
    throw new Error(`${gtFile}: ${groundTruth.length} poses for ${depthFiles.length} depth frames`);
  }
  const rightFiles = await listPngs(path.join(root, 'right'));
  if (rightFiles.length > 0 && rightFiles.length !== rgbFiles.length) {
    throw new Error(
      `${path.join(root, 'right')}: ${rightFiles.length} right-view frames for ${rgbFiles.length} left (rgb/) frames`,
    );
  }
  const stereoPath = path.join(root, 'stereo.json');
  const meshPath = path.join(root, 'mesh.ply');
  return {
    root,
    intrinsics,
    rgbFiles,
    video,
    frameCount: video ? depthFiles.length || groundTruth?.length || null : rgbFiles.length,
    depthFiles,
    groundTruth,
    meshFile: existsSync(meshPath) ? meshPath : null,
    rightFiles,
    stereoFile: existsSync(stereoPath) ? stereoPath : null,
  };
}

// Decoded clips, kept per opened dataset: random access into rgb.mp4 would otherwise re-decode from
// the nearest keyframe on every read. Samples are short (a few seconds at 384x288).
const decodedVideos = new WeakMap<DatasetInfo, Promise<RgbImage[]>>();

async function decodeVideo(ds: DatasetInfo, video: string): Promise<RgbImage[]> {
  // Imported on demand: the capture layer itself reads datasets through this module.
  const { VideoFileFrameSource } = await import('../capture/video-file-source.js');
  const source = await VideoFileFrameSource.open(video);
  const frames: RgbImage[] = [];
  for await (const frame of source.frames()) {
    checkSize(video, frame.image, ds.intrinsics);
    frames.push(frame.image);
  }
  if (ds.frameCount !== null && frames.length !== ds.frameCount) {
    throw new Error(`${video}: ${frames.length} video frames for ${ds.frameCount} depth frames / poses`);
  }
  return frames;
}

export async function readDatasetRgb(ds: DatasetInfo, index: number): Promise<RgbImage> {
  if (ds.video) {
    let frames = decodedVideos.get(ds);
    if (!frames) {
      frames = decodeVideo(ds, ds.video);
      decodedVideos.set(ds, frames);
    }
    const all = await frames;
    const img = all[index];
    if (!img) throw new RangeError(`${ds.video}: no frame ${index} (has ${all.length})`);
    return img;
  }
  const name = ds.rgbFiles[index];
  if (name === undefined)
    throw new RangeError(`${ds.root}: no RGB frame ${index} (has ${ds.rgbFiles.length})`);
  const file = path.join(ds.root, 'rgb', name);
  const img = await readRgbPng(file);
  checkSize(file, img, ds.intrinsics);
  return img;
}

/** The right view of frame `index` of a stereo dataset (right/NNNNNN.png). */
export async function readDatasetRight(ds: DatasetInfo, index: number): Promise<RgbImage> {
  const name = ds.rightFiles[index];
  if (name === undefined)
    throw new RangeError(`${ds.root}: no right-view frame ${index} (has ${ds.rightFiles.length})`);
  const file = path.join(ds.root, 'right', name);
  const img = await readRgbPng(file);
  checkSize(file, img, ds.intrinsics);
  return img;
}

export async function readDatasetDepth(ds: DatasetInfo, index: number): Promise<DepthImage> {
  const name = ds.depthFiles[index];
  if (name === undefined)
    throw new RangeError(`${ds.root}: no depth frame ${index} (has ${ds.depthFiles.length})`);
  const file = path.join(ds.root, 'depth', name);
  const depth = await readDepthPng(file, ds.intrinsics.depth_scale);
  checkSize(file, depth, ds.intrinsics);
  return depth;
}

function checkSize(file: string, img: { width: number; height: number }, k: DatasetIntrinsics): void {
  if (img.width !== k.width || img.height !== k.height) {
    throw new Error(
      `${file}: image is ${img.width}x${img.height}, intrinsics.json says ${k.width}x${k.height}`,
    );
  }
}

/** Writes a dataset folder incrementally: frames as they are produced, trajectory at the end. */
export class DatasetWriter {
  private constructor(
    readonly root: string,
    readonly intrinsics: DatasetIntrinsics,
  ) {}

  static async create(
    root: string,
    intrinsics: DatasetIntrinsics,
    withDepth: boolean,
  ): Promise<DatasetWriter> {
    await mkdir(path.join(root, 'rgb'), { recursive: true });
    if (withDepth) await mkdir(path.join(root, 'depth'), { recursive: true });
    await writeIntrinsics(path.join(root, 'intrinsics.json'), intrinsics);
    return new DatasetWriter(root, intrinsics);
  }

  async writeRgb(index: number, img: RgbImage): Promise<void> {
    await writeRgbPng(path.join(this.root, 'rgb', frameFileName(index)), img);
  }

  async writeDepth(index: number, depth: DepthImage): Promise<void> {
    await writeDepthPng(
      path.join(this.root, 'depth', frameFileName(index)),
      depth,
      this.intrinsics.depth_scale,
    );
  }

  async writeGroundTruth(poses: readonly StampedPose[]): Promise<void> {
    await writeTum(path.join(this.root, 'groundtruth.txt'), poses);
  }
}
