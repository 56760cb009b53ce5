/**
 * Runtime schemas of everything that crosses a host boundary (Electron IPC, the browser host's
 * WebSocket). Both hosts validate requests, responses and events against these, so a malformed
 * message is rejected at the edge with an error naming the field. Binary payloads (video, depth,
 * mesh blocks) do not travel as JSON: see binary.ts.
 *
 * Units: millimetres and seconds; poses are camera-to-world 4x4, row-major, mm.
 */
import { z } from 'zod';
import { DEPTH_SCALE_SOURCES } from '../frames.js';

const id = z.string().min(1).max(128);
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const nonNegative = finite.refine((v) => v >= 0, 'must be >= 0');
const text = (max: number) => z.string().max(max);
export const vec3Schema = z.tuple([finite, finite, finite]);
/** Row-major camera-to-world rigid transform, mm. */
export const mat4Schema = z.array(finite).length(16);
export const isoDate = z.string().max(40);

/** Pinhole camera of a run's processed frames (pixels), for frusta and point clouds. */
export const cameraSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fx: finite,
  fy: finite,
  cx: finite,
  cy: finite,
});

export const trackingStateSchema = z.enum(['initialising', 'tracking', 'lost', 'relocalised']);
export const meshFormatSchema = z.enum(['ply', 'obj', 'stl', 'glb']);

// ---------------------------------------------------------------------------------------------
// Cases

export const caseSummarySchema = z.object({
  id,
  title: text(200),
  procedure: text(200),
  surgeon: text(200),
  /** Pseudonymous reference only: never a patient's name. */
  patientRef: text(100),
  createdAt: isoDate,
  runCount: z.number().int().nonnegative(),
});

export const runSummarySchema = z.object({
  id,
  caseId: id,
  source: z.string().max(1000),
  startedAt: isoDate,
  durationS: nonNegative,
  frameCount: z.number().int().nonnegative(),
  keyframeCount: z.number().int().nonnegative(),
  fps: nonNegative,
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  hasMesh: z.boolean(),
  state: z.enum(['recording', 'complete', 'interrupted', 'failed']),
  camera: cameraSchema.nullable(),
  /** Where the run's millimetres come from; absent for runs recorded before it was kept. */
  scaleSource: z.enum(DEPTH_SCALE_SOURCES).nullable().optional(),
});

export const annotationSchema = z.object({
  id,
  caseId: id,
  runId: id.nullable(),
  timeS: nonNegative,
  kind: z.enum(['bookmark', 'note']),
  label: text(200).min(1),
  createdAt: isoDate,
});

export const measurementSchema = z.object({
  id,
  caseId: id,
  runId: id.nullable(),
  /** Surface points in the reconstruction's world frame (mm). */
  a: vec3Schema,
  b: vec3Schema,
  distanceMm: nonNegative,
  label: text(200),
  createdAt: isoDate,
});

export const caseDetailSchema = z.object({
  summary: caseSummarySchema,
  runs: z.array(runSummarySchema),
  annotations: z.array(annotationSchema),
  measurements: z.array(measurementSchema),
});

// ---------------------------------------------------------------------------------------------
// Sources and runs

export const sourceSchema = z.discriminatedUnion('kind', [
  /** A dataset bundled with the application (samples/<name>). */
  z.object({ kind: z.literal('sample'), name: z.string().regex(/^[a-z0-9_-]{1,64}$/) }),
  /** A dataset folder (intrinsics.json + rgb/ or rgb.mp4) or a video file. */
  z.object({ kind: z.literal('file'), path: z.string().min(1).max(4096) }),
  /** A capture device as listed by sources.list (e.g. /dev/video0). */
  z.object({ kind: z.literal('device'), device: z.string().min(1).max(512) }),
]);

export const sourceInfoSchema = z.object({
  source: sourceSchema,
  label: text(300),
  available: z.boolean(),
  detail: text(1000),
});

/**
 * OpenIGTLink streaming of a run (docs/openigtlink.md): pose, surface, video and tracking status to 3D
 * Slicer and other navigation software. Off unless given; loopback unless another address is chosen.
 */
export const igtlSettingsSchema = z.object({
  host: z
    .string()
    .regex(/^(?:[A-Za-z0-9.-]{1,253}|[0-9a-fA-F:]{2,39})$/, 'must be an IP address or host name')
    .default('127.0.0.1'),
  /** 0 picks a free port (it is logged). OpenIGTLink's customary port is 18944. */
  port: z.number().int().min(0).max(65535).default(18944),
  /** Frame of the coordinates sent: 3D Slicer works in RAS. */
  frame: z.enum(['ras', 'lps']).default('ras'),
  sendImage: z.boolean().default(true),
  sendDepth: z.boolean().default(false),
  /** The streamed surface is decimated to at most this many triangles. */
  meshMaxTriangles: z.number().int().min(100).max(5_000_000).default(50_000),
});

export const runStateSchema = z.enum(['idle', 'starting', 'running', 'stopping', 'finished', 'failed']);

