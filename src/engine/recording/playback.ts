/**
 * Case review: plays a recording back through the same FrameSource interface as live and file
 * input, seekable by time and by frame. Frame numbers and timestamps come from the recording's
 * frame index in the case store (the numbers the pipeline saw live); an interrupted recording is
 * played up to its last complete fragment.
 */
import type { VideoFrame } from '../../shared/frames.js';
import type { CaseStore, RecordingRecord } from '../store/case-store.js';
import type { FrameRow } from '../store/validation.js';
import {
  type FrameRange,
  type FrameSize,
  type FrameSource,
  type FrameSourceInfo,
  validateRange,
} from '../capture/frame-source.js';
import { VideoFileFrameSource } from '../capture/video-file-source.js';

export class RecordingFrameSource implements FrameSource {
  private constructor(
    readonly recording: RecordingRecord,
    readonly info: FrameSourceInfo,
    private readonly video: VideoFileFrameSource,
    private readonly index: FrameRow[],
  ) {}

  static async open(store: CaseStore, recordingId: number, size?: FrameSize): Promise<RecordingFrameSource> {
    const rec = store.getRecording(recordingId);
    if (rec.status === 'recording') throw new Error(`recording ${recordingId} is still being written`);
    const file = store.recordingPath(rec);
    const video = await VideoFileFrameSource.open(file, {
      ...(size ? { size } : {}),
      // An interrupted recording ends mid-fragment: play what is complete without failing.
      tolerateErrors: rec.status !== 'complete',
    });
    const index = store.frameIndex(recordingId);
    return new RecordingFrameSource(
      rec,
      {
        ...video.info,
        fps: rec.fps ?? video.info.fps,
        frameCount: index.length,
        durationSeconds: index.length > 0 ? index.at(-1)!.pts : video.info.durationSeconds,
        description: `recording ${rec.id} (${rec.relPath}, ${rec.status})`,
      },
      video,
      index,
    );
  }

  /** Frame index row of a frame number, or null when the index does not have it. */
  frameRow(frameNumber: number): FrameRow | null {
    const row = this.index[frameNumber];
    return row && row.frameNumber === frameNumber
      ? row
      : (this.index.find((r) => r.frameNumber === frameNumber) ?? null);
  }

  /** The frame shown at `seconds`: the last one whose pts is not after it. */
  frameAtTime(seconds: number): number {
    let lo = 0;
    let hi = this.index.length - 1;
    if (hi < 0 || seconds < this.index[0]!.pts) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.index[mid]!.pts <= seconds + 1e-6) lo = mid;
      else hi = mid - 1;
    }
    return this.index[lo]!.frameNumber;
  }

  [Symbol.asyncIterator](): AsyncIterator<VideoFrame> {
    return this.frames();
  }

  async *frames(range: FrameRange = {}): AsyncGenerator<VideoFrame, void, undefined> {
    validateRange(range);
    const start =
      range.fromFrame ?? (range.fromSeconds !== undefined ? this.frameAtTime(range.fromSeconds) : 0);
    const row = this.frameRow(start);
    const fps = this.info.fps ?? 30;
    // Seek half a frame early so that timestamp rounding in the container never skips the frame.
    const seekTo = Math.max(0, (row?.pts ?? start / fps) - 0.5 / fps);
    let n = start;
    for await (const frame of this.video.frames({
      ...(start > 0 ? { fromSeconds: seekTo } : {}),
      ...(range.maxFrames !== undefined ? { maxFrames: range.maxFrames } : {}),
    })) {
      const indexed = this.frameRow(n);
      yield { index: n, timestamp: indexed?.pts ?? frame.timestamp, image: frame.image };
      n++;
    }
  }
}
