/** What every frame source (dataset folder, video file, recording, live device) offers the pipeline. */
import type { VideoFrame } from '../../shared/frames.js';
import type { Seconds } from '../../shared/units.js';

export interface FrameSize {
  width: number;
  height: number;
}

export interface FrameSourceInfo {
  /** Size of the frames this source yields (the processing size when scaling). */
  width: number;
  height: number;
  /** Size of the original stream. */
  sourceWidth: number;
  sourceHeight: number;
  /** Nominal frames per second (exact rational value for NTSC rates), null when unknown. */
  fps: number | null;
  /** Number of frames when known in advance (dataset folders), else null. */
  frameCount: number | null;
  durationSeconds: Seconds | null;
  /** Human-readable origin for logs and errors. */
  description: string;
}

/** Where to start reading; frame numbers map to time through the nominal frame rate. */
export interface FrameRange {
  fromSeconds?: Seconds;
  fromFrame?: number;
  /** Stop after this many frames. */
  maxFrames?: number;
}

/**
 * An async iterable of frames in source order. Iterating twice reads the source twice. Breaking out
 * of a `for await` loop releases the underlying process or files.
 */
export interface FrameSource extends AsyncIterable<VideoFrame> {
  readonly info: FrameSourceInfo;
  frames(range?: FrameRange): AsyncGenerator<VideoFrame, void, undefined>;
}

/** A source that failed part-way: every frame before `framesDelivered` was already yielded intact. */
export class FrameSourceError extends Error {
  constructor(
    message: string,
    readonly framesDelivered: number,
  ) {
    super(message);
    this.name = 'FrameSourceError';
  }
}

export function validateFrameSize(size: FrameSize, what = 'processing size'): void {
  const ok = (v: number): boolean => Number.isInteger(v) && v > 0 && v <= 16384;
  if (!ok(size.width) || !ok(size.height))
    throw new RangeError(`${what}: invalid size ${size.width}x${size.height}`);
}

export function validateRange(range: FrameRange): void {
  if (range.fromFrame !== undefined && (!Number.isInteger(range.fromFrame) || range.fromFrame < 0)) {
    throw new RangeError(`fromFrame must be a non-negative integer, got ${range.fromFrame}`);
  }
  if (range.fromSeconds !== undefined && !(Number.isFinite(range.fromSeconds) && range.fromSeconds >= 0)) {
    throw new RangeError(`fromSeconds must be a non-negative number of seconds, got ${range.fromSeconds}`);
  }
  if (range.maxFrames !== undefined && (!Number.isInteger(range.maxFrames) || range.maxFrames < 0)) {
    throw new RangeError(`maxFrames must be a non-negative integer, got ${range.maxFrames}`);
  }
}
