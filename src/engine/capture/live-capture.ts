/**
 * Live capture: one ffmpeg process reads the source once and writes two outputs — the original at
 * full quality into a crash-safe recording (fragmented MP4 or Matroska, written as it arrives), and
 * rgb24 rawvideo at the processing size on stdout for the pipeline.
 *
 * Never block capture: this process reads stdout as fast as ffmpeg writes it (a stalled pipe would
 * stall the recording too), and hands frames to processing through a drop-oldest queue, counting
 * what it drops. The recording output is never dropped from. Every frame carries its source pts and
 * a monotonic wall-clock stamp. A watchdog reports a stale stream; device loss, a full disk and
 * ffmpeg crashes end the capture with a classified error, and whatever was recorded stays playable.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { VideoFrame } from '../../shared/frames.js';
import { BoundedQueue } from '../pipeline/bounded-queue.js';
import {
  type CaptureSource,
  deliversCompressed,
  describeSource,
  inputArgs,
  parseCaptureSource,
  sourceNeeds,
} from './capture-source.js';
import {
  type FfmpegBinary,
  FfmpegFeatureError,
  type FfmpegNeeds,
  getFfmpeg,
  requireFfmpeg,
} from './ffmpeg.js';
import { type FfmpegExit, FfmpegProcess } from './ffmpeg-process.js';
import { type FrameSize, validateFrameSize } from './frame-source.js';
import { type VideoStreamInfo, parseInputBanner } from './probe.js';
import { RawFrameAssembler, parseShowinfoLine } from './raw-frames.js';
import { passthroughTiming, rawvideoOutputArgs } from './video-file-source.js';

/** Milliseconds since the Unix epoch from the monotonic clock (never jumps with NTP adjustments). */
export function monotonicWallMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface CapturedFrame extends VideoFrame {
  /** Source presentation time relative to the first captured frame, seconds (same as `timestamp`). */
  pts: number;
  /** When the frame's last byte arrived here (monotonic, ms since epoch). */
  wallMs: number;
  /** When ffmpeg's processing output emitted the frame (its showinfo line arrived), same clock. */
  emittedWallMs: number;
}

export type RecordingCodec = 'copy' | 'h264' | 'ffv1' | 'mjpeg';

export interface RecordingTarget {
  file: string;
  container?: 'mp4' | 'matroska';
  /** Default: 'copy' for compressed sources (keeps the original bitstream), else 'h264'. */
  codec?: RecordingCodec;
  /** x264 constant rate factor (default 16: visually lossless). */
  crf?: number;
  /** Fragment / keyframe interval in seconds: the most a crash can lose (default 1). */
  fragmentSeconds?: number;
}

export interface LiveCaptureOptions {
  source: CaptureSource;
  processingSize: FrameSize;
  recording?: RecordingTarget | null;
  /** No frame for this long -> 'stale' event (default 1000 ms). */
  staleAfterMs?: number;
  /** Frames waiting for processing before the oldest is dropped (default 2). */
  queueCapacity?: number;
  /** How long start() waits for the first frame (default 15 s). */
  startTimeoutMs?: number;
  /** Every captured frame, synchronously and before any drop (the recording's frame index). */
  onFrame?: (frame: { frameNumber: number; pts: number; wallMs: number }) => void;
}

export type CaptureErrorKind =
  'source-unavailable' | 'unsupported-format' | 'device-lost' | 'disk-full' | 'ffmpeg-crashed' | 'no-frames';

export class CaptureError extends Error {
  constructor(
    readonly kind: CaptureErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CaptureError';
  }
}

export interface CaptureStats {
  /** Frames read from ffmpeg (= frames recorded and indexed). */
  framesReceived: number;
  /** Frames taken by processing. */
  framesDelivered: number;
  /** Frames discarded for processing because it was busy (never for the recording). */
  framesDropped: number;
  staleEvents: number;
  startedWallMs: number;
  lastFrameWallMs: number | null;
}