export const runStatusSchema = z.object({
  state: runStateSchema,
  caseId: id.nullable(),
  runId: id.nullable(),
  source: text(1000).nullable(),
  recording: z.boolean(),
  elapsedS: nonNegative,
  error: text(2000).nullable(),
  camera: cameraSchema.nullable(),
});

export const engineStatusSchema = z.object({
  version: text(40),
  host: z.enum(['electron', 'browser']),
  run: runStatusSchema,
  executionProvider: text(100).nullable(),
  /** Where new cases and their recordings live. */
  casesRoot: text(4096),
});

// ---------------------------------------------------------------------------------------------
// Review

export const timedPoseSchema = z.object({
  frameId: z.number().int().nonnegative(),
  timeS: nonNegative,
  pose: mat4Schema,
  isKeyframe: z.boolean(),
});

export const trajectorySchema = z.object({
  caseId: id,
  runId: id,
  poses: z.array(timedPoseSchema),
});

export const exportResultSchema = z.object({
  jobId: id,
  format: meshFormatSchema,
  outputPath: text(4096),
  bytes: z.number().int().nonnegative(),
  vertices: z.number().int().nonnegative(),
  triangles: z.number().int().nonnegative(),
});

// ---------------------------------------------------------------------------------------------
// Requests: one table, method -> params / result. Results marked `binary` travel as binary frames
// (binary.ts) and are decoded to the types below before they reach the caller.

const caseRef = z.object({ caseId: id });
const runRef = z.object({ caseId: id, runId: id.optional() });
const empty = z.object({}).strict();

export const requestTable = {
  'status.get': { params: empty, result: engineStatusSchema },
  'cases.list': {
    params: z.object({ search: text(200).optional(), limit: z.number().int().min(1).max(1000).optional() }),
    result: z.array(caseSummarySchema),
  },
  'cases.create': {
    params: z.object({
      title: text(200).trim().min(1),
      procedure: text(200).trim().min(1).default('unspecified'),
      surgeon: text(200).trim().min(1).default('unspecified'),
      /** A pseudonymous code, never a name (no spaces); generated when not given. */
      patientRef: z
        .string()
        .regex(
          /^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/,
          'must be a pseudonymous code (3-64 letters, digits, - or _), not a name',
        )
        .optional(),
    }),
    result: caseSummarySchema,
  },
  'cases.open': { params: caseRef, result: caseDetailSchema },
  'sources.list': { params: empty, result: z.array(sourceInfoSchema) },
  'run.start': {
    params: z.object({
      caseId: id,
      source: sourceSchema,
      /** Replay speed for file and sample sources; 1 = the source's own frame rate. */
      speed: z.number().min(0.1).max(8).default(1),
      /**
       * The product path is network depth + photometric tracking; 'stereo' takes metric depth from a stereo
       * source's rectified pair instead. 'gt' replays a dataset's ground truth (evaluation of the other
       * stages, as `navws reconstruct --depth gt --poses gt`).
       */
      depth: z.enum(['network', 'stereo', 'gt']).default('network'),
      poses: z.enum(['track', 'gt']).default('track'),
      /** Stream the run over OpenIGTLink; null (default): off. */
      igtl: igtlSettingsSchema.nullable().default(null),
    }),
    result: runStatusSchema,
  },
  'run.stop': { params: empty, result: runStatusSchema },
  'review.trajectory': { params: runRef, result: trajectorySchema },
  'annotations.add': {
    params: z.object({
      caseId: id,
      runId: id.nullable().default(null),
      timeS: nonNegative,
      kind: z.enum(['bookmark', 'note']),
      label: text(200).min(1),
    }),
    result: annotationSchema,
  },
  'annotations.list': { params: caseRef, result: z.array(annotationSchema) },
  'measurements.add': {
    params: z.object({
      caseId: id,
      runId: id.nullable().default(null),
      a: vec3Schema,
      b: vec3Schema,
      label: text(200).default(''),
    }),
    result: measurementSchema,
  },
  'measurements.list': { params: caseRef, result: z.array(measurementSchema) },
  /**
   * Where an export goes (docs/security.md, "Paths from the UI"): the renderer never names a path. A
   * file name lands in the case's exports folder; a grant is a destination the user chose in the
   * desktop app's save dialog (export.chooseDestination); neither: <case folder>/exports/<run>.<format>.
   */
  'export.mesh': {
    params: z
      .object({
        caseId: id,
        runId: id.optional(),
        format: meshFormatSchema,
        /** A file name only (no folders, no '..'), written to the case's exports folder. */
        fileName: z.string().min(1).max(128).optional(),
        /** Single-use token of a destination picked in the save dialog. */
        grant: id.optional(),
        outputPath: z
          .never({
            error:
              'not accepted: the UI cannot name a path; give a fileName (the case exports folder) or a grant from export.chooseDestination',
          })
          .optional(),
      })
      .refine((p) => !(p.fileName !== undefined && p.grant !== undefined), {
        error: 'give a fileName or a grant, not both',
      }),
    result: exportResultSchema,
  },
  /**
   * Desktop app only: main shows the native save dialog and registers the chosen file with the engine.
   * Answers a grant for export.mesh (null when the user cancelled) and the chosen file's name; the
   * format follows the extension chosen. The browser host answers 'unavailable' (use a fileName).
   */
  'export.chooseDestination': {
    params: z.object({ caseId: id, runId: id.optional(), format: meshFormatSchema }),
    result: z.object({
      grant: id.nullable(),
      fileName: text(255).nullable(),
      format: meshFormatSchema,
    }),
  },
} as const;

