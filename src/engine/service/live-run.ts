/**
 * One reconstruction run started from the UI: paces the source at its frame rate (a replayed file
 * behaves like a live endoscope, dropping the oldest frames when processing falls behind), runs the
 * pipeline, records the run folder, and turns pipeline events into API events, frames and mesh
 * blocks.
 */
import type { FrameBundle, MeshBlocksUpdate } from '../../shared/api/binary.js';
import type { NavEvent, RunStatus, RunSummary } from '../../shared/api/schemas.js';
import type { VideoFrame } from '../../shared/frames.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import type { PipelineEvent, StatsEvent, TrackingState } from '../pipeline/events.js';
import { buildReport, writeReport, writeTrajectoryAndMesh } from '../pipeline/output-folder.js';
import { DEFAULT_FUSION_SETTINGS } from '../pipeline/product-stages.js';
import { LIVE_MESH_UPDATE_INTERVAL_MS, runReconstruction } from '../pipeline/reconstruct.js';
import type { CaseRepository } from './case-repository.js';
import { RunFolderWriter, poseToArray } from './run-folder.js';
import type { OpenedSource } from './sources.js';
import type { RunStages } from './stage-factory.js';

export interface RunSinks {
  event(e: NavEvent): void;
  frame(f: FrameBundle): void;
  mesh(u: MeshBlocksUpdate): void;
}

const now = (): number => performance.timeOrigin + performance.now();

/** Yields frames no faster than their timestamps divided by speed, and notes when each entered. */
async function* paced(
  frames: AsyncIterable<VideoFrame>,
  speed: number,
  entered: Map<number, number>,
  signal: AbortSignal,
): AsyncGenerator<VideoFrame> {
  const start = performance.now();
  for await (const frame of frames) {
    if (signal.aborted) return;
    const due = start + (frame.timestamp / speed) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    entered.set(frame.index, now());
    yield frame;
  }
}

export class LiveRun {
  private readonly abort = new AbortController();
  private state: RunStatus['state'] = 'starting';
  private error: string | null = null;
  private startedAt = performance.now();
  private endedAt: number | null = null;
  private readonly entered = new Map<number, number>();
  private latencies: number[] = [];
  private runLatency = { sum: 0, n: 0 };
  private lastStats: { at: number; processed: Map<string, number> } | null = null;
  /** The pipeline's latest stats and when they came: the run's rates are reported from them at the end. */
  private lastPipelineStats: { at: number; event: StatsEvent } | null = null;
  private indexFailed = false;
  private lastTracking: TrackingState | null = null;
  private frameCount = 0;
  private keyframeCount = 0;
  private lastTime = 0;
  /** The live surface, block by block, so a late subscriber can be sent all of it. */
  readonly blocks = new Map<string, TriangleMesh>();
  done: Promise<void> = Promise.resolve();

  private constructor(
    private readonly repo: CaseRepository,
    private readonly summary: RunSummary,
    private readonly source: OpenedSource,
    private readonly stages: RunStages,
    private readonly writer: RunFolderWriter,
    private readonly speed: number,
    private readonly sinks: RunSinks,
  ) {}

  static async start(
    repo: CaseRepository,
    summary: RunSummary,
    source: OpenedSource,
    stages: RunStages,
    speed: number,
    sinks: RunSinks,
  ): Promise<LiveRun> {
    const folder = await repo.createRun(summary);
    const k = source.intrinsics;
    const writer = await RunFolderWriter.create(
      folder,
      { spec: source.spec, datasetRoot: source.dataset?.root ?? null, description: source.description },
      {
        width: k.width,
        height: k.height,
        fx: k.fx,
        fy: k.fy,
        cx: k.cx,
        cy: k.cy,
        fps: source.fps,
        ...(source.dataset ? { depth_scale: source.dataset.intrinsics.depth_scale } : {}),
      },
    );
    const run = new LiveRun(repo, summary, source, stages, writer, speed, sinks);
    for (const note of stages.notes) run.log('info', note);
    run.done = run.run();
    return run;
  }

