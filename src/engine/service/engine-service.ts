/**
 * The engine service: the one Node-side implementation of NavApi. Both hosts (the Electron engine
 * process and the browser host) wrap this object; it validates every request against the shared
 * schemas, runs reconstructions through the pipeline, keeps cases in a CaseRepository and answers
 * review queries from the run folders. Paths from the UI pass its path policy (path-policy.ts): the
 * host-only methods below (not part of NavApi, so no renderer can call them) are how a host that showed
 * the user a native file dialog lets the engine use what was picked.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type FrameBundle, type MeshBlocksUpdate } from '../../shared/api/binary.js';
import {
  ListenerSet,
  NavApiError,
  type HostKind,
  type NavApi,
  type Unsubscribe,
  parseBinaryParams,
  parseParams,
  parseResult,
} from '../../shared/api/nav-api.js';
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type {
  BinaryParams,
  CameraInfo,
  CaseDetail,
  EngineStatus,
  IgtlSettings,
  MeshFormat,
  Method,
  NavEvent,
  Params,
  ParsedParams,
  Result,
  RunStatus,
} from '../../shared/api/schemas.js';
import { mat4FromArray, norm3, sub3 } from '../../shared/math/mat4.js';
import { DatasetFrameSource } from '../capture/dataset-source.js';
import { IgtlSession } from '../igtl/session.js';
import { type CaseRepository, newId } from './case-repository.js';
import { LiveRun } from './live-run.js';
import { StoreCaseRepository } from './store-repository.js';
import { exportMesh, readRunMesh } from './mesh-export.js';
import { PathPolicy, exportFileName, sourceRootsFromEnv } from './path-policy.js';
import { nearestFrame, readRunDepth, readRunFolder, trajectoryOf } from './run-folder.js';
import { listSources, openSource } from './sources.js';
import { type StageFactory, defaultStageFactory } from './stage-factory.js';

export interface EngineServiceOptions {
  host: HostKind;
  /** Folder holding one sub-folder per case. */
  casesRoot: string;
  /** Folder of bundled sample datasets (samples/). */
  samplesRoot: string;
  /** More folders `file` sources may come from; default: NAVWS_SOURCE_ROOTS. */
  sourceRoots?: readonly string[];
  repository?: CaseRepository;
  stageFactory?: StageFactory;
  version?: string;
}

const cameraOf = (k: PinholeIntrinsics): CameraInfo => ({
  width: k.width,
  height: k.height,
  fx: k.fx,
  fy: k.fy,
  cx: k.cx,
  cy: k.cy,
});

type Handler<M extends Method> = (params: ParsedParams<M>) => Promise<Result<M>>;
type Handlers = { [M in Method]: Handler<M> };

const IDLE: RunStatus = {
  state: 'idle',
  caseId: null,
  runId: null,
  source: null,
  recording: false,
  elapsedS: 0,
  error: null,
  camera: null,
};

export class EngineService implements NavApi {
  readonly host: HostKind;
  private readonly repoReady: Promise<CaseRepository>;
  private readonly stageFactory: StageFactory;
  private readonly events = new ListenerSet<NavEvent>();
  private readonly frames = new ListenerSet<FrameBundle>();
  private readonly meshes = new ListenerSet<MeshBlocksUpdate>();
  private run: LiveRun | null = null;
  /** The OpenIGTLink stream of the current run, when it asked for one; closed when the run ends. */
  private igtl: { session: IgtlSession; closed: Promise<void> } | null = null;
  private starting = false;
  private lastExecutionProvider: string | null = null;
  private readonly handlers: Handlers;
  private readonly paths: PathPolicy;