/** Requests whose result is binary (a frame or a mesh), with their params. */
export const binaryRequestTable = {
  /** The recorded video frame, its depth and its pose nearest to timeS. */
  'review.frame': { params: z.object({ caseId: id, runId: id.optional(), timeS: nonNegative }) },
  /** The run's fused mesh as blocks. */
  'review.mesh': { params: runRef },
} as const;

export type RequestTable = typeof requestTable;
export type Method = keyof RequestTable;
export type BinaryMethod = keyof typeof binaryRequestTable;
export type Params<M extends Method> = z.input<RequestTable[M]['params']>;
export type ParsedParams<M extends Method> = z.output<RequestTable[M]['params']>;
export type Result<M extends Method> = z.output<RequestTable[M]['result']>;
export type BinaryParams<M extends BinaryMethod> = z.output<(typeof binaryRequestTable)[M]['params']>;

export const methodNames = Object.keys(requestTable) as Method[];
export const binaryMethodNames = Object.keys(binaryRequestTable) as BinaryMethod[];

export function isMethod(name: string): name is Method {
  return Object.prototype.hasOwnProperty.call(requestTable, name);
}
export function isBinaryMethod(name: string): name is BinaryMethod {
  return Object.prototype.hasOwnProperty.call(binaryRequestTable, name);
}

// ---------------------------------------------------------------------------------------------
// Events (JSON). Frames and mesh blocks are separate binary streams.

export const stageStatsSchema = z.object({
  name: text(64),
  processed: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
  meanMs: nonNegative,
  p95Ms: nonNegative,
  /** Frames per second through this stage: over the last few seconds, or over the run (scope 'run'). */
  rateHz: nonNegative,
});

export const navEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('stats'),
    /**
     * 'recent': rates and latency over the last few seconds, while a run goes. 'run': the last event of
     * a run, with its rates and latency over the whole run.
     */
    scope: z.enum(['recent', 'run']).default('recent'),
    framesIn: z.number().int().nonnegative(),
    framesProcessed: z.number().int().nonnegative(),
    framesDropped: z.number().int().nonnegative(),
    keyframes: z.number().int().nonnegative(),
    stages: z.array(stageStatsSchema).max(32),
    executionProvider: text(100).nullable(),
    /** Capture -> frame event, mean over the last few seconds (or the run). */
    latencyMs: nonNegative,
  }),
  z.object({
    type: z.literal('tracking'),
    state: trackingStateSchema,
    frameId: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('run'), status: runStatusSchema }),
  z.object({
    type: z.literal('log'),
    level: z.enum(['info', 'warn', 'error']),
    message: text(4000),
    time: isoDate,
  }),
  z.object({
    type: z.literal('export'),
    jobId: id,
    caseId: id,
    format: meshFormatSchema,
    /** 0..1 */
    progress: z.number().min(0).max(1),
    stage: text(100),
    done: z.boolean(),
    outputPath: text(4096).nullable(),
    error: text(2000).nullable(),
  }),
  /** The engine process went down or came back (Electron host). */
  z.object({ type: z.literal('engine'), state: z.enum(['up', 'restarting', 'down']), message: text(2000) }),
]);

export type NavEvent = z.output<typeof navEventSchema>;
export type NavEventType = NavEvent['type'];
export type CaseSummary = z.output<typeof caseSummarySchema>;
export type CaseDetail = z.output<typeof caseDetailSchema>;
export type RunSummary = z.output<typeof runSummarySchema>;
export type Annotation = z.output<typeof annotationSchema>;
export type Measurement = z.output<typeof measurementSchema>;
export type SourceSpec = z.output<typeof sourceSchema>;
export type SourceInfo = z.output<typeof sourceInfoSchema>;
export type RunStatus = z.output<typeof runStatusSchema>;
export type EngineStatus = z.output<typeof engineStatusSchema>;
export type Trajectory = z.output<typeof trajectorySchema>;
export type TimedPose = z.output<typeof timedPoseSchema>;
export type ExportResult = z.output<typeof exportResultSchema>;
export type MeshFormat = z.output<typeof meshFormatSchema>;
export type CameraInfo = z.output<typeof cameraSchema>;
export type IgtlSettings = z.output<typeof igtlSettingsSchema>;
export type ApiTrackingState = z.output<typeof trackingStateSchema>;

/** A short, readable description of a zod failure (first few issues with their paths). */
export function describeZodError(error: z.ZodError, what: string): string {
  const parts = error.issues
    .slice(0, 4)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return `${what}: ${parts.join('; ')}`;
}
