/**
 * The reconstruction pipeline: frames flow source -> depth -> tracking -> fusion -> mesh through
 * bounded queues, each stage awaiting its own worker so the stages overlap in time.
 *
 * Two schedules, chosen by what the stages can do:
 * - every frame: depth (with its motion prior) for each frame, then tracking, then fusion of keyframes.
 *   Used when depth is free (ground truth) or the pose stage needs it on every frame.
 * - keyframes (network depth + photometric tracking, the product path): the pose head's motion prior
 *   runs on every frame (2.4 ms), tracking aligns the frame to its keyframe, and only when tracking asks
 *   for a new keyframe does the depth network run (15 ms) on that frame. Tracking needs depth only on
 *   keyframes (the photometric residual warps keyframe points); measured on the bundled clips, leaving
 *   the per-frame network depth out of tracking made it 2x faster and, on samples/phantom, 3x more
 *   accurate (ATE 4.7 -> 1.4 mm): frame-to-frame scale noise of the network pulled the geometric term.
 *   Frames between keyframes carry the latest keyframe's depth for display (`depthFrame` says which).
 *
 * Drop policy: a live source never waits. Its frames enter a small 'drop-oldest' queue, so when
 * processing falls behind the oldest unprocessed frames are dropped (and counted) and processing always
 * works on the newest frames. An offline source (dataset, file) is paced by back-pressure instead and
 * every frame is processed. Between stages, queues block: a frame that entered processing is finished.
 */
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type { DepthImage, VideoFrame } from '../../shared/frames.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import type { StampedPose } from '../dataset/trajectory.js';
import { BoundedQueue } from './bounded-queue.js';
import type { PipelineEvent, StageStats } from './events.js';
import { StageTimer, type TimingSummary } from './stage-timer.js';
import type {
  DepthEstimate,
  DepthScaleSource,
  DepthStage,
  FusionInput,
  FusionStage,
  PoseStage,
  TrackOutput,
} from './stages.js';

export interface ReconstructOptions {
  source: AsyncIterable<VideoFrame>;
  /** Intrinsics of the frames the source delivers. */
  intrinsics: PinholeIntrinsics;
  depth: DepthStage;
  poses: PoseStage;
  /** Null runs depth and tracking only (no surface). */
  fusion: FusionStage | null;
  /** True for live sources: drop the oldest waiting frames instead of pausing the source. */
  live: boolean;
  /** Called for every frame whose depth was produced (e.g. to save it); runs in frame order. */
  onDepth?: (frame: VideoFrame, depth: DepthImage) => Promise<void>;
  /** Live progress: frames, mesh block updates, stats. */
  onEvent?: (event: PipelineEvent) => void;
  /**
   * Live mesh updates through onEvent: after a keyframe is fused, at most one per this many ms (the
   * blocks changed since the last update travel together); unset: no live mesh updates.
   */
  meshUpdateIntervalMs?: number;
  signal?: AbortSignal;
}

export interface ReconstructReport {
  framesIn: number;
  framesProcessed: number;
  framesDropped: number;
  keyframes: number;
  lostFrames: number;
  /** depth: the depth network's calls; poseHead: the motion prior alone (keyframe schedule). */
  stages: Record<StageName, TimingSummary>;
  /** 'keyframes': depth network on keyframes only; 'every-frame': depth for every frame. */
  schedule: DepthSchedule;
  executionProvider: string | null;
  /** Scale source of the run's depth (every frame's), null when the depth stage does not state it. */
  scaleSource: DepthScaleSource | null;
  wallSeconds: number;
  /** Per-frame tracking measures, averaged over frames that reported them. */
  trackingMeans: Record<string, number>;
  /** Set when the source failed part-way; the outputs hold the frames processed before it. */
  sourceError: string | null;
}

export interface ReconstructResult {
  report: ReconstructReport;
  /** One pose per processed frame that has one (camera-to-world, mm, world = first camera). */
  trajectory: StampedPose[];
  mesh: TriangleMesh | null;
}

export type DepthSchedule = 'keyframes' | 'every-frame';

/** How often the workstation's 3D view gets mesh updates while a run goes on (at most 5 per second). */
export const LIVE_MESH_UPDATE_INTERVAL_MS = 200;
type StageName = 'depth' | 'poseHead' | 'tracking' | 'fusion' | 'mesh';
const STAGE_NAMES: readonly StageName[] = ['depth', 'poseHead', 'tracking', 'fusion', 'mesh'];

/** The keyframe schedule needs a depth stage that splits motion from depth and a tracker that takes keyframe depth. */
export function depthScheduleOf(depth: DepthStage, poses: PoseStage): DepthSchedule {
  return depth.estimateMotion && depth.estimateDepth && poses.addKeyframe ? 'keyframes' : 'every-frame';
}

/** A frame's depth stage output; depth stays null until its keyframe depth (keyframe schedule). */
interface EstimateSoFar {
  depth: DepthImage | null;
  relativePose: DepthEstimate['relativePose'];
}

