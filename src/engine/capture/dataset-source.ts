/**
 * Frames of a dataset folder (docs/formats.md): rgb/NNNNNN.png read in order, or rgb.mp4 decoded by
 * ffmpeg when the folder stores video. Timestamps are index / fps from intrinsics.json, the same
 * time line a video made from the folder has.
 */
import path from 'node:path';
import type { VideoFrame } from '../../shared/frames.js';
import { type DatasetInfo, openDataset, readDatasetRgb, readDatasetRight } from '../dataset/dataset.js';
import {
  type FrameRange,
  type FrameSource,
  type FrameSourceInfo,
  FrameSourceError,
  validateRange,
} from './frame-source.js';
import { readRgbPng } from '../dataset/images.js';
import { readStereoCalibration } from '../dataset/stereo-calibration.js';
import {
  type PackedStereoLayout,
  checkPackedSize,
  packedFrameSize,
  splitPackedStereo,
} from './stereo-layout.js';
import { VideoFileFrameSource } from './video-file-source.js';

/** The packed stereo layout stereo.json declares, or null (no stereo.json, or views in rgb/ + right/). */
async function packedLayoutOf(dataset: DatasetInfo): Promise<PackedStereoLayout | null> {
  if (!dataset.stereoFile) return null;
  const layout = (await readStereoCalibration(dataset.stereoFile)).layout;
  if (layout === 'separate') return null;
  if (dataset.rightFiles.length > 0) {
    throw new Error(
      `${dataset.stereoFile}: layout '${layout}' packs both views into each frame, but the dataset also has right/ frames; use layout 'separate' or remove right/`,
    );
  }
  return layout;
}

export class DatasetFrameSource implements FrameSource {
  private constructor(
    readonly dataset: DatasetInfo,
    readonly info: FrameSourceInfo,
    private readonly video: VideoFileFrameSource | null,
    /** Set when each frame carries both stereo views (stereo.json's layout); frames are split. */
    private readonly packed: PackedStereoLayout | null,
  ) {}

  static async open(root: string): Promise<DatasetFrameSource> {
    const dataset = await openDataset(root);
    const k = dataset.intrinsics;
    const packed = await packedLayoutOf(dataset);
    // A packed stereo frame holds both views; intrinsics.json describes one view (the left).
    const stored = packed ? packedFrameSize(packed, k) : { width: k.width, height: k.height };
    const layoutNote = packed ? `, ${packed} stereo` : '';
    if (dataset.video) {
      // The video must have the size intrinsics.json describes; no silent rescaling of calibrated frames.
      const video = await VideoFileFrameSource.open(dataset.video);
      const size = { width: video.info.sourceWidth, height: video.info.sourceHeight };
      if (packed) checkPackedSize(packed, k, size, dataset.video);
      else if (size.width !== k.width || size.height !== k.height) {
        throw new Error(
          `${dataset.video}: video is ${size.width}x${size.height}, intrinsics.json says ${k.width}x${k.height}`,
        );
      }
      return new DatasetFrameSource(
        dataset,
        {
          ...video.info,
          width: k.width,
          height: k.height,
          fps: k.fps,
          description: `dataset ${root} (rgb.mp4${layoutNote})`,
        },
        video,
        packed,
      );
    }
    return new DatasetFrameSource(
      dataset,
      {
        width: k.width,
        height: k.height,
        sourceWidth: stored.width,
        sourceHeight: stored.height,
        fps: k.fps,
        frameCount: dataset.rgbFiles.length,
        durationSeconds: dataset.rgbFiles.length / k.fps,
        description: `dataset ${root} (${dataset.rgbFiles.length} PNG frames${layoutNote})`,
      },
      null,
      packed,
    );
  }

  /** The frame as the pipeline takes it: a packed stereo frame becomes its left view plus `right`. */
  private unpack(frame: VideoFrame, what: string): VideoFrame {
    if (!this.packed) return frame;
    const { left, right } = splitPackedStereo(frame.image, this.packed, this.dataset.intrinsics, what);
    return { ...frame, image: left, right };
  }

  [Symbol.asyncIterator](): AsyncIterator<VideoFrame> {
    return this.frames();
  }

  async *frames(range: FrameRange = {}): AsyncGenerator<VideoFrame, void, undefined> {
    validateRange(range);
    const fps = this.dataset.intrinsics.fps;
    if (this.video) {
      for await (const frame of this.video.frames(range)) {
        // Video pts can carry container rounding; the dataset's time line is index / fps.
        yield this.unpack(
          { ...frame, timestamp: frame.index / fps },
          `${this.dataset.video} frame ${frame.index}`,
        );
      }
      return;
    }
    const total = this.dataset.rgbFiles.length;
    const first =
      range.fromFrame ?? (range.fromSeconds !== undefined ? Math.ceil(range.fromSeconds * fps - 1e-9) : 0);
    const end = range.maxFrames !== undefined ? Math.min(total, first + range.maxFrames) : total;
    for (let i = first; i < end; i++) {
      let image;
      let right;
      try {
        // A packed stereo frame is twice a view's size: its size is checked against the layout on unpacking.
        image = this.packed
          ? await readRgbPng(path.join(this.dataset.root, 'rgb', this.dataset.rgbFiles[i]!))
          : await readDatasetRgb(this.dataset, i);
        // A stereo dataset's two views were captured together: they travel as one frame.
        if (this.dataset.rightFiles.length > 0) right = await readDatasetRight(this.dataset, i);
      } catch (err) {
        throw new FrameSourceError((err as Error).message, i - first);
      }
      if (this.packed) {
        let frame: VideoFrame;
        try {
          frame = this.unpack({ index: i, timestamp: i / fps, image }, `${this.dataset.root} rgb frame ${i}`);
        } catch (err) {
          throw new FrameSourceError((err as Error).message, i - first);
        }
        yield frame;
        continue;
      }
      yield right ? { index: i, timestamp: i / fps, image, right } : { index: i, timestamp: i / fps, image };
    }
  }
}