  get runId(): string {
    return this.summary.id;
  }

  get caseId(): string {
    return this.summary.caseId;
  }

  status(): RunStatus {
    const end = this.endedAt ?? performance.now();
    return {
      state: this.state,
      caseId: this.summary.caseId,
      runId: this.summary.id,
      source: this.source.description,
      recording: this.state === 'running' || this.state === 'stopping',
      elapsedS: Math.max(0, (end - this.startedAt) / 1000),
      error: this.error,
      camera: this.summary.camera,
    };
  }

  async stop(): Promise<void> {
    if (this.state === 'running' || this.state === 'starting') this.setState('stopping');
    this.abort.abort();
    await this.done;
  }

  private setState(state: RunStatus['state']): void {
    this.state = state;
    this.sinks.event({ type: 'run', status: this.status() });
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.sinks.event({ type: 'log', level, message, time: new Date().toISOString() });
  }

  private async run(): Promise<void> {
    this.startedAt = performance.now();
    this.setState('running');
    const signal = this.abort.signal;
    try {
      const result = await runReconstruction({
        source: paced(this.source.frames, this.speed, this.entered, signal),
        intrinsics: this.source.intrinsics,
        depth: this.stages.depth,
        poses: this.stages.poses,
        fusion: this.stages.fusion,
        live: true,
        onDepth: (frame, depth) => this.writer.writeDepth(frame.index, depth),
        onEvent: (e) => this.onPipelineEvent(e),
        meshUpdateIntervalMs: LIVE_MESH_UPDATE_INTERVAL_MS,
        signal,
      });
      await this.writer.flush();
      const folder = this.writer.folder;
      await writeTrajectoryAndMesh(folder, result);
      await writeReport(
        folder,
        buildReport(result, {
          input: this.source.description,
          modes: { depth: this.stages.depth.name, poses: this.stages.poses.name },
          voxelSizeMm: DEFAULT_FUSION_SETTINGS.voxelSize,
        }),
      );
      await this.repo.registerResults(this.summary.caseId, this.summary.id, {
        trajectory: result.trajectory,
        mesh: result.mesh,
        parameters: { stages: this.stages.notes, source: this.source.description, report: result.report },
      });
      if (result.mesh) this.publishFinalMesh(result.mesh);
      await this.finish(result.report.sourceError ? 'interrupted' : 'complete', !!result.mesh);
      this.emitRunStats();
      this.setState('finished');
    } catch (err) {
      this.error = (err as Error).message;
      this.log('error', `run failed: ${this.error}`);
      await this.writer.flush().catch(() => undefined);
      await this.finish('failed', false).catch(() => undefined);
      this.emitRunStats();
      this.setState('failed');
    } finally {
      this.endedAt = performance.now();
      await Promise.allSettled([
        this.stages.depth.close(),
        this.stages.poses.close(),
        this.stages.fusion?.close(),
      ]);
    }
  }

  private async finish(state: RunSummary['state'], hasMesh: boolean): Promise<void> {
    await this.repo.updateRun({
      ...this.summary,
      durationS: this.lastTime,
      frameCount: this.frameCount,
      keyframeCount: this.keyframeCount,
      hasMesh,
      state,
    });
  }

  /** After the run, the whole surface replaces the incremental blocks (it is what review shows). */
  private publishFinalMesh(mesh: TriangleMesh): void {
    this.blocks.clear();
    this.blocks.set('final', mesh);
    this.sinks.mesh({
      reset: true,
      changed: [{ key: 'final', mesh }],
      removed: [],
      totalVertices: mesh.positions.length / 3,
    });
  }

