/**
 * Records a live source into a case: LiveCapture writes the video (crash-safe fragmented MP4 by
 * default) into the case folder while this class writes the frame index (frame number, pts,
 * monotonic wall clock) into the case store in small transactions, stores the wall-clock offset of
 * the recording, and closes the recording row with its outcome. After a crash the store's recovery
 * closes the row on next open; `restart()` continues into a new segment after a failure.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { CaseStore, RecordingRecord } from '../store/case-store.js';
import type { FrameRow } from '../store/validation.js';
import { type CaptureSource, describeSource, parseCaptureSource } from '../capture/capture-source.js';
import type { FrameSize } from '../capture/frame-source.js';
import {
  type CaptureResult,
  type CapturedFrame,
  LiveCapture,
  type RecordingCodec,
} from '../capture/live-capture.js';

export interface CaseRecorderOptions {
  source: CaptureSource;
  processingSize: FrameSize;
  /** Base name of the recording file (letters, digits, - and _); default: UTC time stamp. */
  name?: string;
  container?: 'mp4' | 'matroska';
  codec?: RecordingCodec;
  crf?: number;
  fragmentSeconds?: number;
  staleAfterMs?: number;
  queueCapacity?: number;
  startTimeoutMs?: number;
  /** How often buffered index rows are committed (default 250 ms). */
  indexFlushMs?: number;
}

export class CaseRecorder {
  private pending: FrameRow[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private offsetStored = false;
  private indexError: Error | null = null;
  /** Resolves when capture has ended and the recording row is closed. */
  readonly finished: Promise<{ capture: CaptureResult; recording: RecordingRecord }>;

  private constructor(
    readonly store: CaseStore,
    readonly caseId: string,
    readonly capture: LiveCapture,
    readonly recording: RecordingRecord,
    readonly options: CaseRecorderOptions,
    readonly segment: number,
    early: FrameRow[],
  ) {
    this.pending.push(...early);
    this.flushTimer = setInterval(() => this.flush(), options.indexFlushMs ?? 250);
    this.flushTimer.unref();
    this.finished = this.capture.done.then((result) => this.close(result));
  }

  /** Starts capture and recording; resolves once frames flow and the recording row exists. */
  static async start(
    store: CaseStore,
    caseId: string,
    options: CaseRecorderOptions,
    segment = 1,
  ): Promise<CaseRecorder> {
    store.getCase(caseId);
    const source = parseCaptureSource(options.source);
    const container = options.container ?? 'mp4';
    const base = options.name ?? new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(base))
      throw new Error(`recording name '${base}' must be 1-80 letters, digits, - or _`);
    const relPath = `recordings/${base}${segment > 1 ? `-part${segment}` : ''}.${container === 'mp4' ? 'mp4' : 'mkv'}`;
    const file = path.join(store.caseFolder(caseId), relPath);
    await mkdir(path.dirname(file), { recursive: true });

    // Frames arriving before the recording row exists are kept and written with the first flush.
    const early: FrameRow[] = [];
    let recorder: CaseRecorder | null = null;
    const capture = await LiveCapture.start({
      source: options.source,
      processingSize: options.processingSize,
      recording: {
        file,
        container,
        ...(options.codec ? { codec: options.codec } : {}),
        ...(options.crf !== undefined ? { crf: options.crf } : {}),
        ...(options.fragmentSeconds !== undefined ? { fragmentSeconds: options.fragmentSeconds } : {}),
      },
      ...(options.staleAfterMs !== undefined ? { staleAfterMs: options.staleAfterMs } : {}),
      ...(options.queueCapacity !== undefined ? { queueCapacity: options.queueCapacity } : {}),
      ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
      onFrame: (row) => (recorder ? recorder.pending.push(row) : early.push(row)),
    });
    const input = capture.input;
    let recording: RecordingRecord;
    try {
      recording = store.beginRecording(
        caseId,
        {
          relPath,
          container,
          source: describeSource(source),
          width: input?.width ?? options.processingSize.width,
          height: input?.height ?? options.processingSize.height,
          fps: input?.fps ?? null,
        },
        capture.pid ?? null,
      );
    } catch (err) {
      await capture.stop();
      throw err;
    }
    recorder = new CaseRecorder(store, caseId, capture, recording, options, segment, early);
    return recorder;
  }

  /** The newest frames for processing (drop-oldest; drops are counted in capture stats). */
  frames(): AsyncGenerator<CapturedFrame, void, undefined> {
    return this.capture.frames();
  }

  /** Stops capture; ffmpeg finishes the file, then the recording row is closed as 'complete'. */
  async stop(): Promise<{ capture: CaptureResult; recording: RecordingRecord }> {
    await this.capture.stop();
    return this.finished;
  }

  /** Starts the next segment with the same options (after a device loss or ffmpeg crash). */
  restart(): Promise<CaseRecorder> {
    return CaseRecorder.start(this.store, this.caseId, this.options, this.segment + 1);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    try {
      if (!this.offsetStored) {
        const first = rows[0]!;
        this.store.setRecordingWallOffset(this.recording.id, first.wallMs - first.pts * 1000);
        this.offsetStored = true;
      }
      this.store.appendFrames(this.recording.id, rows);
    } catch (err) {
      // The video keeps recording even if the index cannot be written (e.g. database busy):
      // keep the rows and retry on the next tick; report the problem when the recording closes.
      this.pending = rows.concat(this.pending);
      this.indexError = err as Error;
    }
  }

  private async close(
    result: CaptureResult,
  ): Promise<{ capture: CaptureResult; recording: RecordingRecord }> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flush();
    const status =
      result.reason === 'failed' ? (result.stats.framesReceived > 0 ? 'interrupted' : 'failed') : 'complete';
    const problems = [
      result.error?.message,
      this.pending.length > 0 ? `frame index incomplete: ${this.indexError?.message}` : undefined,
    ]
      .filter((m): m is string => m !== undefined)
      .join('; ');
    const recording = await this.store.finishRecording(this.recording.id, status, problems || null);
    return { capture: result, recording };
  }
}