interface Tracked {
  frame: VideoFrame;
  depth: DepthImage;
  track: TrackOutput;
}

export async function runReconstruction(opts: ReconstructOptions): Promise<ReconstructResult> {
  const started = performance.now();
  const timers = Object.fromEntries(STAGE_NAMES.map((n) => [n, new StageTimer()])) as Record<
    StageName,
    StageTimer
  >;
  const schedule = depthScheduleOf(opts.depth, opts.poses);
  const toDepth = new BoundedQueue<VideoFrame>(2, opts.live ? 'drop-oldest' : 'block');
  const toTracking = new BoundedQueue<{ frame: VideoFrame; estimate: EstimateSoFar }>(2, 'block');
  const toFusion = new BoundedQueue<Tracked>(4, 'block');
  const trajectory: StampedPose[] = [];
  const trackingSums = new Map<string, { sum: number; n: number }>();
  let framesIn = 0;
  let processed = 0;
  let keyframes = 0;
  let lost = 0;
  let sourceError: string | null = null;
  let failure: Error | null = null;
  const emit = (e: PipelineEvent): void => opts.onEvent?.(e);
  const fail = (err: unknown): void => {
    failure ??= err instanceof Error ? err : new Error(String(err));
    for (const q of [toDepth, toTracking, toFusion]) q.close();
  };

  const stats = (): StageStats[] =>
    STAGE_NAMES.filter((name) => name !== 'poseHead' || schedule === 'keyframes').map((name) => {
      const s = timers[name].summary();
      return {
        name,
        processed: s.count,
        dropped: name === 'depth' ? toDepth.dropped : 0,
        meanMs: s.meanMs,
        p95Ms: s.p95Ms,
      };
    });
  const emitStats = (): void =>
    emit({
      type: 'stats',
      framesIn,
      framesProcessed: processed,
      framesDropped: toDepth.dropped,
      keyframes,
      stages: stats(),
      executionProvider: opts.depth.executionProvider,
    });

  const readSource = async (): Promise<void> => {
    try {
      for await (const frame of opts.source) {
        if (opts.signal?.aborted || toDepth.isClosed) break;
        framesIn++;
        await toDepth.push(frame);
      }
    } catch (err) {
      // Keep what was read: stop reading, let the stages finish the frames already queued.
      sourceError = (err as Error).message;
      emit({ type: 'log', level: 'error', message: `source failed: ${sourceError}` });
    } finally {
      toDepth.close();
    }
  };

  // Every frame gets depth (every-frame schedule) or only its motion prior (keyframe schedule).
  const runDepth = async (): Promise<void> => {
    try {
      for await (const frame of toDepth) {
        let estimate: EstimateSoFar;
        if (schedule === 'keyframes') {
          const relativePose = await timers.poseHead.time(() => opts.depth.estimateMotion!(frame));
          estimate = { depth: null, relativePose };
        } else {
          estimate = await timers.depth.time(() => opts.depth.estimate(frame));
          if (opts.onDepth) await opts.onDepth(frame, estimate.depth!);
        }
        await toTracking.push({ frame, estimate });
      }
    } catch (err) {
      fail(err);
    } finally {
      toTracking.close();
    }
  };

  // The latest depth, shown with the frames between keyframes.
  let shown: { depth: DepthImage; frame: number } | null = null;

  /** Everything after tracking, in frame order: counts, the frame event, fusion of keyframes. */
  const finishFrame = async (
    frame: VideoFrame,
    depth: DepthImage | null,
    track: TrackOutput,
  ): Promise<void> => {
    if (depth) shown = { depth, frame: frame.index };
    processed++;
    if (track.pose) trajectory.push({ timestamp: frame.timestamp, pose: track.pose });
    else lost++;
    for (const [k, v] of Object.entries(track.metrics)) {
      if (!Number.isFinite(v)) continue;
      const s = trackingSums.get(k) ?? { sum: 0, n: 0 };
      s.sum += v;
      s.n++;
      trackingSums.set(k, s);
    }
    emit({
      type: 'frame',
      index: frame.index,
      timestamp: frame.timestamp,
      rgb: frame.image,
      depth: shown?.depth ?? null,
      depthFrame: shown?.frame ?? null,
      pose: track.pose,
      trackingState: track.state,
      isKeyframe: track.isKeyframe,
      ...(opts.depth.scaleSource ? { scaleSource: opts.depth.scaleSource } : {}),
    });
    if (track.isKeyframe && track.pose && opts.fusion && depth) {
      keyframes++;
      await toFusion.push({ frame, depth, track });
    }
    if (processed % 10 === 0) emitStats();
  };

  /** The depth network on a frame tracking asked to be a keyframe, then the keyframe built from it. */
  const makeKeyframe = async (frame: VideoFrame, tracked: TrackOutput) => {
    // 'depth' times the network alone; building the keyframe is tracking's work.
    const depth = await timers.depth.time(() => opts.depth.estimateDepth!(frame));
    const track = await opts.poses.addKeyframe!(frame, depth, tracked);
    if (opts.onDepth) await opts.onDepth(frame, depth);
    return { frame, depth, track };
  };

  const runTracking = async (): Promise<void> => {
    // Keyframe schedule: a keyframe's depth (15 ms, depth worker) overlaps the tracking of the next
    // frame (tracking worker) against the previous keyframe, so the two cores work at once; the
    // keyframe is finished (event, fusion) before that next frame, keeping everything in frame order.
    let inflight: Promise<{ frame: VideoFrame; depth: DepthImage; track: TrackOutput }> | null = null;
    try {
      for await (const { frame, estimate } of toTracking) {
        const tracking = timers.tracking.time(() =>
          opts.poses.track({ frame, depth: estimate.depth, relativePose: estimate.relativePose }),
        );
        // Settled in either order below; a rejection here is reported by the await that follows.
        tracking.catch(() => undefined);
        let justMade = false;
        if (inflight) {
          const made = await inflight;
          inflight = null;
          justMade = true;
          await finishFrame(made.frame, made.depth, made.track);
        }
        const track = await tracking;
        if (track.needsKeyframe && schedule === 'keyframes' && !justMade) {
          if (track.pose === null) {
            // Initialising: nothing to overlap with, the world starts at this keyframe.
            const made = await makeKeyframe(frame, track);
            await finishFrame(frame, made.depth, made.track);
          } else {
            inflight = makeKeyframe(frame, track);
            // Observed now: it may fail while the loop waits for the next frame (awaited, and thrown, there).
            inflight.catch(() => undefined);
          }
          continue;
        }
        await finishFrame(frame, estimate.depth, track);
      }
      if (inflight) {
        const made = await inflight;
        inflight = null;
        await finishFrame(made.frame, made.depth, made.track);
      }
    } catch (err) {
      fail(err);
      // A keyframe still in flight must not reject unobserved.
      await (inflight as Promise<unknown> | null)?.catch(() => undefined);
    } finally {
      toFusion.close();
    }
  };

  const runFusion = async (): Promise<void> => {
    const fusion = opts.fusion;
    if (!fusion) return;
    const interval = opts.meshUpdateIntervalMs;
    let lastUpdate = -Infinity;
    // Two integrations in flight: the next frame already waits in the fusion worker while the current
    // one is fused, so the worker never idles for a message round trip (measured: 2.0-2.7 ms per call
    // one at a time against 0.73 ms of kernel). The worker applies them in call order.
    const inFlight: Promise<void>[] = [];
    let previousDone = 0;
    const integrate = (input: FusionInput): Promise<void> => {
      const called = performance.now();
      return fusion.integrate(input).then(() => {
        // The time this call had the worker: from its call or the previous call's end, whichever is later.
        const now = performance.now();
        timers.fusion.add(now - Math.max(called, previousDone));
        previousDone = now;
      });
    };
    try {
      for await (const { frame, depth, track } of toFusion) {
        const call = integrate({ rgb: frame.image, depth, pose: track.pose!, intrinsics: opts.intrinsics });
        // Observed now: the second call may fail while the loop waits (awaited, and thrown, below).
        call.catch(() => undefined);
        inFlight.push(call);
        if (inFlight.length >= 2) await inFlight.shift();
        if (interval !== undefined && opts.onEvent && performance.now() - lastUpdate >= interval) {
          lastUpdate = performance.now();
          // Queued behind the integrations above, so the update includes this frame.
          const update = await timers.mesh.time(() => fusion.extractChanged());
          emit({ type: 'mesh', ...update, totalVertices: -1, frameIndex: frame.index });
        }
      }
      await Promise.all(inFlight.splice(0));
    } catch (err) {
      fail(err);
      await Promise.allSettled(inFlight);
    }
  };

  await Promise.all([readSource(), runDepth(), runTracking(), runFusion()]);
  if (failure) throw failure;

  let mesh: TriangleMesh | null = null;
  if (opts.fusion && keyframes > 0) mesh = await timers.mesh.time(() => opts.fusion!.extractMesh());
  emitStats();

  const trackingMeans: Record<string, number> = {};
  for (const [k, { sum, n }] of trackingSums) trackingMeans[k] = sum / n;
  const report: ReconstructReport = {
    framesIn,
    framesProcessed: processed,
    framesDropped: toDepth.dropped,
    keyframes,
    lostFrames: lost,
    stages: Object.fromEntries(STAGE_NAMES.map((n) => [n, timers[n].summary()])) as Record<
      StageName,
      TimingSummary
    >,
    schedule,
    executionProvider: opts.depth.executionProvider,
    scaleSource: opts.depth.scaleSource ?? null,
    wallSeconds: Math.round(performance.now() - started) / 1000,
    trackingMeans,
    sourceError,
  };
  return { report, trajectory, mesh };
}
