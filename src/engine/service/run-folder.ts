/**
 * A run's folder: the reconstruction output contract (trajectory.txt, mesh.ply, depth/NNNNNN.png,
 * report.json; docs/formats.md) plus what review needs to replay it in sync:
 *   source.json   where the video frames come from (a dataset folder) and the camera
 *   intrinsics.json  camera and depth PNG scale of depth/
 *   frames.jsonl  one line per processed frame, appended as it happens (survives a crash):
 *                 {"i":index,"t":seconds,"k":keyframe,"s":tracking state,"p":[16 pose values]|null,"d":has depth,
 *                  "df":frame whose depth it shows (the latest keyframe's, when "d" is false; optional)}
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  describeZodError,
  sourceSchema,
  trackingStateSchema,
  type TimedPose,
} from '../../shared/api/schemas.js';
import { NavApiError } from '../../shared/api/nav-api.js';
import type { DepthImage } from '../../shared/frames.js';
import type { Mat4 } from '../../shared/math/mat4.js';
import { frameFileName } from '../dataset/dataset.js';
import { readDepthPng, writeDepthPng } from '../dataset/images.js';
import { type DatasetIntrinsics, readIntrinsics, writeIntrinsics } from '../dataset/intrinsics.js';
import type { TrackingState } from '../pipeline/events.js';

export const sourceRecordSchema = z.object({
  spec: sourceSchema,
  /** Dataset folder holding the video frames (rgb/ or rgb.mp4). */
  datasetRoot: z.string().nullable(),
  description: z.string(),
});
export type SourceRecord = z.output<typeof sourceRecordSchema>;

const frameLineSchema = z.object({
  i: z.number().int().nonnegative(),
  t: z.number().nonnegative(),
  k: z.boolean(),
  s: trackingStateSchema,
  p: z.array(z.number()).length(16).nullable(),
  d: z.boolean(),
  /** Keyframe schedule: the keyframe whose depth is shown with this frame (when not its own). */
  df: z.number().int().nonnegative().optional(),
});
export type FrameRecord = z.output<typeof frameLineSchema>;

/** Depth PNG units per mm when the source has no scale of its own (0.02 mm steps, up to 1.3 m). */
const DEFAULT_DEPTH_SCALE = 50;
/** Pending depth writes allowed before the depth stage is made to wait (recording never drops). */
const MAX_PENDING_WRITES = 16;
const FRAMES_FILE = 'frames.jsonl';

export class RunFolderWriter {
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();
  /**
   * Index appends run one after another in call order: concurrent appendFile calls may land in any
   * order (libuv's thread pool), and review binary-searches the index by time.
   */
  private indexTail: Promise<void> = Promise.resolve();
  private writeError: Error | null = null;
  private indexError: Error | null = null;
  private indexedFrames = 0;
  readonly intrinsics: DatasetIntrinsics;

  private constructor(
    readonly folder: string,
    intrinsics: DatasetIntrinsics,
  ) {
    this.intrinsics = intrinsics;
  }

  static async create(
    folder: string,
    source: SourceRecord,
    camera: Omit<DatasetIntrinsics, 'depth_scale'> & { depth_scale?: number },
  ): Promise<RunFolderWriter> {
    const intrinsics: DatasetIntrinsics = {
      ...camera,
      depth_scale: camera.depth_scale ?? DEFAULT_DEPTH_SCALE,
    };
    await mkdir(path.join(folder, 'depth'), { recursive: true });
    await writeFile(path.join(folder, 'source.json'), JSON.stringify(source, null, 1));
    await writeIntrinsics(path.join(folder, 'intrinsics.json'), intrinsics);
    await writeFile(path.join(folder, FRAMES_FILE), '');
    return new RunFolderWriter(folder, intrinsics);
  }

  /** Queues a depth map; resolves at once unless too many writes are pending (back-pressure, no drop). */
  async writeDepth(index: number, depth: DepthImage): Promise<void> {
    if (this.writeError) throw this.writeError;
    this.pending++;
    const copy: DepthImage = { width: depth.width, height: depth.height, data: depth.data.slice() };
    this.tail = this.tail.then(async () => {
      try {
        await writeDepthPng(
          path.join(this.folder, 'depth', frameFileName(index)),
          copy,
          this.intrinsics.depth_scale,
        );
      } catch (err) {
        this.writeError ??= err as Error;
      } finally {
        this.pending--;
      }
    });
    if (this.pending > MAX_PENDING_WRITES) await this.tail;
  }