  constructor(private readonly options: EngineServiceOptions) {
    this.host = options.host;
    this.paths = new PathPolicy({
      samplesRoot: options.samplesRoot,
      casesRoot: options.casesRoot,
      sourceRoots: options.sourceRoots ?? sourceRootsFromEnv(),
    });
    // The SQLite case store opens asynchronously; every request waits for it (and fails with its error).
    this.repoReady = options.repository
      ? Promise.resolve(options.repository)
      : StoreCaseRepository.open(options.casesRoot);
    this.repoReady.catch(() => undefined);
    this.stageFactory = options.stageFactory ?? defaultStageFactory;
    this.handlers = {
      'status.get': async () => this.status(),
      'cases.list': async (p) => (await this.repo()).listCases(p.search, p.limit),
      'cases.create': async (p) => {
        const c = await (
          await this.repo()
        ).createCase({
          ...p,
          patientRef: p.patientRef ?? `P-${randomBytes(4).toString('hex')}`,
        });
        this.log('info', `case created: ${c.title} (${c.id})`);
        return c;
      },
      'cases.open': async (p) => this.openCase(p.caseId),
      'sources.list': async () => listSources(this.options.samplesRoot, this.paths.configuredRoots),
      'run.start': async (p) => this.startRun(p),
      'run.stop': async () => this.stopRun(),
      'review.trajectory': async (p) => {
        const runId = await this.resolveRun(p.caseId, p.runId);
        const run = await readRunFolder((await this.repo()).runFolder(p.caseId, runId));
        return { caseId: p.caseId, runId, poses: trajectoryOf(run) };
      },
      'annotations.add': async (p) => {
        await (await this.repo()).getCase(p.caseId);
        return (await this.repo()).addAnnotation({
          id: newId('ann'),
          ...p,
          createdAt: new Date().toISOString(),
        });
      },
      'annotations.list': async (p) => (await this.repo()).listAnnotations(p.caseId),
      'measurements.add': async (p) => {
        await (await this.repo()).getCase(p.caseId);
        const m = await (
          await this.repo()
        ).addMeasurement({
          id: newId('meas'),
          ...p,
          distanceMm: norm3(sub3(p.a, p.b)),
          createdAt: new Date().toISOString(),
        });
        this.log('info', `measurement ${m.distanceMm.toFixed(2)} mm saved with case ${p.caseId}`);
        return m;
      },
      'measurements.list': async (p) => (await this.repo()).listMeasurements(p.caseId),
      'export.mesh': async (p) => this.exportMesh(p),
      'export.chooseDestination': async () => {
        // The desktop app's main process answers this itself, with its native save dialog.
        throw new NavApiError(
          'unavailable',
          `export.chooseDestination: the ${this.host} host has no native save dialog; give a file name (written to the case's exports folder)`,
        );
      },
    };
  }

