/**
 * The reconstruction pipeline: frames flow source -> depth -> tracking -> fusion -> mesh through
 * bounded queues, each stage awaiting its own worker so the stages overlap in time.
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
  /** Keyframes between two incremental mesh updates sent through onEvent; unset: no live mesh updates. */
  meshUpdateEvery?: number;
  signal?: AbortSignal;
}

export interface ReconstructReport {
  framesIn: number;
  framesProcessed: number;
  framesDropped: number;
  keyframes: number;
  lostFrames: number;
  stages: Record<'depth' | 'tracking' | 'fusion' | 'mesh', TimingSummary>;
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

interface Tracked {
  frame: VideoFrame;
  depth: DepthImage;
  track: TrackOutput;
}

export async function runReconstruction(opts: ReconstructOptions): Promise<ReconstructResult> {
  const started = performance.now();
  const timers = {
    depth: new StageTimer(),
    tracking: new StageTimer(),
    fusion: new StageTimer(),
    mesh: new StageTimer(),
  };
  const toDepth = new BoundedQueue<VideoFrame>(2, opts.live ? 'drop-oldest' : 'block');
  const toTracking = new BoundedQueue<{ frame: VideoFrame; estimate: DepthEstimate }>(2, 'block');
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
    (['depth', 'tracking', 'fusion', 'mesh'] as const).map((name) => {
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

  const runDepth = async (): Promise<void> => {
    try {
      for await (const frame of toDepth) {
        const estimate = await timers.depth.time(() => opts.depth.estimate(frame));
        if (opts.onDepth) await opts.onDepth(frame, estimate.depth);
        await toTracking.push({ frame, estimate });
      }
    } catch (err) {
      fail(err);
    } finally {
      toTracking.close();
    }
  };

  const runTracking = async (): Promise<void> => {
    try {
      for await (const { frame, estimate } of toTracking) {
        const track = await timers.tracking.time(() =>
          opts.poses.track({ frame, depth: estimate.depth, relativePose: estimate.relativePose }),
        );
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
          depth: estimate.depth,
          pose: track.pose,
          trackingState: track.state,
          isKeyframe: track.isKeyframe,
          ...(opts.depth.scaleSource ? { scaleSource: opts.depth.scaleSource } : {}),
        });
        if (track.isKeyframe && track.pose && opts.fusion) {
          keyframes++;
          await toFusion.push({ frame, depth: estimate.depth, track });
        }
        if (processed % 10 === 0) emitStats();
      }
    } catch (err) {
      fail(err);
    } finally {
      toFusion.close();
    }
  };

  const runFusion = async (): Promise<void> => {
    const fusion = opts.fusion;
    if (!fusion) return;
    const every = opts.meshUpdateEvery === undefined ? 0 : Math.max(1, opts.meshUpdateEvery);
    let sinceUpdate = 0;
    try {
      for await (const { frame, depth, track } of toFusion) {
        await timers.fusion.time(() =>
          fusion.integrate({ rgb: frame.image, depth, pose: track.pose!, intrinsics: opts.intrinsics }),
        );
        if (every > 0 && opts.onEvent && ++sinceUpdate >= every) {
          sinceUpdate = 0;
          const update = await timers.mesh.time(() => fusion.extractChanged());
          emit({ type: 'mesh', ...update, totalVertices: -1 });
        }
      }
    } catch (err) {
      fail(err);
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
    stages: {
      depth: timers.depth.summary(),
      tracking: timers.tracking.summary(),
      fusion: timers.fusion.summary(),
      mesh: timers.mesh.summary(),
    },
    executionProvider: opts.depth.executionProvider,
    scaleSource: opts.depth.scaleSource ?? null,
    wallSeconds: Math.round(performance.now() - started) / 1000,
    trackingMeans,
    sourceError,
  };
  return { report, trajectory, mesh };
}
