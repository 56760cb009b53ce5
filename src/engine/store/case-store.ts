/**
 * The case store: one SQLite database (better-sqlite3, WAL, foreign keys on) for a folder of cases,
 * with large binaries as files under `cases/<id>/` whose sha256 the database keeps. Every write is
 * one transaction that also appends to the audit log. Opening runs an integrity check; when it
 * fails the store opens read-only and `health` says why.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DepthImage } from '../../shared/frames.js';
import type { Mat4 } from '../../shared/math/mat4.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import { triangleCount, validateMesh, vertexCount } from '../../shared/mesh.js';
import { decodeDepthPng, encodeDepthPng } from '../dataset/images.js';
import { type StampedPose, formatTum, parseTum } from '../dataset/trajectory.js';
import { decodePly, encodePly } from '../formats/ply.js';
import { insideRoot, sha256Bytes, sha256File, writeFileAtomic } from './files.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import {
  type AnnotationInput,
  type CaseInput,
  type FrameRow,
  type MeasurementInput,
  type RecordingInput,
  StoreInputError,
  actorSchema,
  annotationInputSchema,
  caseIdSchema,
  caseInputSchema,
  frameRowSchema,
  isoTimestampSchema,
  measurementInputSchema,
  meshParametersSchema,
  parseInput,
  poseSchema,
  recordingInputSchema,
  relPathSchema,
  rowIdSchema,
} from './validation.js';
import { z } from 'zod';

export const DATABASE_FILE = 'navws.sqlite';

export type FileKind = 'video' | 'depth' | 'mesh' | 'trajectory' | 'other';
export type RecordingStatus = 'recording' | 'complete' | 'interrupted' | 'failed';

export interface CaseRecord {
  id: string;
  title: string;
  procedure: string;
  surgeon: string;
  date: string;
  patientRef: string;
  notes: string;
  createdAt: string;
}

export interface FileRecord {
  id: number;
  caseId: string;
  relPath: string;
  kind: FileKind;
  bytes: number;
  sha256: string;
  createdAt: string;
}

export interface RecordingRecord {
  id: number;
  caseId: string;
  relPath: string;
  fileId: number | null;
  container: 'mp4' | 'matroska';
  source: string;
  width: number;
  height: number;
  fps: number | null;
  /** wall_ms = pts * 1000 + wallOffsetMs (ms since epoch, monotonic clock). */
  wallOffsetMs: number | null;
  status: RecordingStatus;
  frameCount: number;
  error: string | null;
  startedAt: string;
  endedAt: string | null;
}

export interface KeyframeRecord {
  id: number;
  caseId: string;
  recordingId: number | null;
  frameNumber: number;
  timestamp: number;
  pose: Mat4;
  depthFileId: number | null;
  depthScale: number | null;
}

export interface MeshRecord {
  id: number;
  caseId: string;
  name: string;
  version: number;
  parameters: Record<string, unknown>;
  fileId: number;
  vertexCount: number;
  triangleCount: number;
  createdAt: string;
}

export interface TrajectoryRecord {
  id: number;
  caseId: string;
  recordingId: number | null;
  label: string;
  fileId: number;
  poseCount: number;
  createdAt: string;
}

export interface AnnotationRecord {
  id: number;
  caseId: string;
  kind: 'note' | 'bookmark';
  recordingId: number | null;
  frameNumber: number | null;
  runName: string | null;
  timeS: number | null;
  position: [number, number, number] | null;
  text: string;
  author: string;
  createdAt: string;
}

export interface MeasurementRecord {
  id: number;
  caseId: string;
  meshId: number | null;
  kind: 'distance' | 'angle' | 'area';
  points: [number, number, number][];
  value: number;
  unit: 'mm' | 'deg' | 'mm2';
  label: string;
  author: string;
  createdAt: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  caseId: string | null;
  details: Record<string, unknown>;
}

export interface StoreHealth {
  ok: boolean;
  readOnly: boolean;
  /** Human-readable problems found on open (empty when ok). */
  problems: string[];
  /** How many files had their hash re-verified on open. */
  filesChecked: number;
  /** Recordings found mid-recording from a crashed session and closed as 'interrupted'. */
  recovered: number[];
}

export interface OpenStoreOptions {
  /** Who acts through this handle: written into the audit log with every change. */
  actor: string;
  /** Open read-only on purpose (review station). */
  readOnly?: boolean;
  /** PRAGMA integrity_check instead of the faster quick_check. */
  fullIntegrityCheck?: boolean;
  /** How many random files get their sha256 re-verified on open (default 8). */
  spotCheckFiles?: number;
  /** How long a write waits for another connection's lock before failing (default 2000 ms). */
  busyTimeoutMs?: number;
}

export interface DeletionRequest {
  caseId: string;
  token: string;
  expiresAt: number;
  /** What will be removed, for the confirmation dialog. */
  summary: { title: string; recordings: number; files: number; bytes: number };
}

