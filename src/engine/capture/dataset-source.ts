/**
 * Frames of a dataset folder (docs/formats.md): rgb/NNNNNN.png read in order, or rgb.mp4 decoded by
 * ffmpeg when the folder stores video. Timestamps are index / fps from intrinsics.json, the same
 * time line a video made from the folder has.
 */
import type { VideoFrame } from '../../shared/frames.js';
import { type DatasetInfo, openDataset, readDatasetRgb, readDatasetRight } from '../dataset/dataset.js';
import {
  type FrameRange,
  type FrameSource,
  type FrameSourceInfo,
  FrameSourceError,
  validateRange,
} from './frame-source.js';
import { VideoFileFrameSource } from './video-file-source.js';

export class DatasetFrameSource implements FrameSource {
  private constructor(
    readonly dataset: DatasetInfo,
    readonly info: FrameSourceInfo,
    private readonly video: VideoFileFrameSource | null,
  ) {}

  static async open(root: string): Promise<DatasetFrameSource> {
    const dataset = await openDataset(root);
    const k = dataset.intrinsics;
    if (dataset.video) {
      // The video must have the size intrinsics.json describes; no silent rescaling of calibrated frames.
      const video = await VideoFileFrameSource.open(dataset.video);
      if (video.info.sourceWidth !== k.width || video.info.sourceHeight !== k.height) {
        throw new Error(
          `${dataset.video}: video is ${video.info.sourceWidth}x${video.info.sourceHeight}, intrinsics.json says ${k.width}x${k.height}`,
        );
      }
      return new DatasetFrameSource(
        dataset,
        { ...video.info, fps: k.fps, description: `dataset ${root} (rgb.mp4)` },
        video,
      );
    }
    return new DatasetFrameSource(
      dataset,
      {
        width: k.width,
        height: k.height,
        sourceWidth: k.width,
        sourceHeight: k.height,
        fps: k.fps,
        frameCount: dataset.rgbFiles.length,
        durationSeconds: dataset.rgbFiles.length / k.fps,
        description: `dataset ${root} (${dataset.rgbFiles.length} PNG frames)`,
      },
      null,
    );
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
        yield { ...frame, timestamp: frame.index / fps };
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
        image = await readDatasetRgb(this.dataset, i);
        // A stereo dataset's two views were captured together: they travel as one frame.
        if (this.dataset.rightFiles.length > 0) right = await readDatasetRight(this.dataset, i);
      } catch (err) {
        throw new FrameSourceError((err as Error).message, i - first);
      }
      yield right ? { index: i, timestamp: i / fps, image, right } : { index: i, timestamp: i / fps, image };
    }
  }
}