  /**
   * Queues one line of the frame index, written after every line queued before it. Resolves when the
   * line is on disk; rejects with the first index write error. After that error nothing more is
   * appended: a failed append may have left half a line, which the reader tolerates only at the end.
   */
  appendFrame(record: FrameRecord): Promise<void> {
    const line = JSON.stringify(record) + '\n';
    const written = this.indexTail.then(async () => {
      if (this.indexError) throw this.indexError;
      try {
        await appendFile(path.join(this.folder, FRAMES_FILE), line);
        this.indexedFrames++;
      } catch (err) {
        this.indexError = new Error(
          `frame index ${path.join(this.folder, FRAMES_FILE)}: writing frame ${record.i} failed (${(err as Error).message}); the index keeps its first ${this.indexedFrames} frames`,
        );
        throw this.indexError;
      }
    });
    this.indexTail = written.catch(() => undefined);
    return written;
  }

  /** Waits for every queued depth write and index line; throws the first error of either. */
  async flush(): Promise<void> {
    await Promise.all([this.tail, this.indexTail]);
    if (this.writeError) throw this.writeError;
    if (this.indexError) throw this.indexError;
  }
}

export interface RunFolder {
  folder: string;
  source: SourceRecord;
  intrinsics: DatasetIntrinsics;
  frames: FrameRecord[];
}

export async function readRunFolder(folder: string): Promise<RunFolder> {
  const sourceFile = path.join(folder, 'source.json');
  if (!existsSync(sourceFile)) throw new NavApiError('not-found', `${folder}: run has no source.json`);
  const source = sourceRecordSchema.safeParse(JSON.parse(await readFile(sourceFile, 'utf8')));
  if (!source.success) throw new NavApiError('internal', describeZodError(source.error, sourceFile));
  const intrinsics = await readIntrinsics(path.join(folder, 'intrinsics.json'));
  const frames: FrameRecord[] = [];
  const framesFile = path.join(folder, FRAMES_FILE);
  const lines = existsSync(framesFile) ? (await readFile(framesFile, 'utf8')).split('\n') : [];
  lines.forEach((line, n) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      // A crash can cut the last line short; every complete line before it is kept.
      if (n >= lines.length - 2) return;
      throw new NavApiError('internal', `${framesFile}:${n + 1}: not valid JSON`);
    }
    const parsed = frameLineSchema.safeParse(json);
    if (!parsed.success)
      throw new NavApiError('internal', describeZodError(parsed.error, `${framesFile}:${n + 1}`));
    frames.push(parsed.data);
  });
  return { folder, source: source.data, intrinsics, frames: inTimeOrder(frames) };
}

/**
 * The index in time order. The writer appends in processing order, which is time order; an index
 * written otherwise (by a version whose appends could race) is sorted here, so review finds the right
 * frame instead of a binary search going astray.
 */
export function inTimeOrder(frames: FrameRecord[]): FrameRecord[] {
  for (let n = 1; n < frames.length; n++) {
    if (frames[n]!.t < frames[n - 1]!.t) return [...frames].sort((a, b) => a.t - b.t || a.i - b.i);
  }
  return frames;
}

/** The processed frame nearest to a time; `frames` in time order (as readRunFolder returns them). */
export function nearestFrame(frames: readonly FrameRecord[], timeS: number): FrameRecord | null {
  if (frames.length === 0) return null;
  let lo = 0;
  let hi = frames.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid]!.t < timeS) lo = mid + 1;
    else hi = mid;
  }
  const after = frames[lo]!;
  const before = frames[lo - 1];
  return before && timeS - before.t <= after.t - timeS ? before : after;
}

/** The depth shown with a frame (its own, or its keyframe's) and the frame it belongs to. */
export async function readRunDepth(
  run: RunFolder,
  record: FrameRecord,
): Promise<{ depth: DepthImage; frame: number } | null> {
  const frame = record.d ? record.i : (record.df ?? null);
  if (frame === null) return null;
  const file = path.join(run.folder, 'depth', frameFileName(frame));
  return existsSync(file) ? { depth: await readDepthPng(file, run.intrinsics.depth_scale), frame } : null;
}

export function trajectoryOf(run: RunFolder): TimedPose[] {
  return run.frames
    .filter((f): f is FrameRecord & { p: number[] } => f.p !== null)
    .map((f) => ({ frameId: f.i, timeS: f.t, pose: f.p, isKeyframe: f.k }));
}

export function poseToArray(pose: Mat4 | null): number[] | null {
  return pose ? Array.from(pose) : null;
}

export function trackingStateOf(record: FrameRecord): TrackingState {
  return record.s;
}