  async call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    if (!Object.prototype.hasOwnProperty.call(this.handlers, method)) {
      throw new NavApiError('bad-request', `unknown method ${String(method)}`);
    }
    const parsed = parseParams(method, params);
    const handler = this.handlers[method] as Handler<M>;
    return parseResult(method, await handler(parsed));
  }

  /**
   * Host-only (not NavApi): a file or folder the user picked in the host's open dialog may be opened
   * as a `file` source. Returns its real path.
   */
  allowPickedSource(picked: string): string {
    return this.paths.allowPicked(picked);
  }

  /**
   * Host-only (not NavApi): a file the user chose in the host's save dialog becomes a single-use grant
   * for one export.mesh in that format.
   */
  grantExportDestination(outputPath: string, format: MeshFormat): { grant: string; fileName: string } {
    return this.paths.grantExport(outputPath, format);
  }

  async reviewFrame(params: BinaryParams<'review.frame'>): Promise<FrameBundle> {
    const p = parseBinaryParams('review.frame', params);
    const runId = await this.resolveRun(p.caseId, p.runId);
    const run = await readRunFolder((await this.repo()).runFolder(p.caseId, runId));
    const record = nearestFrame(run.frames, p.timeS);
    if (!record) throw new NavApiError('not-found', `run ${runId} has no frames`);
    if (!run.source.datasetRoot || !existsSync(run.source.datasetRoot)) {
      throw new NavApiError(
        'not-found',
        `run ${runId}: its video (${run.source.description}) is no longer available`,
      );
    }
    const source = await DatasetFrameSource.open(run.source.datasetRoot);
    let rgb = null;
    for await (const frame of source.frames({ fromFrame: record.i, maxFrames: 1 })) rgb = frame.image;
    if (!rgb) throw new NavApiError('not-found', `run ${runId}: video frame ${record.i} is missing`);
    const shown = await readRunDepth(run, record);
    return {
      frameId: record.i,
      timeS: record.t,
      producedAtMs: performance.timeOrigin + performance.now(),
      rgb,
      depth: shown?.depth ?? null,
      depthFrameId: shown?.frame ?? null,
      pose: record.p ? mat4FromArray(record.p) : null,
      trackingState: record.s,
      isKeyframe: record.k,
    };
  }

  async reviewMesh(params: BinaryParams<'review.mesh'>): Promise<MeshBlocksUpdate> {
    const p = parseBinaryParams('review.mesh', params);
    const runId = await this.resolveRun(p.caseId, p.runId);
    const mesh = await readRunMesh((await this.repo()).runFolder(p.caseId, runId));
    return {
      reset: true,
      changed: [{ key: `${runId}`, mesh }],
      removed: [],
      totalVertices: mesh.positions.length / 3,
    };
  }

  onEvent(listener: (event: NavEvent) => void): Unsubscribe {
    return this.events.add(listener);
  }

  onFrame(listener: (frame: FrameBundle) => void): Unsubscribe {
    return this.frames.add(listener);
  }

  /** A subscriber joining mid-run first receives the whole live surface. */
  onMesh(listener: (update: MeshBlocksUpdate) => void): Unsubscribe {
    const unsubscribe = this.meshes.add(listener);
    if (this.run && this.run.blocks.size > 0) {
      let total = 0;
      const changed = [...this.run.blocks].map(([key, mesh]) => {
        total += mesh.positions.length / 3;
        return { key, mesh };
      });
      listener({ reset: true, changed, removed: [], totalVertices: total });
    }
    return unsubscribe;
  }

  /**
   * The service on the SQLite case store in `casesRoot` (navws.sqlite and cases/<id>/ there), the
   * way both hosts run it.
   */
  static async open(options: Omit<EngineServiceOptions, 'repository'>): Promise<EngineService> {
    const service = new EngineService(options);
    await service.repoReady;
    return service;
  }

  /** Stops a running reconstruction (its recording is finalised) and releases everything. */
  async close(): Promise<void> {
    await this.run?.stop();
    await this.igtl?.closed;
    (await this.repoReady.catch(() => null))?.close();
  }

  private status(): EngineStatus {
    return {
      version: this.options.version ?? '0.1.0',
      host: this.host,
      run: this.run?.status() ?? IDLE,
      executionProvider: this.lastExecutionProvider,
      casesRoot: this.options.casesRoot,
    };
  }

  private repo(): Promise<CaseRepository> {
    return this.repoReady;
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.events.emit({ type: 'log', level, message, time: new Date().toISOString() });
  }

  private async openCase(caseId: string): Promise<CaseDetail> {
    const [summary, runs, annotations, measurements] = await Promise.all([
      (await this.repo()).getCase(caseId),
      (await this.repo()).listRuns(caseId),
      (await this.repo()).listAnnotations(caseId),
      (await this.repo()).listMeasurements(caseId),
    ]);
    return { summary, runs, annotations, measurements };
  }

  /** The given run, or the case's latest run with frames. */
  private async resolveRun(caseId: string, runId: string | undefined): Promise<string> {
    const runs = await (await this.repo()).listRuns(caseId);
    if (runId) {
      if (!runs.some((r) => r.id === runId))
        throw new NavApiError('not-found', `case ${caseId} has no run ${runId}`);
      return runId;
    }
    const latest = [...runs].reverse().find((r) => r.frameCount > 0) ?? runs[runs.length - 1];
    if (!latest) throw new NavApiError('not-found', `case ${caseId} has no recorded run`);
    return latest.id;
  }

  private async startRun(p: ParsedParams<'run.start'>): Promise<RunStatus> {
    const current = this.run?.status();
    if (
      this.starting ||
      (current &&
        (current.state === 'running' || current.state === 'starting' || current.state === 'stopping'))
    ) {
      throw new NavApiError('conflict', 'a run is already going; stop it first');
    }
    this.starting = true;
    let igtl: IgtlSession | null = null;
    try {
      await (await this.repo()).getCase(p.caseId);
      await this.igtl?.closed;
      igtl = p.igtl ? await this.openIgtl(p.igtl) : null;
      const source = await openSource(p.source, this.options.samplesRoot, this.paths);
      const stages = await this.stageFactory(source, { depth: p.depth, poses: p.poses });
      this.lastExecutionProvider = stages.depth.executionProvider;
      const info = source.frames.info;
      this.run = await LiveRun.start(
        await this.repo(),
        {
          id: newId('run'),
          caseId: p.caseId,
          source: source.description,
          startedAt: new Date().toISOString(),
          durationS: 0,
          frameCount: 0,
          keyframeCount: 0,
          fps: source.fps,
          width: info.width,
          height: info.height,
          hasMesh: false,
          state: 'recording',
          camera: cameraOf(source.intrinsics),
          scaleSource: stages.depth.scaleSource ?? null,
        },
        source,
        stages,
        p.speed,
        {
          event: (e) => this.events.emit(e),
          // The stream takes its copy first, before any host may hand the buffers on.
          frame: (f) => {
            igtl?.publisher.frame({ ...f, index: f.frameId, timestamp: f.timeS });
            this.frames.emit(f);
          },
          mesh: (u) => {
            igtl?.publisher.surface(u);
            this.meshes.emit(u);
          },
        },
      );
      if (igtl) {
        const session = igtl;
        this.igtl = { session, closed: this.run.done.then(() => session.close()) };
      }
      this.log('info', `run ${this.run.runId} started on ${source.description}`);
      return this.run.status();
    } catch (err) {
      await igtl?.close();
      throw err;
    } finally {
      this.starting = false;
    }
  }

  private async openIgtl(settings: IgtlSettings): Promise<IgtlSession> {
    try {
      return await IgtlSession.open(
        { host: settings.host, port: settings.port },
        {
          frame: settings.frame,
          sendImage: settings.sendImage,
          sendDepth: settings.sendDepth,
          meshMaxTriangles: settings.meshMaxTriangles,
        },
        { log: (level, message) => this.log(level, message) },
      );
    } catch (err) {
      throw new NavApiError('bad-request', (err as Error).message);
    }
  }

  private async stopRun(): Promise<RunStatus> {
    if (!this.run) return IDLE;
    await this.run.stop();
    return this.run.status();
  }

  private async exportMesh(p: ParsedParams<'export.mesh'>): Promise<Result<'export.mesh'>> {
    // The destination is checked before anything else, so a refused one never depends on the run.
    const exportsDir = path.join((await this.repo()).caseFolder(p.caseId), 'exports');
    const named =
      p.fileName !== undefined ? path.join(exportsDir, exportFileName(p.fileName, p.format)) : null;
    if (p.grant !== undefined) this.paths.exportGrant(p.grant, p.format, false);
    const runId = await this.resolveRun(p.caseId, p.runId);
    const jobId = newId('export');
    const output =
      p.grant !== undefined
        ? this.paths.exportGrant(p.grant, p.format, true)
        : (named ?? path.join(exportsDir, `${runId}.${p.format}`));
    if (p.grant === undefined && path.dirname(output) !== exportsDir)
      throw new NavApiError('bad-request', `export ${output}: not in the case's exports folder`);
    const emit = (progress: number, stage: string, done = false, error: string | null = null): void =>
      this.events.emit({
        type: 'export',
        jobId,
        caseId: p.caseId,
        format: p.format,
        progress,
        stage,
        done,
        outputPath: done && !error ? output : null,
        error,
      });
    try {
      const result = await exportMesh(
        (await this.repo()).runFolder(p.caseId, runId),
        p.format,
        output,
        (f, s) => emit(f, s),
      );
      emit(1, 'done', true);
      this.log('info', `exported ${p.format.toUpperCase()} to ${output}`);
      return { jobId, format: p.format, outputPath: output, ...result };
    } catch (err) {
      emit(0, 'failed', true, (err as Error).message);
      throw err;
    }
  }
}