export interface CaptureResult {
  reason: 'stopped' | 'source-ended' | 'failed';
  error: CaptureError | null;
  stats: CaptureStats;
  exit: FfmpegExit;
  recordingFile: string | null;
}

export interface CaptureEvents {
  stale: [sinceLastFrameMs: number];
  resumed: [];
  error: [CaptureError];
  ended: [CaptureResult];
}

const ENCODER_OF: Record<Exclude<RecordingCodec, 'copy'>, string> = {
  h264: 'libx264',
  ffv1: 'ffv1',
  mjpeg: 'mjpeg',
};

function recordingCodec(target: RecordingTarget, compressedInput: boolean): RecordingCodec {
  return target.codec ?? (compressedInput ? 'copy' : 'h264');
}

/** The encoder a recording needs from the ffmpeg build (none when the bitstream is copied). */
export function recordingNeeds(target: RecordingTarget, compressedInput: boolean): FfmpegNeeds {
  const codec = recordingCodec(target, compressedInput);
  return codec === 'copy' ? {} : { encoders: [ENCODER_OF[codec]] };
}

/** The ffmpeg arguments of a recording output (before the file name). */
export function recordingOutputArgs(
  binary: FfmpegBinary,
  target: RecordingTarget,
  compressedInput: boolean,
  fps: number | null,
): string[] {
  const codec = recordingCodec(target, compressedInput);
  const fragment = target.fragmentSeconds ?? 1;
  const gop = String(Math.max(1, Math.round((fps ?? 30) * fragment)));
  const codecArgs: Record<RecordingCodec, string[]> = {
    copy: ['-c:v', 'copy'],
    // zerolatency: no lookahead/B-frames, sliced threads; frames leave the encoder as they arrive.
    h264: [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-crf',
      String(target.crf ?? 16),
      '-g',
      gop,
    ],
    ffv1: ['-c:v', 'ffv1', '-level', '3', '-g', gop, '-slices', '4', '-slicecrc', '1'],
    mjpeg: ['-c:v', 'mjpeg', '-q:v', '2'],
  };
  const container = target.container ?? 'mp4';
  const muxArgs =
    container === 'mp4'
      ? [
          '-f',
          'mp4',
          '-movflags',
          '+frag_keyframe+empty_moov+default_base_moof',
          '-frag_duration',
          String(Math.round(fragment * 1e6)),
        ]
      : ['-f', 'matroska', '-cluster_time_limit', String(Math.round(fragment * 1000))];
  return [
    '-map',
    '0:v:0',
    ...codecArgs[codec],
    ...(codec === 'copy' ? [] : passthroughTiming(binary)),
    ...muxArgs,
    '-flush_packets',
    '1',
  ];
}

function classify(
  lines: readonly string[],
  exit: FfmpegExit,
  framesReceived: number,
  reason: string,
): CaptureError {
  const text = lines.join('\n');
  if (/No space left on device|File too large/i.test(text) || exit.signal === 'SIGXFSZ') {
    const why =
      lines.find((l) => /No space left on device|File too large/i.test(l))?.trim() ??
      `ffmpeg was stopped by ${exit.signal ?? 'a write error'}: file size limit`;
    return new CaptureError(
      'disk-full',
      `recording stopped: disk full (${why}); the recording up to this point is kept`,
    );
  }
  if (framesReceived === 0) {
    if (
      /Invalid pixel format|not supported|Unsupported|Could not set video options|not a supported/i.test(text)
    ) {
      return new CaptureError(
        'unsupported-format',
        `the source does not support the requested format (${reason})`,
      );
    }
    if (exit.signal)
      return new CaptureError('ffmpeg-crashed', `ffmpeg was killed by ${exit.signal} before the first frame`);
    return new CaptureError('source-unavailable', `cannot open the source (${reason})`);
  }
  if (exit.signal) {
    return new CaptureError(
      'ffmpeg-crashed',
      `ffmpeg was killed by ${exit.signal} after ${framesReceived} frames; the recording up to the last fragment is kept`,
    );
  }
  return new CaptureError(
    'device-lost',
    `the source stopped delivering after ${framesReceived} frames (${reason}); the recording so far is kept`,
  );
}

