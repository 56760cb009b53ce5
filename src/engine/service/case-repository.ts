/**
 * Where the service keeps cases, runs, annotations and measurements. The engine service depends on
 * this interface only, so the SQLite case store (src/engine/store) can stand behind it.
 *
 * FolderCaseRepository is the file-based implementation used until then: one folder per case under
 * casesRoot, small JSON documents written atomically (temp file + rename), so a crash never leaves
 * a half-written document.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  type Annotation,
  type CaseSummary,
  type Measurement,
  type RunSummary,
  annotationSchema,
  caseSummarySchema,
  describeZodError,
  measurementSchema,
  runSummarySchema,
} from '../../shared/api/schemas.js';
import { NavApiError } from '../../shared/api/nav-api.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import type { StampedPose } from '../dataset/trajectory.js';

export interface NewCase {
  title: string;
  procedure: string;
  surgeon: string;
  patientRef: string;
}

export interface CaseRepository {
  readonly root: string;
  listCases(search?: string, limit?: number): Promise<CaseSummary[]>;
  createCase(input: NewCase): Promise<CaseSummary>;
  getCase(caseId: string): Promise<CaseSummary>;
  /** The folder holding a case's runs and exports. */
  caseFolder(caseId: string): string;
  listRuns(caseId: string): Promise<RunSummary[]>;
  /** Creates the run folder and its record; returns the folder. */
  createRun(run: RunSummary): Promise<string>;
  updateRun(run: RunSummary): Promise<void>;
  runFolder(caseId: string, runId: string): string;
  /** Keeps a timeline bookmark or note; returns it as stored (with the id the store gave it). */
  addAnnotation(a: Annotation): Promise<Annotation>;
  listAnnotations(caseId: string): Promise<Annotation[]>;
  addMeasurement(m: Measurement): Promise<Measurement>;
  listMeasurements(caseId: string): Promise<Measurement[]>;
  /** Keeps a finished run's results with the case (versioned, hashed where the store supports it). */
  registerResults(caseId: string, runId: string, results: RunResults): Promise<void>;
  close(): void;
}

export interface RunResults {
  trajectory: StampedPose[];
  mesh: TriangleMesh | null;
  parameters: Record<string, unknown>;
}

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

type CaseFields = Pick<CaseSummary, 'id' | 'title' | 'procedure' | 'surgeon' | 'patientRef' | 'createdAt'>;

/** The case browser's search: a case-insensitive match on its text fields, newest first, at most `limit`. */
export function selectCases<C extends CaseFields>(
  cases: readonly C[],
  search: string | undefined,
  limit: number,
): C[] {
  const needle = search?.trim().toLowerCase();
  return cases
    .filter(
      (c) =>
        !needle ||
        [c.title, c.procedure, c.surgeon, c.patientRef, c.id].some((f) => f.toLowerCase().includes(needle)),
    )
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .slice(0, limit);
}

export function newId(prefix: string): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${prefix}-${stamp}-${randomBytes(4).toString('hex')}`;
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 1));
  await rename(tmp, file);
}

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new NavApiError('internal', `${file}: cannot read (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new NavApiError('internal', describeZodError(parsed.error, file));
  return parsed.data;
}

