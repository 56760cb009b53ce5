/**
 * Frames from any file (or URL) ffmpeg reads: ffmpeg decodes, scales to the processing size and pipes
 * rgb24 rawvideo on stdout; `showinfo` on stderr gives each frame's pts. Reading a file applies
 * back-pressure (ffmpeg waits while the consumer is busy), so no frame is dropped.
 */
import type { VideoFrame } from '../../shared/frames.js';
import { type FfmpegBinary, getFfmpeg } from './ffmpeg.js';
import { FfmpegProcess } from './ffmpeg-process.js';
import {
  type FrameRange,
  type FrameSize,
  type FrameSource,
  type FrameSourceInfo,
  FrameSourceError,
  validateFrameSize,
  validateRange,
} from './frame-source.js';
import { type VideoStreamInfo, probeVideo } from './probe.js';
import { RawFrameAssembler, TimestampTable, parseShowinfoLine } from './raw-frames.js';

export interface VideoFileOptions {
  /** Processing size; default: the stream's own size. */
  size?: FrameSize;
  /** swscale algorithm for resizing (default 'area', the right one for downscaling). */
  scaleFlags?: 'area' | 'bilinear' | 'bicubic' | 'lanczos' | 'neighbor';
  /** Extra ffmpeg input options placed before `-i` (e.g. ['-f', 'matroska']). */
  inputArgs?: readonly string[];
  /** Keep going past errors ffmpeg logs but survives (a damaged packet); default false for files. */
  tolerateErrors?: boolean;
}

/**
 * The ffmpeg output options that turn the first video stream into rgb24 frames with showinfo lines.
 * `scaleFlags` is swscale's flag string as given (e.g. 'area' for live, 'area+accurate_rnd' for review).
 */
export function rawvideoOutputArgs(
  binary: FfmpegBinary,
  size: FrameSize,
  scaleFlags: string,
  target = 'pipe:1',
  inputIndex = 0,
): string[] {
  return [
    '-map',
    `${inputIndex}:v:0`,
    '-vf',
    `scale=${size.width}:${size.height}:flags=${scaleFlags},showinfo`,
    ...passthroughTiming(binary),
    // The rawvideo encoder is frame-threaded in ffmpeg 5.x: with the default thread count each frame
    // left the pipe only when the next one arrived (one frame interval of latency). It is a copy, so
    // one thread costs nothing.
    '-threads',
    '1',
    '-flush_packets',
    '1',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    target,
  ];
}

/** Keeps ffmpeg from duplicating or dropping frames to reach a constant output rate. */
export function passthroughTiming(binary: FfmpegBinary): string[] {
  return binary.capabilities.fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough'];
}

export class VideoFileFrameSource implements FrameSource {
  private constructor(
    readonly input: string,
    readonly info: FrameSourceInfo,
    readonly stream: VideoStreamInfo,
    private readonly binary: FfmpegBinary,
    private readonly options: VideoFileOptions,
  ) {}