export class LiveCapture extends EventEmitter<CaptureEvents> {
  readonly done: Promise<CaptureResult>;
  readonly description: string;
  private readonly queue: BoundedQueue<CapturedFrame>;
  private readonly stats: CaptureStats;
  private stale = false;
  private stopping = false;
  private watchdog: NodeJS.Timeout | null = null;
  private inputInfo: VideoStreamInfo | null = null;
  private readonly bannerLines: string[] = [];
  private readonly emitted = new Map<number, { pts: number | null; wallMs: number }>();
  private firstPts: number | null = null;

  private constructor(
    private readonly proc: FfmpegProcess,
    readonly options: LiveCaptureOptions,
    readonly processingSize: FrameSize,
    readonly recordingFile: string | null,
    firstFrame: { resolve: () => void; reject: (e: Error) => void },
  ) {
    super();
    this.description = describeSource(parseCaptureSource(options.source));
    this.queue = new BoundedQueue<CapturedFrame>(options.queueCapacity ?? 2, 'drop-oldest');
    this.stats = {
      framesReceived: 0,
      framesDelivered: 0,
      framesDropped: 0,
      staleEvents: 0,
      startedWallMs: monotonicWallMs(),
      lastFrameWallMs: null,
    };
    this.done = this.run(firstFrame);
    // 'error' without a listener would throw: the result of `done` carries the error too.
    this.on('error', () => undefined);
  }

