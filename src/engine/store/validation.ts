/** Input schemas of the case store: every value from the UI, IPC or an archive is checked here. */
import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1).max(max);
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
export const vec3Schema = z.tuple([finite, finite, finite]);

export const caseInputSchema = z.object({
  title: text(200),
  procedure: text(200),
  surgeon: text(200),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be an ISO date YYYY-MM-DD'),
  // Pseudonymous only: a code, never a name (no spaces, so "Jane Doe" is rejected).
  patientRef: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/,
      'must be a pseudonymous code (3-64 letters, digits, - or _), not a name',
    ),
  notes: z.string().max(10_000).default(''),
});
export type CaseInput = z.input<typeof caseInputSchema>;

export const caseIdSchema = z.uuid();
export const rowIdSchema = z.number().int().positive();
export const actorSchema = text(200);

/** Relative path inside a case folder: no absolute paths, no '..', a conservative character set. */
export const relPathSchema = z
  .string()
  .max(300)
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/,
    'must be a relative path of plain names',
  )
  .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'must not contain . or .. segments');

export const poseSchema = z
  .array(finite)
  .length(16)
  .refine(
    (m) =>
      Math.abs(m[12]!) < 1e-9 &&
      Math.abs(m[13]!) < 1e-9 &&
      Math.abs(m[14]!) < 1e-9 &&
      Math.abs(m[15]! - 1) < 1e-9,
    'last row of a rigid transform must be 0 0 0 1',
  );

export const recordingInputSchema = z.object({
  relPath: relPathSchema,
  container: z.enum(['mp4', 'matroska']),
  source: text(500),
  width: z.number().int().positive().max(16384),
  height: z.number().int().positive().max(16384),
  fps: z.number().positive().max(1000).nullable(),
});
export type RecordingInput = z.input<typeof recordingInputSchema>;

export const frameRowSchema = z.object({
  frameNumber: z.number().int().nonnegative(),
  pts: finite,
  wallMs: finite,
});
export type FrameRow = z.infer<typeof frameRowSchema>;

export const meshParametersSchema = z.record(z.string(), z.unknown());

/** A moment as an ISO 8601 timestamp (what the store writes into created_at). */
export const isoTimestampSchema = z.iso.datetime({ offset: true });

export const annotationInputSchema = z.object({
  text: text(5000),
  kind: z.enum(['note', 'bookmark']).default('note'),
  recordingId: rowIdSchema.nullable().default(null),
  frameNumber: z.number().int().nonnegative().nullable().default(null),
  /** The run whose timeline `timeS` is on (its results' name). */
  runName: z.string().min(1).max(200).nullable().default(null),
  /** Seconds on the run's timeline. */
  timeS: finite.nonnegative().nullable().default(null),
  position: vec3Schema.nullable().default(null),
});
export type AnnotationInput = z.input<typeof annotationInputSchema>;

export const measurementInputSchema = z
  .object({
    kind: z.enum(['distance', 'angle', 'area']),
    points: z.array(vec3Schema).min(2).max(10_000),
    value: finite,
    meshId: rowIdSchema.nullable().default(null),
    label: z.string().max(200).default(''),
  })
  .refine((m) => m.kind !== 'angle' || m.points.length === 3, 'an angle needs exactly 3 points')
  .refine((m) => m.kind !== 'distance' || m.points.length === 2, 'a distance needs exactly 2 points')
  .refine((m) => m.kind !== 'area' || m.points.length >= 3, 'an area needs at least 3 points');
export type MeasurementInput = z.input<typeof measurementInputSchema>;

export class StoreInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreInputError';
  }
}

/** Parses `value` or throws a StoreInputError naming the field and the rule it broke. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
  throw new StoreInputError(`${what}${field}: ${issue.message}`);
}
