/**
 * Replays a recorded run over OpenIGTLink (`navws igtl-replay`), paced at its own frame times: the
 * poses of trajectory.txt (or, in a case-store run folder, frames.jsonl with the tracking state of
 * every processed frame), the surface of mesh.ply, and the video frames from the run's dataset
 * (source.json's dataset in a case-store run, report.json's input for a `navws reconstruct` output,
 * or one given explicitly), and the run's depth maps (depth/) when asked.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DepthImage, RgbImage, VideoFrame } from '../../shared/frames.js';
import { mat4FromArray } from '../../shared/math/mat4.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import { DatasetFrameSource } from '../capture/dataset-source.js';
import { frameFileName } from '../dataset/dataset.js';
import { readDepthPng } from '../dataset/images.js';
import { readIntrinsics } from '../dataset/intrinsics.js';
import { readTum } from '../dataset/trajectory.js';
import { readPly } from '../formats/ply.js';
import type { TrackingState } from '../pipeline/events.js';
import type { IgtlFrameInput } from './publisher.js';
import type { IgtlSession } from './session.js';

export interface ReplayFrame {
  index: number | null;
  timestamp: number;
  pose: Float64Array | null;
  trackingState: TrackingState;
}

export interface RecordedRun {
  folder: string;
  frames: ReplayFrame[];
  mesh: TriangleMesh | null;
  /** Dataset folder holding the video, when it is still there. */
  videoRoot: string | null;
  /** Depth PNGs and their scale (units per mm), when the run saved them. */
  depth: { folder: string; scale: number } | null;
  notes: string[];
}

const frameLine = (json: unknown): ReplayFrame | null => {
  if (typeof json !== 'object' || json === null) return null;
  const r = json as { i?: unknown; t?: unknown; s?: unknown; p?: unknown };
  if (typeof r.i !== 'number' || typeof r.t !== 'number' || typeof r.s !== 'string') return null;
  if (!['initialising', 'tracking', 'lost', 'relocalised'].includes(r.s)) return null;
  const p =
    Array.isArray(r.p) && r.p.length === 16 && r.p.every(Number.isFinite)
      ? mat4FromArray(r.p as number[])
      : null;
  return { index: r.i, timestamp: r.t, pose: p, trackingState: r.s as TrackingState };
};

export async function readRecordedRun(folder: string, video?: string): Promise<RecordedRun> {
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new Error(`${folder}: no such run folder`);
  const notes: string[] = [];
  const trajectoryFile = path.join(folder, 'trajectory.txt');
  const framesFile = path.join(folder, 'frames.jsonl');
  let frames: ReplayFrame[] = [];
  if (existsSync(framesFile)) {
    const lines = (await readFile(framesFile, 'utf8')).split('\n');
    lines.forEach((line, n) => {
      if (line.trim() === '') return;
      let parsed: ReplayFrame | null = null;
      try {
        parsed = frameLine(JSON.parse(line));
      } catch {
        if (n >= lines.length - 2) return; // a crash can cut the last line short
      }
      if (!parsed) throw new Error(`${framesFile}:${n + 1}: not a frame record`);
      frames.push(parsed);
    });
  }
  if (frames.length === 0) {
    if (!existsSync(trajectoryFile))
      throw new Error(`${folder}: neither trajectory.txt nor frames.jsonl (is it a run folder?)`);
    frames = (await readTum(trajectoryFile)).map((p) => ({
      index: null,
      timestamp: p.timestamp,
      pose: p.pose,
      trackingState: 'tracking' as const,
    }));
  }
  if (frames.length === 0) throw new Error(`${folder}: the run has no frames`);
  const meshFile = path.join(folder, 'mesh.ply');
  const mesh = existsSync(meshFile) ? await readPly(meshFile) : null;
  if (!mesh) notes.push('no mesh.ply: no surface is sent');

  let videoRoot: string | null = video ?? null;
  if (!videoRoot) {
    const candidates: string[] = [];
    const sourceFile = path.join(folder, 'source.json');
    if (existsSync(sourceFile)) {
      const root = (JSON.parse(await readFile(sourceFile, 'utf8')) as { datasetRoot?: unknown }).datasetRoot;
      if (typeof root === 'string') candidates.push(root);
    }
    const reportFile = path.join(folder, 'report.json');
    if (existsSync(reportFile)) {
      const input = (JSON.parse(await readFile(reportFile, 'utf8')) as { input?: unknown }).input;
      if (typeof input === 'string') candidates.push(path.resolve(input));
    }
    videoRoot = candidates.find((c) => existsSync(path.join(c, 'intrinsics.json'))) ?? null;
    if (!videoRoot)
      notes.push("the run's video dataset was not found (give it with --video): no IMAGE is sent");
  } else if (!existsSync(path.join(videoRoot, 'intrinsics.json'))) {
    throw new Error(`${videoRoot}: not a dataset folder (no intrinsics.json)`);
  }
  let depth: RecordedRun['depth'] = null;
  const depthFolder = path.join(folder, 'depth');
  const intrinsicsFile = existsSync(path.join(folder, 'intrinsics.json'))
    ? path.join(folder, 'intrinsics.json')
    : videoRoot && path.join(videoRoot, 'intrinsics.json');
  if (existsSync(depthFolder) && intrinsicsFile)
    depth = { folder: depthFolder, scale: (await readIntrinsics(intrinsicsFile)).depth_scale };
  return { folder, frames, mesh, videoRoot, depth, notes };
}