  /**
   * Starts ffmpeg and resolves once frames flow (with the source's stream description), or rejects
   * with a CaptureError naming why the source could not be opened.
   */
  static async start(options: LiveCaptureOptions): Promise<LiveCapture> {
    validateFrameSize(options.processingSize);
    const source = parseCaptureSource(options.source);
    const binary = await getFfmpeg();
    const recording = options.recording ?? null;
    const fpsHint = source.kind === 'device' ? (source.fps ?? null) : null;
    try {
      requireFfmpeg(binary, sourceNeeds(source), `capture from ${describeSource(source)}`);
      if (recording)
        requireFfmpeg(binary, recordingNeeds(recording, deliversCompressed(source)), 'recording');
    } catch (err) {
      if (err instanceof FfmpegFeatureError) throw new CaptureError('unsupported-format', err.message);
      throw err;
    }
    const args = [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'level+info',
      ...(await inputArgs(options.source)),
      // Processing output first: ffmpeg serves outputs in order, so the pipeline's copy of a frame
      // leaves before the recording encoder spends time on it.
      ...rawvideoOutputArgs(binary, options.processingSize, 'area'),
      ...(recording
        ? [
            ...recordingOutputArgs(binary, recording, deliversCompressed(source), fpsHint),
            '-y',
            recording.file,
          ]
        : []),
    ];
    let capture: LiveCapture | null = null;
    const first = new Promise<void>((resolve, reject) => {
      void FfmpegProcess.spawn(args, {
        binary,
        keepLines: 200,
        onStderrLine: (line) => capture?.onStderr(line),
      }).then((proc) => {
        capture = new LiveCapture(proc, options, options.processingSize, recording?.file ?? null, {
          resolve,
          reject,
        });
      }, reject);
    });
    const timeoutMs = options.startTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        first,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new CaptureError(
                  'no-frames',
                  `no frame from ${describeSource(source)} within ${timeoutMs} ms`,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      const c = capture as LiveCapture | null;
      if (c) await c.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return capture!;
  }

  /** The source stream as ffmpeg describes it (size, rate, codec, pixel format). */
  get input(): VideoStreamInfo | null {
    return this.inputInfo;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  getStats(): CaptureStats {
    return { ...this.stats, framesDropped: this.queue.dropped };
  }

  /** The newest frames for processing; ends when the capture ends. Frames not taken in time are dropped. */
  async *frames(): AsyncGenerator<CapturedFrame, void, undefined> {
    for await (const frame of this.queue) {
      this.stats.framesDelivered++;
      yield frame;
    }
  }

  /** Ends the capture: ffmpeg finishes the recording (writes its last fragment) and exits. */
  async stop(): Promise<CaptureResult> {
    this.stopping = true;
    await this.proc.stop(5000);
    return this.done;
  }

  private onStderr(line: string): void {
    if (this.inputInfo === null) {
      this.bannerLines.push(line);
      if (/^Output #|^Stream mapping:/.test(line)) this.inputInfo = parseInputBanner(this.bannerLines);
    }
    const entry = parseShowinfoLine(line);
    if (entry) this.emitted.set(entry.n, { pts: entry.ptsTime, wallMs: monotonicWallMs() });
  }

  private async run(first: { resolve: () => void; reject: (e: Error) => void }): Promise<CaptureResult> {
    const staleAfter = this.options.staleAfterMs ?? 1000;
    this.watchdog = setInterval(() => this.checkStale(staleAfter), Math.max(20, staleAfter / 4));
    this.watchdog.unref();
    const { width, height } = this.processingSize;
    const assembler = new RawFrameAssembler(width * height * 3);
    const fpsGuess = (): number => this.inputInfo?.fps ?? 30;
    let n = 0;
    // Reading never awaits the consumer: the pipe is drained at ffmpeg's pace.
    this.proc.stdout.on('data', (chunk: Buffer) => {
      for (const data of assembler.push(chunk)) {
        const wallMs = monotonicWallMs();
        const emitted = this.emitted.get(n);
        this.emitted.delete(n);
        const rawPts = emitted?.pts ?? null;
        if (this.firstPts === null) this.firstPts = rawPts ?? 0;
        const pts = rawPts !== null ? rawPts - this.firstPts : n / fpsGuess();
        const frame: CapturedFrame = {
          index: n,
          timestamp: pts,
          pts,
          wallMs,
          emittedWallMs: emitted?.wallMs ?? wallMs,
          image: { width, height, data },
        };
        this.stats.framesReceived++;
        this.stats.lastFrameWallMs = wallMs;
        if (this.stale) {
          this.stale = false;
          this.emit('resumed');
        }
        this.options.onFrame?.({ frameNumber: n, pts, wallMs });
        void this.queue.push(frame);
        if (n === 0) first.resolve();
        n++;
      }
    });
    const exit = await this.proc.exited;
    if (this.watchdog) clearInterval(this.watchdog);
    this.queue.close();
    const stats = this.getStats();
    let result: CaptureResult;
    if (this.stopping) {
      result = { reason: 'stopped', error: null, stats, exit, recordingFile: this.recordingFile };
    } else if (
      exit.code === 0 &&
      exit.signal === null &&
      stats.framesReceived > 0 &&
      this.proc.errorLines.length === 0
    ) {
      result = { reason: 'source-ended', error: null, stats, exit, recordingFile: this.recordingFile };
    } else {
      const error = classify(this.proc.stderrTail(60), exit, stats.framesReceived, this.proc.reason());
      result = { reason: 'failed', error, stats, exit, recordingFile: this.recordingFile };
      this.emit('error', error);
    }
    first.reject(
      result.error ?? new CaptureError('no-frames', `${this.description}: ended before the first frame`),
    );
    this.emit('ended', result);
    return result;
  }

  private checkStale(staleAfter: number): void {
    const last = this.stats.lastFrameWallMs;
    if (last === null || this.stale) return;
    const since = monotonicWallMs() - last;
    if (since > staleAfter) {
      this.stale = true;
      this.stats.staleEvents++;
      this.emit('stale', since);
    }
  }
}