  private onPipelineEvent(e: PipelineEvent): void {
    switch (e.type) {
      case 'frame': {
        const entered = this.entered.get(e.index);
        // Frames come out in order; the ones dropped before this one will never come: forget them too.
        for (const index of this.entered.keys()) {
          if (index > e.index) break;
          this.entered.delete(index);
        }
        const produced = now();
        if (entered !== undefined) {
          this.latencies.push(produced - entered);
          this.runLatency.sum += produced - entered;
          this.runLatency.n++;
        }
        this.frameCount++;
        if (e.isKeyframe) this.keyframeCount++;
        this.lastTime = e.timestamp;
        this.writer
          .appendFrame({
            i: e.index,
            t: e.timestamp,
            k: e.isKeyframe,
            s: e.trackingState,
            p: poseToArray(e.pose),
            d: e.depthFrame === e.index,
            ...(e.depthFrame !== null && e.depthFrame !== e.index ? { df: e.depthFrame } : {}),
          })
          .catch((err: Error) => {
            // Said once; flush() at the end of the run fails the run with the same error.
            if (this.indexFailed) return;
            this.indexFailed = true;
            this.log('error', `recording: ${err.message}`);
          });
        if (e.trackingState !== this.lastTracking) {
          this.lastTracking = e.trackingState;
          this.sinks.event({ type: 'tracking', state: e.trackingState, frameId: e.index });
        }
        this.sinks.frame({
          frameId: e.index,
          timeS: e.timestamp,
          producedAtMs: produced,
          rgb: e.rgb,
          depth: e.depth,
          depthFrameId: e.depthFrame,
          pose: e.pose,
          trackingState: e.trackingState,
          isKeyframe: e.isKeyframe,
        });
        break;
      }
      case 'mesh': {
        for (const b of e.changedBlocks) this.blocks.set(b.key, b.mesh);
        for (const k of e.removedBlocks) this.blocks.delete(k);
        let total = 0;
        for (const m of this.blocks.values()) total += m.positions.length / 3;
        this.sinks.mesh({
          reset: false,
          changed: e.changedBlocks,
          removed: e.removedBlocks,
          totalVertices: total,
        });
        break;
      }
      case 'stats':
        this.sinks.event(this.toStatsEvent(e));
        break;
      case 'log':
        this.log(e.level, e.message);
        break;
    }
  }

  /**
   * Once the run has ended: every stage's rate over the whole run (frames / seconds of processing) and
   * the run's mean latency, so the status bar keeps showing what the run achieved.
   */
  private emitRunStats(): void {
    const last = this.lastPipelineStats;
    if (!last) return;
    const seconds = (last.at - this.startedAt) / 1000;
    const e = last.event;
    this.sinks.event({
      type: 'stats',
      scope: 'run',
      framesIn: e.framesIn,
      framesProcessed: e.framesProcessed,
      framesDropped: e.framesDropped,
      keyframes: e.keyframes,
      executionProvider: e.executionProvider,
      latencyMs: this.runLatency.n ? this.runLatency.sum / this.runLatency.n : 0,
      stages: e.stages.map((s) => ({ ...s, rateHz: seconds > 0 ? s.processed / seconds : 0 })),
    });
  }

  private toStatsEvent(e: StatsEvent): NavEvent {
    const at = performance.now();
    this.lastPipelineStats = { at, event: e };
    const prev = this.lastStats;
    const processed = new Map(e.stages.map((s) => [s.name, s.processed]));
    this.lastStats = { at, processed };
    const latency = this.latencies.length
      ? this.latencies.reduce((s, x) => s + x, 0) / this.latencies.length
      : 0;
    this.latencies = [];
    return {
      type: 'stats',
      scope: 'recent',
      framesIn: e.framesIn,
      framesProcessed: e.framesProcessed,
      framesDropped: e.framesDropped,
      keyframes: e.keyframes,
      executionProvider: e.executionProvider,
      latencyMs: latency,
      stages: e.stages.map((s) => {
        const before = prev?.processed.get(s.name) ?? 0;
        const seconds = prev ? (at - prev.at) / 1000 : (at - this.startedAt) / 1000;
        return { ...s, rateHz: seconds > 0 ? Math.max(0, (s.processed - before) / seconds) : 0 };
      }),
    };
  }
}