  /** Probes the input; fails naming the file when ffmpeg cannot read a video stream from it. */
  static async open(input: string, options: VideoFileOptions = {}): Promise<VideoFileFrameSource> {
    if (options.size) validateFrameSize(options.size);
    const binary = await getFfmpeg();
    const stream = await probeVideo(input, options.inputArgs ?? []);
    const size = options.size ?? { width: stream.width, height: stream.height };
    const fps = stream.fps;
    return new VideoFileFrameSource(
      input,
      {
        width: size.width,
        height: size.height,
        sourceWidth: stream.width,
        sourceHeight: stream.height,
        fps,
        frameCount: null,
        durationSeconds: stream.durationSeconds,
        description: `${input} (${stream.codec} ${stream.pixelFormat} ${stream.width}x${stream.height}${fps ? ` @ ${fps.toFixed(3)} fps` : ''})`,
      },
      stream,
      binary,
      options,
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<VideoFrame> {
    return this.frames();
  }

  async *frames(range: FrameRange = {}): AsyncGenerator<VideoFrame, void, undefined> {
    validateRange(range);
    const { width, height, fps } = this.info;
    let seek: number | null = null;
    let firstIndex = 0;
    if (range.fromFrame !== undefined && range.fromFrame > 0) {
      if (!fps) throw new Error(`${this.input}: cannot seek by frame, the stream has no known frame rate`);
      // A quarter frame early so that rounding never skips the requested frame.
      seek = this.stream.startSeconds + Math.max(0, (range.fromFrame - 0.25) / fps);
      firstIndex = range.fromFrame;
    } else if (range.fromSeconds !== undefined && range.fromSeconds > 0) {
      seek = this.stream.startSeconds + range.fromSeconds;
      firstIndex = fps ? Math.round(range.fromSeconds * fps) : 0;
    }
    const args = [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'level+info',
      ...(seek !== null ? ['-ss', seek.toFixed(6)] : []),
      // Keep source timestamps after an input seek, so pts_time stays on the file's time line.
      '-copyts',
      ...(this.options.inputArgs ?? []),
      '-i',
      this.input,
      '-an',
      '-sn',
      '-dn',
      ...(range.maxFrames !== undefined ? ['-frames:v', String(range.maxFrames)] : []),
      ...rawvideoOutputArgs(
        this.binary,
        { width, height },
        `${this.options.scaleFlags ?? 'area'}+accurate_rnd+full_chroma_int`,
      ),
    ];
    yield* readRawvideo({
      args,
      binary: this.binary,
      size: { width, height },
      describe: this.input,
      timestampOf: (pts, n) =>
        pts !== null ? Math.max(0, pts - this.stream.startSeconds) : fps ? (firstIndex + n) / fps : 0,
      firstIndex,
      strict: this.options.tolerateErrors !== true,
    });
  }
}

const TRUNCATED =
  /ended prematurely|end of file|\bEOF\b|truncat|Read error|Invalid data found when processing input/i;

export interface RawvideoRun {
  args: string[];
  binary: FfmpegBinary;
  size: FrameSize;
  describe: string;
  /** Source time of the n-th frame of this run given its showinfo pts (null when missing). */
  timestampOf: (pts: number | null, n: number) => number;
  firstIndex: number;
  /** Treat errors ffmpeg logs (corrupt or truncated input) as failures even when it exits 0. */
  strict: boolean;
}

/**
 * Runs ffmpeg and yields whole rgb24 frames. Frames are yielded as soon as they are complete; a
 * crash, non-zero exit or truncated last frame then ends the iteration with a FrameSourceError.
 */
export async function* readRawvideo(run: RawvideoRun): AsyncGenerator<VideoFrame, void, undefined> {
  const { width, height } = run.size;
  const times = new TimestampTable();
  const proc = await FfmpegProcess.spawn(run.args, {
    binary: run.binary,
    onStderrLine: (line) => {
      const entry = parseShowinfoLine(line);
      if (entry) times.add(entry);
    },
  });
  void proc.exited.then(() => times.end());
  const assembler = new RawFrameAssembler(width * height * 3);
  let n = 0;
  let finished = false;
  try {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      for (const data of assembler.push(chunk)) {
        const pts = await times.take(n);
        yield {
          index: run.firstIndex + n,
          timestamp: run.timestampOf(pts, n),
          image: { width, height, data },
        };
        n++;
      }
    }
    const exit = await proc.exited;
    finished = true;
    if (exit.code !== 0 || exit.signal !== null) {
      throw new FrameSourceError(
        `${run.describe}: ${proc.describeExit(exit)} after ${n} frames (${proc.reason()})`,
        n,
      );
    }
    if (assembler.pendingBytes > 0) {
      throw new FrameSourceError(
        `${run.describe}: stream truncated: last frame has ${assembler.pendingBytes} of ${assembler.frameBytes} bytes (after ${n} whole frames)`,
        n,
      );
    }
    // ffmpeg exits 0 on a file cut short or with corrupt packets but logs an error: a medical
    // review must not silently show fewer frames than were recorded.
    if (run.strict && proc.errorLines.length > 0) {
      const first = proc.errorLines[0]!.trim();
      // ffmpeg 5.x says "File ended prematurely", 4.x only "Read error": name the cause either way.
      const cut = proc.errorLines.some((l) => TRUNCATED.test(l))
        ? 'the file ends early (truncated or damaged): '
        : '';
      throw new FrameSourceError(`${run.describe}: read ${n} frames, then: ${cut}${first}`, n);
    }
  } finally {
    // The consumer stopped early (break/return) or an error escaped: do not leave ffmpeg behind.
    if (!finished) {
      proc.kill('SIGKILL');
      await proc.exited;
    }
  }
}