export class FolderCaseRepository implements CaseRepository {
  // Serialises read-modify-write of a case's lists so two requests cannot lose each other's entry.
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly root: string) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  caseFolder(caseId: string): string {
    if (!ID_PATTERN.test(caseId)) throw new NavApiError('bad-request', `case id "${caseId}" is not valid`);
    return path.join(this.root, caseId);
  }

  runFolder(caseId: string, runId: string): string {
    if (!ID_PATTERN.test(runId)) throw new NavApiError('bad-request', `run id "${runId}" is not valid`);
    return path.join(this.caseFolder(caseId), 'runs', runId);
  }

  /** Throws not-found unless the case exists. */
  protected assertCase(caseId: string): void {
    this.caseFile(caseId);
  }

  private caseFile(caseId: string): string {
    const file = path.join(this.caseFolder(caseId), 'case.json');
    if (!existsSync(file)) throw new NavApiError('not-found', `case ${caseId} does not exist`);
    return file;
  }

  async listCases(search?: string, limit = 200): Promise<CaseSummary[]> {
    if (!existsSync(this.root)) return [];
    const out: CaseSummary[] = [];
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || !ID_PATTERN.test(entry.name)) continue;
      if (!existsSync(path.join(this.root, entry.name, 'case.json'))) continue;
      out.push(await this.getCase(entry.name));
    }
    return selectCases(out, search, limit);
  }

  async createCase(input: NewCase): Promise<CaseSummary> {
    const summary: CaseSummary = {
      id: newId('case'),
      ...input,
      createdAt: new Date().toISOString(),
      runCount: 0,
    };
    const folder = this.caseFolder(summary.id);
    await mkdir(path.join(folder, 'runs'), { recursive: true });
    await writeJsonAtomic(path.join(folder, 'case.json'), { ...summary, runCount: undefined });
    return summary;
  }

  async getCase(caseId: string): Promise<CaseSummary> {
    const stored = await readJson(this.caseFile(caseId), caseSummarySchema.omit({ runCount: true }));
    const runs = existsSync(path.join(this.caseFolder(caseId), 'runs'))
      ? (await readdir(path.join(this.caseFolder(caseId), 'runs'))).filter((n) => ID_PATTERN.test(n)).length
      : 0;
    return { ...stored, runCount: runs };
  }

  async listRuns(caseId: string): Promise<RunSummary[]> {
    this.assertCase(caseId);
    const dir = path.join(this.caseFolder(caseId), 'runs');
    if (!existsSync(dir)) return [];
    const runs: RunSummary[] = [];
    for (const name of (await readdir(dir)).filter((n) => ID_PATTERN.test(n)).sort()) {
      const file = path.join(dir, name, 'run.json');
      if (existsSync(file)) runs.push(await readJson(file, runSummarySchema));
    }
    return runs;
  }

  async createRun(run: RunSummary): Promise<string> {
    this.assertCase(run.caseId);
    const folder = this.runFolder(run.caseId, run.id);
    await mkdir(folder, { recursive: true });
    await writeJsonAtomic(path.join(folder, 'run.json'), run);
    return folder;
  }

  async updateRun(run: RunSummary): Promise<void> {
    await writeJsonAtomic(
      path.join(this.runFolder(run.caseId, run.id), 'run.json'),
      runSummarySchema.parse(run),
    );
  }

  private async appendTo<T>(caseId: string, file: string, schema: z.ZodType<T>, item: T): Promise<void> {
    await this.serial(async () => {
      const full = path.join(this.caseFolder(caseId), file);
      const items = existsSync(full) ? await readJson(full, z.array(schema)) : [];
      items.push(item);
      await writeJsonAtomic(full, items);
    });
  }

  private async listFrom<T>(caseId: string, file: string, schema: z.ZodType<T>): Promise<T[]> {
    this.assertCase(caseId);
    const full = path.join(this.caseFolder(caseId), file);
    return existsSync(full) ? readJson(full, z.array(schema)) : [];
  }

  async addAnnotation(a: Annotation): Promise<Annotation> {
    this.assertCase(a.caseId);
    await this.appendTo(a.caseId, 'annotations.json', annotationSchema, a);
    return a;
  }

  listAnnotations(caseId: string): Promise<Annotation[]> {
    return this.listFrom(caseId, 'annotations.json', annotationSchema);
  }

  async addMeasurement(m: Measurement): Promise<Measurement> {
    this.assertCase(m.caseId);
    await this.appendTo(m.caseId, 'measurements.json', measurementSchema, m);
    return m;
  }

  listMeasurements(caseId: string): Promise<Measurement[]> {
    return this.listFrom(caseId, 'measurements.json', measurementSchema);
  }

  /** The run folder already holds trajectory.txt and mesh.ply; nothing more to keep here. */
  async registerResults(_caseId: string, _runId: string, _results: RunResults): Promise<void> {}

  close(): void {}
}