export class StoreError extends Error {
  constructor(
    message: string,
    readonly code:
      'read-only' | 'busy' | 'disk-full' | 'corrupt' | 'not-found' | 'conflict' | 'confirmation' | 'io',
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

const MAX_SPOT_CHECK_BYTES = 256 * 1024 * 1024;
const DELETION_TOKEN_MS = 120_000;

type Row = Record<string, unknown>;
const str = (v: unknown): string => String(v);
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const nowIso = (): string => new Date().toISOString();

function isPidAlive(pid: number | null): boolean {
  if (pid === null || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Maps SQLite failures to messages a user can act on. */
function mapSqliteError(err: unknown, what: string): Error {
  const code = (err as { code?: string }).code ?? '';
  const msg = (err as Error).message;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      `${what}: the case database is locked by another process (${msg}); nothing was changed — close the other NavWS instance and retry`,
      'busy',
    );
  }
  if (code.startsWith('SQLITE_FULL'))
    return new StoreError(`${what}: disk full (${msg}); nothing was changed`, 'disk-full');
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) {
    return new StoreError(`${what}: the case database is damaged (${msg})`, 'corrupt');
  }
  if (code.startsWith('SQLITE_READONLY'))
    return new StoreError(`${what}: the case database is read-only (${msg})`, 'read-only');
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY')
    return new StoreError(`${what}: refers to a row that does not exist`, 'not-found');
  if (code.startsWith('SQLITE_CONSTRAINT')) return new StoreError(`${what}: ${msg}`, 'conflict');
  return err instanceof Error ? err : new Error(String(err));
}

export class CaseStore {
  private readonly deletionTokens = new Map<string, { token: string; expiresAt: number }>();

  private constructor(
    readonly root: string,
    private readonly db: Database.Database,
    readonly actor: string,
    readonly health: StoreHealth,
  ) {}

  /**
   * Opens (creating if needed) the store in `root`. Runs migrations, the integrity check and file
   * hash spot checks, and closes recordings left open by a crashed session.
   */
  static async open(root: string, options: OpenStoreOptions): Promise<CaseStore> {
    const actor = parseInput(actorSchema, options.actor, 'actor');
    const dbFile = path.join(root, DATABASE_FILE);
    const wantReadOnly = options.readOnly === true;
    if (wantReadOnly && !existsSync(dbFile))
      throw new StoreError(`${dbFile}: no case database to open read-only`, 'not-found');
    if (!wantReadOnly) await mkdir(path.join(root, 'cases'), { recursive: true });

    const problems: string[] = [];
    let db: Database.Database;
    try {
      db = new Database(dbFile, { readonly: wantReadOnly, timeout: options.busyTimeoutMs ?? 2000 });
      db.pragma('foreign_keys = ON');
      // Reading the schema forces SQLite to parse the header: a non-database fails here, not later.
      db.pragma('user_version', { simple: true });
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
        throw mapSqliteError(err, dbFile);
      throw new StoreError(
        `${dbFile}: cannot be opened as a case database (${(err as Error).message}). The file was left untouched; restore it from a backup or archive`,
        'corrupt',
      );
    }

    let check: string[];
    try {
      check = CaseStore.checkDatabase(db, options.fullIntegrityCheck === true);
    } catch (err) {
      db.close();
      throw err;
    }
    problems.push(...check);
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > SCHEMA_VERSION) {
      problems.push(`database schema version ${version} is newer than this NavWS (${SCHEMA_VERSION})`);
    }

    if (!wantReadOnly && problems.length === 0) {
      try {
        if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal')
          problems.push('could not enable WAL journal');
        db.pragma('synchronous = NORMAL');
        CaseStore.migrate(db);
      } catch (err) {
        db.close();
        throw mapSqliteError(err, `${dbFile}: preparing the database`);
      }
    }

    const store = new CaseStore(root, db, actor, {
      ok: problems.length === 0,
      readOnly: wantReadOnly,
      problems,
      filesChecked: 0,
      recovered: [],
    });
    if (problems.length === 0) {
      const fileProblems = await store.spotCheckFiles(options.spotCheckFiles ?? 8);
      problems.push(...fileProblems);
    }
    if (problems.length > 0 && !wantReadOnly) {
      // Keep what is stored readable, and make sure nothing writes into a damaged store.
      db.close();
      const ro = new Database(dbFile, { readonly: true, timeout: options.busyTimeoutMs ?? 2000 });
      ro.pragma('foreign_keys = ON');
      const health: StoreHealth = {
        ok: false,
        readOnly: true,
        problems,
        filesChecked: store.health.filesChecked,
        recovered: [],
      };
      return new CaseStore(root, ro, actor, health);
    }
    store.health.ok = problems.length === 0;
    if (!wantReadOnly) store.health.recovered = await store.recoverInterruptedRecordings();
    return store;
  }

