/**
 * The case repository on the SQLite case store (src/engine/store): cases, timeline bookmarks and notes,
 * measurements and each run's results (trajectory and mesh, versioned, hashed, in the audit log) live in
 * the store; a run's replay material (frame index, depth maps, source reference) stays in its run folder
 * inside the store's case folder.
 */
import { existsSync } from 'node:fs';
import { readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { NavApiError } from '../../shared/api/nav-api.js';
import type { Annotation, CaseSummary, Measurement } from '../../shared/api/schemas.js';
import { CaseStore, StoreError, StoreInputError, type CaseRecord } from '../store/index.js';
import { FolderCaseRepository, type NewCase, type RunResults, selectCases } from './case-repository.js';

const ACTOR = 'navws-workstation';

function mapStoreError(err: unknown): never {
  if (err instanceof StoreInputError) throw new NavApiError('bad-request', err.message);
  if (err instanceof StoreError) {
    const code =
      err.code === 'not-found' ? 'not-found' : err.code === 'conflict' ? 'conflict' : 'unavailable';
    throw new NavApiError(code, err.message);
  }
  throw err;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id that cannot be a case's is simply an unknown case. */
function checkCaseId(caseId: string): void {
  if (!UUID.test(caseId)) throw new NavApiError('not-found', `case ${caseId} does not exist`);
}

export class StoreCaseRepository extends FolderCaseRepository {
  private constructor(private readonly store: CaseStore) {
    super(path.join(store.root, 'cases'));
  }

  static async open(root: string): Promise<StoreCaseRepository> {
    try {
      return new StoreCaseRepository(await CaseStore.open(root, { actor: ACTOR }));
    } catch (err) {
      mapStoreError(err);
    }
  }

  /** Problems found when the store was opened (it falls back to read-only on a failed integrity check). */
  get health(): CaseStore['health'] {
    return this.store.health;
  }

  override caseFolder(caseId: string): string {
    checkCaseId(caseId);
    try {
      return this.store.caseFolder(caseId);
    } catch (err) {
      mapStoreError(err);
    }
  }

  protected override assertCase(caseId: string): void {
    checkCaseId(caseId);
    try {
      this.store.getCase(caseId);
    } catch (err) {
      mapStoreError(err);
    }
  }

  private async summary(c: CaseRecord): Promise<CaseSummary> {
    const runs = path.join(this.caseFolder(c.id), 'runs');
    const runCount = existsSync(runs)
      ? (await readdir(runs)).filter((n) => /^[a-z0-9][a-z0-9-]{0,63}$/.test(n)).length
      : 0;
    return {
      id: c.id,
      title: c.title,
      procedure: c.procedure,
      surgeon: c.surgeon,
      patientRef: c.patientRef,
      createdAt: c.createdAt,
      runCount,
    };
  }

  override async listCases(search?: string, limit = 200): Promise<CaseSummary[]> {
    const cases = selectCases(this.store.listCases(), search, limit);
    return Promise.all(cases.map((c) => this.summary(c)));
  }

  override async createCase(input: NewCase): Promise<CaseSummary> {
    try {
      const c = await this.store.createCase({
        ...input,
        date: new Date().toISOString().slice(0, 10),
        notes: '',
      });
      return this.summary(c);
    } catch (err) {
      mapStoreError(err);
    }
  }

  override async getCase(caseId: string): Promise<CaseSummary> {
    checkCaseId(caseId);
    try {
      return this.summary(this.store.getCase(caseId));
    } catch (err) {
      mapStoreError(err);
    }
  }

  private readonly legacyChecked = new Set<string>();

  /**
   * Earlier releases kept a store case's timeline annotations in `annotations.json` in its folder. The
   * first time a case's annotations are touched, they move into the store (original times kept, one
   * audit entry) and the file is renamed `annotations.imported.json`, so nothing recorded is lost and
   * nothing is imported twice. A file that does not parse is left where it is.
   */
  private async importLegacyAnnotations(caseId: string): Promise<void> {
    if (this.legacyChecked.has(caseId)) return;
    checkCaseId(caseId);
    this.store.getCase(caseId);
    this.legacyChecked.add(caseId);
    const file = path.join(this.caseFolder(caseId), 'annotations.json');
    if (!existsSync(file)) return;
    let legacy: Annotation[];
    try {
      legacy = await super.listAnnotations(caseId);
    } catch {
      return;
    }
    this.store.importAnnotations(
      caseId,
      legacy.map((a) => ({
        kind: a.kind,
        text: a.label,
        runName: a.runId,
        timeS: a.timeS,
        createdAt: a.createdAt,
      })),
    );
    await rename(file, path.join(this.caseFolder(caseId), 'annotations.imported.json'));
  }

  /** A bookmark or note at an instant of a run: the run is named as its results are (registerResults). */
  override async addAnnotation(a: Annotation): Promise<Annotation> {
    try {
      await this.importLegacyAnnotations(a.caseId);
      const r = this.store.addAnnotation(a.caseId, {
        kind: a.kind,
        text: a.label,
        runName: a.runId,
        timeS: a.timeS,
      });
      return { ...a, id: String(r.id), createdAt: r.createdAt };
    } catch (err) {
      mapStoreError(err);
    }
  }

  /** The case's timeline annotations (those with a time; others belong to recordings or positions). */
  override async listAnnotations(caseId: string): Promise<Annotation[]> {
    try {
      await this.importLegacyAnnotations(caseId);
      return this.store
        .listAnnotations(caseId)
        .filter((r) => r.timeS !== null)
        .map((r) => ({
          id: String(r.id),
          caseId,
          runId: r.runName,
          timeS: r.timeS!,
          kind: r.kind,
          label: r.text,
          createdAt: r.createdAt,
        }));
    } catch (err) {
      mapStoreError(err);
    }
  }

  /** The run a mesh version belongs to is its name (registerResults names meshes after runs). */
  override async addMeasurement(m: Measurement): Promise<Measurement> {
    try {
      const mesh = m.runId
        ? this.store
            .listMeshes(m.caseId)
            .filter((x) => x.name === m.runId)
            .pop()
        : undefined;
      const r = this.store.addMeasurement(m.caseId, {
        kind: 'distance',
        points: [m.a, m.b],
        value: m.distanceMm,
        meshId: mesh?.id ?? null,
        label: m.label,
      });
      return { ...m, id: String(r.id), createdAt: r.createdAt };
    } catch (err) {
      mapStoreError(err);
    }
  }

  override async listMeasurements(caseId: string): Promise<Measurement[]> {
    try {
      const meshes = new Map(this.store.listMeshes(caseId).map((x) => [x.id, x.name]));
      return this.store
        .listMeasurements(caseId)
        .filter((r) => r.kind === 'distance' && r.points.length === 2)
        .map((r) => ({
          id: String(r.id),
          caseId,
          runId: r.meshId !== null ? (meshes.get(r.meshId) ?? null) : null,
          a: r.points[0]!,
          b: r.points[1]!,
          distanceMm: r.value,
          label: r.label,
          createdAt: r.createdAt,
        }));
    } catch (err) {
      mapStoreError(err);
    }
  }

  override async registerResults(caseId: string, runId: string, results: RunResults): Promise<void> {
    try {
      if (results.trajectory.length > 0) await this.store.addTrajectory(caseId, runId, results.trajectory);
      if (results.mesh && results.mesh.indices.length > 0) {
        await this.store.addMesh(caseId, runId, results.mesh, results.parameters);
      }
    } catch (err) {
      mapStoreError(err);
    }
  }

  override close(): void {
    this.store.close();
  }
}