export interface ReplayOptions {
  speed: number;
  loop: boolean;
  sendDepth: boolean;
  signal?: AbortSignal;
}

export interface ReplaySummary {
  loops: number;
  frames: number;
  withVideo: number;
}

/** Streams the run until it ends (or, looping, until `signal` aborts). */
export async function replayRun(
  run: RecordedRun,
  session: IgtlSession,
  opts: ReplayOptions,
): Promise<ReplaySummary> {
  if (!(opts.speed > 0)) throw new RangeError(`replay speed must be > 0, got ${opts.speed}`);
  const publisher = session.publisher;
  if (run.mesh) publisher.surface({ reset: true, changed: [{ key: 'run', mesh: run.mesh }], removed: [] });
  const first = run.frames[0]!.timestamp;
  const duration = run.frames[run.frames.length - 1]!.timestamp - first + 1 / 30;
  const summary: ReplaySummary = { loops: 0, frames: 0, withVideo: 0 };
  const started = performance.now();
  do {
    const video = run.videoRoot ? await DatasetFrameSource.open(run.videoRoot) : null;
    const frames = video?.frames()[Symbol.asyncIterator]() ?? null;
    let current: VideoFrame | null = null;
    const videoFor = async (f: ReplayFrame): Promise<RgbImage | null> => {
      if (!frames) return null;
      // Video frames come in order; advance to the one this record was made from (by index, else time).
      for (;;) {
        if (
          current &&
          (f.index !== null ? current.index >= f.index : current.timestamp >= f.timestamp - 1e-6)
        )
          break;
        const next = await frames.next();
        if (next.done) return null;
        current = next.value;
      }
      const hit =
        f.index !== null ? current.index === f.index : Math.abs(current.timestamp - f.timestamp) < 1e-3;
      return hit ? current.image : null;
    };
    const offset = summary.loops * duration;
    for (const f of run.frames) {
      if (opts.signal?.aborted) break;
      const due = started + ((f.timestamp - first + offset) / opts.speed) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const rgb = await videoFor(f);
      let depth: DepthImage | null = null;
      if (opts.sendDepth && run.depth && f.index !== null) {
        const file = path.join(run.depth.folder, frameFileName(f.index));
        if (existsSync(file)) depth = await readDepthPng(file, run.depth.scale);
      }
      const input: IgtlFrameInput = {
        index: f.index ?? summary.frames,
        timestamp: f.timestamp + offset,
        rgb,
        depth,
        pose: f.pose,
        trackingState: f.trackingState,
        capturedAtMs: performance.now(),
      };
      publisher.frame(input);
      summary.frames++;
      if (rgb) summary.withVideo++;
    }
    await frames?.return?.(undefined);
    summary.loops++;
  } while (opts.loop && !opts.signal?.aborted);
  return summary;
}