  private static checkDatabase(db: Database.Database, full: boolean): string[] {
    const problems: string[] = [];
    try {
      const rows = db.pragma(full ? 'integrity_check' : 'quick_check') as Row[];
      const messages = rows
        .flatMap((r) => str(Object.values(r)[0]).split('\n'))
        .filter((m) => m !== 'ok' && !m.startsWith('***'));
      if (messages.length > 0)
        problems.push(`database integrity check failed: ${messages.slice(0, 3).join('; ')}`);
      const fk = db.pragma('foreign_key_check') as Row[];
      if (fk.length > 0)
        problems.push(`${fk.length} rows refer to missing rows (first in table ${str(fk[0]!.table)})`);
    } catch (err) {
      // A lock held by another process is not damage: say so instead of falling back to read-only.
      const code = (err as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
        throw mapSqliteError(err, 'opening the case store');
      problems.push(`database integrity check failed: ${(err as Error).message}`);
    }
    return problems;
  }

  private static migrate(db: Database.Database): void {
    const current = Number(db.pragma('user_version', { simple: true }));
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      db.transaction(() => {
        db.exec(m.sql);
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    }
  }

  private async spotCheckFiles(count: number): Promise<string[]> {
    if (count <= 0) return [];
    const rows = this.db
      .prepare(
        'SELECT id, case_id, rel_path, bytes, sha256 FROM files WHERE bytes <= ? ORDER BY random() LIMIT ?',
      )
      .all(MAX_SPOT_CHECK_BYTES, count) as Row[];
    const problems: string[] = [];
    for (const r of rows) {
      const rel = `cases/${str(r.case_id)}/${str(r.rel_path)}`;
      const abs = path.join(this.root, rel);
      this.health.filesChecked++;
      if (!existsSync(abs)) {
        problems.push(`${rel} is missing`);
        continue;
      }
      const { sha256, bytes } = await sha256File(abs);
      if (bytes !== num(r.bytes) || sha256 !== str(r.sha256)) {
        problems.push(`${rel} does not match its recorded sha256 (changed or damaged on disk)`);
      }
    }
    return problems;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get readOnly(): boolean {
    return this.health.readOnly;
  }

  /** Absolute folder of a case's files. */
  caseFolder(caseId: string): string {
    return path.join(this.root, 'cases', parseInput(caseIdSchema, caseId, 'case id'));
  }

  private assertWritable(what: string): void {
    if (this.health.readOnly) {
      const why = this.health.problems[0] ?? 'opened read-only';
      throw new StoreError(`${what}: the case store is read-only (${why})`, 'read-only');
    }
  }

  /** Runs `fn` and an audit entry in one IMMEDIATE transaction, mapping SQLite errors to clear ones. */
  private write<T>(what: string, caseId: string | null, details: Record<string, unknown>, fn: () => T): T {
    this.assertWritable(what);
    try {
      return this.db
        .transaction(() => {
          const result = fn();
          this.db
            .prepare('INSERT INTO audit_log (at, actor, action, case_id, details) VALUES (?, ?, ?, ?, ?)')
            .run(nowIso(), this.actor, what, caseId, JSON.stringify(details));
          return result;
        })
        .immediate();
    } catch (err) {
      if (err instanceof StoreError || err instanceof StoreInputError) throw err;
      throw mapSqliteError(err, what);
    }
  }

  private read<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw mapSqliteError(err, what);
    }
  }

  // ---- cases ---------------------------------------------------------------------------------

  async createCase(input: CaseInput): Promise<CaseRecord> {
    const c = parseInput(caseInputSchema, input, 'case');
    this.assertWritable('case.create');
    const id = randomUUID();
    const createdAt = nowIso();
    await mkdir(this.caseFolder(id), { recursive: true });
    this.write('case.create', id, { title: c.title }, () => {
      this.db
        .prepare(
          'INSERT INTO cases (id, title, procedure, surgeon, case_date, patient_ref, notes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(id, c.title, c.procedure, c.surgeon, c.date, c.patientRef, c.notes, createdAt);
    });
    return { id, ...c, createdAt };
  }

  updateCase(caseId: string, patch: Partial<CaseInput>): CaseRecord {
    const current = this.getCase(caseId);
    const merged = parseInput(caseInputSchema, { ...current, ...patch }, 'case');
    this.write('case.update', caseId, { fields: Object.keys(patch) }, () => {
      this.db
        .prepare(
          'UPDATE cases SET title=?, procedure=?, surgeon=?, case_date=?, patient_ref=?, notes=? WHERE id=?',
        )
        .run(
          merged.title,
          merged.procedure,
          merged.surgeon,
          merged.date,
          merged.patientRef,
          merged.notes,
          caseId,
        );
    });
    return this.getCase(caseId);
  }

  getCase(caseId: string): CaseRecord {
    parseInput(caseIdSchema, caseId, 'case id');
    const r = this.read(
      'case.get',
      () => this.db.prepare('SELECT * FROM cases WHERE id = ?').get(caseId) as Row | undefined,
    );
    if (!r) throw new StoreError(`case ${caseId} does not exist`, 'not-found');
    return caseFromRow(r);
  }

  listCases(): CaseRecord[] {
    return this.read('case.list', () =>
      (this.db.prepare('SELECT * FROM cases ORDER BY case_date DESC, created_at DESC').all() as Row[]).map(
        caseFromRow,
      ),
    );
  }

  // ---- files ---------------------------------------------------------------------------------

  /** Absolute path of a stored file. */
  filePath(file: FileRecord): string {
    return insideRoot(this.caseFolder(file.caseId), file.relPath);
  }

  /** Writes bytes atomically under the case folder and records their hash. */
  async putFile(caseId: string, relPath: string, kind: FileKind, data: Uint8Array): Promise<FileRecord> {
    this.getCase(caseId);
    const rel = parseInput(relPathSchema, relPath, 'file path');
    this.assertWritable('file.put');
    const abs = insideRoot(this.caseFolder(caseId), rel);
    if (existsSync(abs))
      throw new StoreError(`${rel}: a file with this name already exists in the case`, 'conflict');
    try {
      await writeFileAtomic(abs, data);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new StoreError(
        `${rel}: cannot write (${code === 'ENOSPC' ? 'disk full' : (code ?? (err as Error).message)}); nothing was recorded`,
        code === 'ENOSPC' ? 'disk-full' : 'io',
      );
    }
    try {
      return this.insertFile(caseId, rel, kind, data.length, sha256Bytes(data));
    } catch (err) {
      await rm(abs, { force: true });
      throw err;
    }
  }

  /** Records a file another writer (ffmpeg) already put in the case folder, hashing it now. */
  async registerFile(caseId: string, relPath: string, kind: FileKind): Promise<FileRecord> {
    const rel = parseInput(relPathSchema, relPath, 'file path');
    const abs = insideRoot(this.caseFolder(caseId), rel);
    if (!existsSync(abs)) throw new StoreError(`${rel}: no such file in case ${caseId}`, 'not-found');
    const { sha256, bytes } = await sha256File(abs);
    return this.insertFile(caseId, rel, kind, bytes, sha256);
  }

  private insertFile(caseId: string, rel: string, kind: FileKind, bytes: number, sha256: string): FileRecord {
    const createdAt = nowIso();
    const id = this.write('file.add', caseId, { path: rel, kind, bytes, sha256 }, () =>
      Number(
        this.db
          .prepare(
            'INSERT INTO files (case_id, rel_path, kind, bytes, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          )
          .run(caseId, rel, kind, bytes, sha256, createdAt).lastInsertRowid,
      ),
    );
    return { id, caseId, relPath: rel, kind, bytes, sha256, createdAt };
  }

  getFile(fileId: number): FileRecord {
    parseInput(rowIdSchema, fileId, 'file id');
    const r = this.read(
      'file.get',
      () => this.db.prepare('SELECT * FROM files WHERE id = ?').get(fileId) as Row | undefined,
    );
    if (!r) throw new StoreError(`file ${fileId} does not exist`, 'not-found');
    return fileFromRow(r);
  }

  listFiles(caseId: string): FileRecord[] {
    return (this.db.prepare('SELECT * FROM files WHERE case_id = ? ORDER BY id').all(caseId) as Row[]).map(
      fileFromRow,
    );
  }

  /** Reads a stored file, refusing it when its content no longer matches the recorded hash. */
  async readVerifiedFile(fileId: number): Promise<Uint8Array> {
    const f = this.getFile(fileId);
    const abs = this.filePath(f);
    let data: Buffer;
    try {
      data = await readFile(abs);
    } catch (err) {
      throw new StoreError(
        `${f.relPath}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        'io',
      );
    }
    if (sha256Bytes(data) !== f.sha256) {
      throw new StoreError(
        `${f.relPath}: content does not match its recorded sha256 (damaged on disk)`,
        'corrupt',
      );
    }
    return data;
  }

  // ---- recordings and frame index ------------------------------------------------------------

  /** Opens a recording row before the first frame is written (status 'recording'). */
  beginRecording(caseId: string, input: RecordingInput, writerPid: number | null = null): RecordingRecord {
    this.getCase(caseId);
    const r = parseInput(recordingInputSchema, input, 'recording');
    const startedAt = nowIso();
    const id = this.write('recording.begin', caseId, { path: r.relPath, source: r.source }, () =>
      Number(
        this.db
          .prepare(
            `INSERT INTO recordings (case_id, rel_path, container, source, width, height, fps, status, owner_pid, writer_pid, started_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'recording', ?, ?, ?)`,
          )
          .run(
            caseId,
            r.relPath,
            r.container,
            r.source,
            r.width,
            r.height,
            r.fps,
            process.pid,
            writerPid,
            startedAt,
          ).lastInsertRowid,
      ),
    );
    return this.getRecording(id);
  }

  /** The pid of the process writing the video (ffmpeg): recovery waits for it to exit before hashing. */
  setRecordingWriter(recordingId: number, pid: number): void {
    this.write('recording.writer', null, { recordingId, pid }, () => {
      this.db.prepare('UPDATE recordings SET writer_pid = ? WHERE id = ?').run(pid, recordingId);
    });
  }

  setRecordingWallOffset(recordingId: number, offsetMs: number): void {
    const v = parseInput(z.number().refine(Number.isFinite), offsetMs, 'wall-clock offset');
    this.write('recording.offset', null, { recordingId, offsetMs: v }, () => {
      this.db.prepare('UPDATE recordings SET wall_offset_ms = ? WHERE id = ?').run(v, recordingId);
    });
  }

  /** Appends frame index rows in one transaction (callers batch, e.g. every 0.25 s). */
  appendFrames(recordingId: number, rows: readonly FrameRow[]): void {
    if (rows.length === 0) return;
    const parsed = rows.map((r, i) => parseInput(frameRowSchema, r, `frame row ${i}`));
    this.assertWritable('recording.frames');
    try {
      this.db
        .transaction(() => {
          const ins = this.db.prepare(
            'INSERT INTO frames (recording_id, frame_number, pts, wall_ms) VALUES (?, ?, ?, ?)',
          );
          for (const r of parsed) ins.run(recordingId, r.frameNumber, r.pts, r.wallMs);
          // Incremental: a count(*) per batch would grow with the recording's length.
          this.db
            .prepare('UPDATE recordings SET frame_count = frame_count + ? WHERE id = ?')
            .run(parsed.length, recordingId);
        })
        .immediate();
    } catch (err) {
      throw mapSqliteError(err, `recording ${recordingId}: writing the frame index`);
    }
  }

  /** Closes a recording: hashes the video file (when there is one) and sets the final status. */
  async finishRecording(
    recordingId: number,
    status: Exclude<RecordingStatus, 'recording'>,
    error: string | null = null,
  ): Promise<RecordingRecord> {
    const rec = this.getRecording(recordingId);
    const abs = insideRoot(this.caseFolder(rec.caseId), rec.relPath);
    let fileId: number | null = rec.fileId;
    if (fileId === null && existsSync(abs) && (await stat(abs)).size > 0) {
      fileId = (await this.registerFile(rec.caseId, rec.relPath, 'video')).id;
    }
    this.write(`recording.${status}`, rec.caseId, { recordingId, error }, () => {
      this.db
        .prepare(
          `UPDATE recordings SET status = ?, file_id = ?, error = ?, ended_at = ?,
             frame_count = (SELECT count(*) FROM frames WHERE recording_id = ?) WHERE id = ?`,
        )
        .run(status, fileId, error, nowIso(), recordingId, recordingId);
    });
    return this.getRecording(recordingId);
  }

  getRecording(recordingId: number): RecordingRecord {
    parseInput(rowIdSchema, recordingId, 'recording id');
    const r = this.db.prepare('SELECT * FROM recordings WHERE id = ?').get(recordingId) as Row | undefined;
    if (!r) throw new StoreError(`recording ${recordingId} does not exist`, 'not-found');
    return recordingFromRow(r);
  }

  listRecordings(caseId: string): RecordingRecord[] {
    return (
      this.db.prepare('SELECT * FROM recordings WHERE case_id = ? ORDER BY id').all(caseId) as Row[]
    ).map(recordingFromRow);
  }

  recordingPath(rec: RecordingRecord): string {
    return insideRoot(this.caseFolder(rec.caseId), rec.relPath);
  }

  /** Frame index rows in frame order, optionally a range [from, to). */
  frameIndex(recordingId: number, from = 0, to = Number.MAX_SAFE_INTEGER): FrameRow[] {
    return (
      this.db
        .prepare(
          'SELECT frame_number, pts, wall_ms FROM frames WHERE recording_id = ? AND frame_number >= ? AND frame_number < ? ORDER BY frame_number',
        )
        .all(recordingId, from, to) as Row[]
    ).map((r) => ({ frameNumber: num(r.frame_number), pts: num(r.pts), wallMs: num(r.wall_ms) }));
  }

  /** The last frame whose pts is at or before `seconds` (for seeking by time), or null. */
  frameAtTime(recordingId: number, seconds: number): FrameRow | null {
    const r = this.db
      .prepare(
        'SELECT frame_number, pts, wall_ms FROM frames WHERE recording_id = ? AND pts <= ? ORDER BY pts DESC LIMIT 1',
      )
      .get(recordingId, seconds + 1e-6) as Row | undefined;
    return r ? { frameNumber: num(r.frame_number), pts: num(r.pts), wallMs: num(r.wall_ms) } : null;
  }

  /**
   * Closes recordings whose recording process died (crash, SIGKILL, power loss): status
   * 'interrupted', the video as it is on disk hashed, the frame count from the index.
   */
  async recoverInterruptedRecordings(): Promise<number[]> {
    if (this.health.readOnly) return [];
    const open = this.db
      .prepare("SELECT id, owner_pid, writer_pid FROM recordings WHERE status = 'recording'")
      .all() as Row[];
    const recovered: number[] = [];
    for (const r of open) {
      const id = num(r.id);
      const owner = numOrNull(r.owner_pid);
      if (owner === process.pid || isPidAlive(owner)) continue;
      // The orphaned ffmpeg gets SIGTERM from its parent's death and finishes the file: wait for it.
      const writerPid = numOrNull(r.writer_pid);
      const deadline = Date.now() + 5000;
      while (isPidAlive(writerPid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      if (isPidAlive(writerPid)) continue;
      await this.finishRecording(
        id,
        'interrupted',
        'the recording process ended unexpectedly; kept up to the last complete fragment',
      );
      recovered.push(id);
    }
    return recovered;
  }

  // ---- keyframes, trajectories, meshes -------------------------------------------------------

  /** Adds keyframes in one transaction; depth maps are stored as 16-bit PNG files (value / depthScale = mm). */
  async addKeyframes(
    caseId: string,
    keyframes: readonly {
      recordingId?: number | null;
      frameNumber: number;
      timestamp: number;
      pose: Mat4;
      depth?: DepthImage;
    }[],
    depthScale = 100,
  ): Promise<KeyframeRecord[]> {
    this.getCase(caseId);
    const items = keyframes.map((k, i) => ({
      recordingId: parseInput(rowIdSchema.nullable(), k.recordingId ?? null, `keyframe ${i}.recordingId`),
      frameNumber: parseInput(z.number().int().nonnegative(), k.frameNumber, `keyframe ${i}.frameNumber`),
      timestamp: parseInput(z.number().nonnegative(), k.timestamp, `keyframe ${i}.timestamp`),
      pose: parseInput(poseSchema, Array.from(k.pose), `keyframe ${i}.pose`),
      depth: k.depth,
    }));
    const fileIds: (number | null)[] = [];
    for (const k of items) {
      if (!k.depth) {
        fileIds.push(null);
        continue;
      }
      const rel = `keyframes/r${k.recordingId ?? 0}-f${String(k.frameNumber).padStart(6, '0')}-depth.png`;
      fileIds.push((await this.putFile(caseId, rel, 'depth', encodeDepthPng(k.depth, depthScale))).id);
    }
    const createdAt = nowIso();
    const ids = this.write('keyframes.add', caseId, { count: items.length }, () => {
      const ins = this.db.prepare(
        'INSERT INTO keyframes (case_id, recording_id, frame_number, timestamp, pose, depth_file_id, depth_scale, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      return items.map((k, i) =>
        Number(
          ins.run(
            caseId,
            k.recordingId,
            k.frameNumber,
            k.timestamp,
            JSON.stringify(k.pose),
            fileIds[i],
            fileIds[i] ? depthScale : null,
            createdAt,
          ).lastInsertRowid,
        ),
      );
    });
    return ids.map((id) => this.getKeyframe(id));
  }

  getKeyframe(id: number): KeyframeRecord {
    const r = this.db.prepare('SELECT * FROM keyframes WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw new StoreError(`keyframe ${id} does not exist`, 'not-found');
    return keyframeFromRow(r);
  }

  listKeyframes(caseId: string): KeyframeRecord[] {
    return (
      this.db.prepare('SELECT * FROM keyframes WHERE case_id = ? ORDER BY id').all(caseId) as Row[]
    ).map(keyframeFromRow);
  }

  async readKeyframeDepth(keyframe: KeyframeRecord): Promise<DepthImage | null> {
    if (keyframe.depthFileId === null) return null;
    const f = this.getFile(keyframe.depthFileId);
    return decodeDepthPng(await this.readVerifiedFile(f.id), keyframe.depthScale ?? 100, f.relPath);
  }

  async addTrajectory(
    caseId: string,
    label: string,
    poses: readonly StampedPose[],
    recordingId: number | null = null,
  ): Promise<TrajectoryRecord> {
    this.getCase(caseId);
    const name = parseInput(z.string().trim().min(1).max(200), label, 'trajectory label');
    poses.forEach((p, i) => parseInput(poseSchema, Array.from(p.pose), `trajectory pose ${i}`));
    const rel = `trajectories/${slug(name)}-${randomBytes(4).toString('hex')}.txt`;
    const file = await this.putFile(caseId, rel, 'trajectory', Buffer.from(formatTum(poses)));
    const createdAt = nowIso();
    const id = this.write('trajectory.add', caseId, { label: name, poses: poses.length }, () =>
      Number(
        this.db
          .prepare(
            'INSERT INTO trajectories (case_id, recording_id, label, file_id, pose_count, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          )
          .run(caseId, recordingId, name, file.id, poses.length, createdAt).lastInsertRowid,
      ),
    );
    return { id, caseId, recordingId, label: name, fileId: file.id, poseCount: poses.length, createdAt };
  }

  listTrajectories(caseId: string): TrajectoryRecord[] {
    return (
      this.db.prepare('SELECT * FROM trajectories WHERE case_id = ? ORDER BY id').all(caseId) as Row[]
    ).map((r) => ({
      id: num(r.id),
      caseId: str(r.case_id),
      recordingId: numOrNull(r.recording_id),
      label: str(r.label),
      fileId: num(r.file_id),
      poseCount: num(r.pose_count),
      createdAt: str(r.created_at),
    }));
  }

  async readTrajectory(t: TrajectoryRecord): Promise<StampedPose[]> {
    const f = this.getFile(t.fileId);
    return parseTum(Buffer.from(await this.readVerifiedFile(f.id)).toString('utf8'), f.relPath);
  }

  /** Stores a new version of a named mesh (binary PLY, mm) with the parameters that produced it. */
  async addMesh(
    caseId: string,
    name: string,
    mesh: TriangleMesh,
    parameters: Record<string, unknown>,
  ): Promise<MeshRecord> {
    this.getCase(caseId);
    const meshName = parseInput(z.string().trim().min(1).max(200), name, 'mesh name');
    const params = parseInput(meshParametersSchema, parameters, 'mesh parameters');
    try {
      validateMesh(mesh);
    } catch (err) {
      throw new StoreInputError(`mesh '${meshName}': ${(err as Error).message}`);
    }
    const row = this.db
      .prepare('SELECT coalesce(max(version), 0) AS v FROM meshes WHERE case_id = ? AND name = ?')
      .get(caseId, meshName) as Row;
    const version = num(row.v) + 1;
    const file = await this.putFile(
      caseId,
      `meshes/${slug(meshName)}-v${version}.ply`,
      'mesh',
      encodePly(mesh),
    );
    const createdAt = nowIso();
    const id = this.write('mesh.add', caseId, { name: meshName, version }, () =>
      Number(
        this.db
          .prepare(
            'INSERT INTO meshes (case_id, name, version, parameters, file_id, vertex_count, triangle_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          )
          .run(
            caseId,
            meshName,
            version,
            JSON.stringify(params),
            file.id,
            vertexCount(mesh),
            triangleCount(mesh),
            createdAt,
          ).lastInsertRowid,
      ),
    );
    return this.getMesh(id);
  }

  getMesh(id: number): MeshRecord {
    const r = this.db.prepare('SELECT * FROM meshes WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw new StoreError(`mesh ${id} does not exist`, 'not-found');
    return meshFromRow(r);
  }

  listMeshes(caseId: string): MeshRecord[] {
    return (
      this.db.prepare('SELECT * FROM meshes WHERE case_id = ? ORDER BY name, version').all(caseId) as Row[]
    ).map(meshFromRow);
  }

  async readMesh(m: MeshRecord): Promise<TriangleMesh> {
    const f = this.getFile(m.fileId);
    return decodePly(await this.readVerifiedFile(f.id), f.relPath);
  }

  // ---- annotations and measurements ----------------------------------------------------------

  addAnnotation(caseId: string, input: AnnotationInput): AnnotationRecord {
    this.getCase(caseId);
    const a = parseInput(annotationInputSchema, input, 'annotation');
    const createdAt = nowIso();
    const id = this.write('annotation.add', caseId, { kind: a.kind, text: a.text.slice(0, 80) }, () =>
      this.insertAnnotation(caseId, a, createdAt),
    );
    return { id, caseId, ...a, author: this.actor, createdAt };
  }

  /**
   * Annotations kept elsewhere before (an earlier release's per-case JSON file), with their original
   * times, in one transaction and one audit entry; returns how many were stored.
   */
  importAnnotations(caseId: string, items: readonly (AnnotationInput & { createdAt: string })[]): number {
    this.getCase(caseId);
    const parsed = items.map((item, i) => ({
      a: parseInput(annotationInputSchema, item, `annotation ${i}`),
      createdAt: parseInput(isoTimestampSchema, item.createdAt, `annotation ${i}.createdAt`),
    }));
    if (parsed.length === 0) return 0;
    this.write('annotation.import', caseId, { count: parsed.length }, () => {
      for (const { a, createdAt } of parsed) this.insertAnnotation(caseId, a, createdAt);
    });
    return parsed.length;
  }

  private insertAnnotation(
    caseId: string,
    a: z.output<typeof annotationInputSchema>,
    createdAt: string,
  ): number {
    return Number(
      this.db
        .prepare(
          'INSERT INTO annotations (case_id, kind, recording_id, frame_number, run_name, time_s, position, text, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          caseId,
          a.kind,
          a.recordingId,
          a.frameNumber,
          a.runName,
          a.timeS,
          a.position ? JSON.stringify(a.position) : null,
          a.text,
          this.actor,
          createdAt,
        ).lastInsertRowid,
    );
  }

  listAnnotations(caseId: string): AnnotationRecord[] {
    return (
      this.db.prepare('SELECT * FROM annotations WHERE case_id = ? ORDER BY id').all(caseId) as Row[]
    ).map((r) => ({
      id: num(r.id),
      caseId: str(r.case_id),
      kind: str(r.kind) === 'bookmark' ? 'bookmark' : 'note',
      recordingId: numOrNull(r.recording_id),
      frameNumber: numOrNull(r.frame_number),
      // Absent (undefined) on a version-1 store opened read-only, which is not migrated.
      runName: r.run_name == null ? null : str(r.run_name),
      timeS: numOrNull(r.time_s),
      position: r.position === null ? null : (JSON.parse(str(r.position)) as [number, number, number]),
      text: str(r.text),
      author: str(r.author),
      createdAt: str(r.created_at),
    }));
  }

  addMeasurement(caseId: string, input: MeasurementInput): MeasurementRecord {
    this.getCase(caseId);
    const m = parseInput(measurementInputSchema, input, 'measurement');
    const unit = m.kind === 'distance' ? 'mm' : m.kind === 'angle' ? 'deg' : 'mm2';
    const createdAt = nowIso();
    const id = this.write('measurement.add', caseId, { kind: m.kind, value: m.value, unit }, () =>
      Number(
        this.db
          .prepare(
            'INSERT INTO measurements (case_id, mesh_id, kind, points, value, unit, label, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          )
          .run(
            caseId,
            m.meshId,
            m.kind,
            JSON.stringify(m.points),
            m.value,
            unit,
            m.label,
            this.actor,
            createdAt,
          ).lastInsertRowid,
      ),
    );
    return { id, caseId, ...m, unit, author: this.actor, createdAt };
  }

  listMeasurements(caseId: string): MeasurementRecord[] {
    return (
      this.db.prepare('SELECT * FROM measurements WHERE case_id = ? ORDER BY id').all(caseId) as Row[]
    ).map((r) => ({
      id: num(r.id),
      caseId: str(r.case_id),
      meshId: numOrNull(r.mesh_id),
      kind: str(r.kind) as MeasurementRecord['kind'],
      points: JSON.parse(str(r.points)) as [number, number, number][],
      value: num(r.value),
      unit: str(r.unit) as MeasurementRecord['unit'],
      label: str(r.label),
      author: str(r.author),
      createdAt: str(r.created_at),
    }));
  }

  // ---- audit ---------------------------------------------------------------------------------

  auditLog(caseId?: string): AuditEntry[] {
    const rows = (
      caseId === undefined
        ? this.db.prepare('SELECT * FROM audit_log ORDER BY id').all()
        : this.db.prepare('SELECT * FROM audit_log WHERE case_id = ? ORDER BY id').all(caseId)
    ) as Row[];
    return rows.map((r) => ({
      id: num(r.id),
      at: str(r.at),
      actor: str(r.actor),
      action: str(r.action),
      caseId: r.case_id === null ? null : str(r.case_id),
      details: JSON.parse(str(r.details)) as Record<string, unknown>,
    }));
  }

  /** Appends a free-form audit entry (e.g. 'case.viewed', 'mesh.exported'). */
  audit(action: string, caseId: string | null, details: Record<string, unknown> = {}): void {
    const a = parseInput(
      z.string().regex(/^[a-z]+(\.[a-z-]+)+$/, 'must look like noun.verb'),
      action,
      'audit action',
    );
    this.write(a, caseId, details, () => undefined);
  }

  // ---- deletion (two-step) -------------------------------------------------------------------

  /** Step 1: returns a single-use token (valid 2 minutes) and what deletion would remove. */
  requestCaseDeletion(caseId: string): DeletionRequest {
    const c = this.getCase(caseId);
    this.assertWritable('case.delete');
    const files = this.listFiles(caseId);
    const token = randomBytes(16).toString('hex');
    const expiresAt = Date.now() + DELETION_TOKEN_MS;
    this.deletionTokens.set(caseId, { token, expiresAt });
    return {
      caseId,
      token,
      expiresAt,
      summary: {
        title: c.title,
        recordings: this.listRecordings(caseId).length,
        files: files.length,
        bytes: files.reduce((s, f) => s + f.bytes, 0),
      },
    };
  }

  /** Step 2: deletes the case's rows (one transaction, audited) and then its folder. */
  async deleteCase(caseId: string, token: string): Promise<void> {
    const c = this.getCase(caseId);
    const pending = this.deletionTokens.get(caseId);
    // Any attempt uses up the request: a wrong token means the confirmation must be asked again.
    this.deletionTokens.delete(caseId);
    if (!pending || pending.token !== token) {
      throw new StoreError(
        `case ${caseId}: deletion not confirmed (call requestCaseDeletion first and pass its token)`,
        'confirmation',
      );
    }
    if (Date.now() > pending.expiresAt)
      throw new StoreError(`case ${caseId}: deletion token expired; request it again`, 'confirmation');
    const live = this.listRecordings(caseId).filter((r) => r.status === 'recording');
    if (live.length > 0)
      throw new StoreError(`case ${caseId}: a recording is in progress; stop it before deleting`, 'conflict');
    const folder = this.caseFolder(caseId);
    const trash = path.join(this.root, `.deleting-${caseId}`);
    this.write('case.delete', caseId, { title: c.title, patientRef: c.patientRef }, () => {
      this.db.prepare('DELETE FROM cases WHERE id = ?').run(caseId);
    });
    if (existsSync(folder)) {
      await rename(folder, trash);
      await rm(trash, { recursive: true, force: true });
    }
  }

  /** Internal: the raw connection for the archive module (same package). */
  get database(): Database.Database {
    return this.db;
  }

  /** Internal: runs `fn` in one audited transaction (archive import). */
  transact<T>(what: string, caseId: string | null, details: Record<string, unknown>, fn: () => T): T {
    return this.write(what, caseId, details, fn);
  }
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'item'
  );
}

function caseFromRow(r: Row): CaseRecord {
  return {
    id: str(r.id),
    title: str(r.title),
    procedure: str(r.procedure),
    surgeon: str(r.surgeon),
    date: str(r.case_date),
    patientRef: str(r.patient_ref),
    notes: str(r.notes),
    createdAt: str(r.created_at),
  };
}

function fileFromRow(r: Row): FileRecord {
  return {
    id: num(r.id),
    caseId: str(r.case_id),
    relPath: str(r.rel_path),
    kind: str(r.kind) as FileKind,
    bytes: num(r.bytes),
    sha256: str(r.sha256),
    createdAt: str(r.created_at),
  };
}

function recordingFromRow(r: Row): RecordingRecord {
  return {
    id: num(r.id),
    caseId: str(r.case_id),
    relPath: str(r.rel_path),
    fileId: numOrNull(r.file_id),
    container: str(r.container) as RecordingRecord['container'],
    source: str(r.source),
    width: num(r.width),
    height: num(r.height),
    fps: numOrNull(r.fps),
    wallOffsetMs: numOrNull(r.wall_offset_ms),
    status: str(r.status) as RecordingStatus,
    frameCount: num(r.frame_count),
    error: r.error === null ? null : str(r.error),
    startedAt: str(r.started_at),
    endedAt: r.ended_at === null ? null : str(r.ended_at),
  };
}

function keyframeFromRow(r: Row): KeyframeRecord {
  return {
    id: num(r.id),
    caseId: str(r.case_id),
    recordingId: numOrNull(r.recording_id),
    frameNumber: num(r.frame_number),
    timestamp: num(r.timestamp),
    pose: Float64Array.from(JSON.parse(str(r.pose)) as number[]),
    depthFileId: numOrNull(r.depth_file_id),
    depthScale: numOrNull(r.depth_scale),
  };
}

function meshFromRow(r: Row): MeshRecord {
  return {
    id: num(r.id),
    caseId: str(r.case_id),
    name: str(r.name),
    version: num(r.version),
    parameters: JSON.parse(str(r.parameters)) as Record<string, unknown>,
    fileId: num(r.file_id),
    vertexCount: num(r.vertex_count),
    triangleCount: num(r.triangle_count),
    createdAt: str(r.created_at),
  };
}
