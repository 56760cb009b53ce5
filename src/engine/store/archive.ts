/**
 * A whole case as one archive (POSIX tar via node-tar): `manifest.json` (the case's rows from every
 * table, its audit trail, and each file's sha256) plus `files/<path>` for each stored file. Import
 * lists the archive first and refuses any entry that is not a plain file or folder under `files/`
 * (absolute paths, `..`, links, devices), then verifies every hash before anything enters the store.
 * Not compressed by default: videos, PNGs and meshes barely shrink and large cases would be slow.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';
import { z } from 'zod';
import { type CaseStore, StoreError } from './case-store.js';
import { insideRoot, sha256File } from './files.js';
import { SCHEMA_VERSION } from './schema.js';
import { relPathSchema } from './validation.js';

export const ARCHIVE_FORMAT = 'navws-case-archive';

export interface ArchiveProgress {
  phase: 'collect' | 'write' | 'list' | 'extract' | 'verify' | 'store';
  done: number;
  total: number;
}

export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

type Row = Record<string, unknown>;

const id = z.number().int().positive();
const optId = id.nullable();
const s = z.string();
const n = z.number();
const manifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  formatVersion: z.literal(1),
  schemaVersion: z.number().int().positive().max(SCHEMA_VERSION),
  exportedAt: s,
  exportedBy: s,
  case: z.object({
    id: z.uuid(),
    title: s,
    procedure: s,
    surgeon: s,
    case_date: s,
    patient_ref: s,
    notes: s,
    created_at: s,
  }),
  files: z.array(
    z.object({
      id,
      rel_path: relPathSchema,
      kind: z.enum(['video', 'depth', 'mesh', 'trajectory', 'other']),
      bytes: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      created_at: s,
    }),
  ),
  recordings: z.array(
    z.object({
      id,
      rel_path: relPathSchema,
      file_id: optId,
      container: z.enum(['mp4', 'matroska']),
      source: s,
      width: z.number().int().positive(),
      height: z.number().int().positive(),
      fps: n.nullable(),
      wall_offset_ms: n.nullable(),
      status: z.enum(['complete', 'interrupted', 'failed']),
      frame_count: z.number().int().nonnegative(),
      error: s.nullable(),
      started_at: s,
      ended_at: s.nullable(),
    }),
  ),
  frames: z.array(z.tuple([id, z.number().int().nonnegative(), n, n])),
  keyframes: z.array(
    z.object({
      recording_id: optId,
      frame_number: z.number().int().nonnegative(),
      timestamp: n,
      pose: s,
      depth_file_id: optId,
      depth_scale: n.nullable(),
      created_at: s,
    }),
  ),
  trajectories: z.array(
    z.object({ recording_id: optId, label: s, file_id: id, pose_count: z.number().int(), created_at: s }),
  ),
  meshes: z.array(
    z.object({
      id,
      name: s,
      version: z.number().int().positive(),
      parameters: s,
      file_id: id,
      vertex_count: z.number().int(),
      triangle_count: z.number().int(),
      created_at: s,
    }),
  ),
  annotations: z.array(
    z.object({
      // Absent in archives written before schema version 2.
      kind: z.enum(['note', 'bookmark']).default('note'),
      recording_id: optId,
      frame_number: z.number().int().nullable(),
      run_name: s.nullable().default(null),
      time_s: z.number().nonnegative().nullable().default(null),
      position: s.nullable(),
      text: s,
      author: s,
      created_at: s,
    }),
  ),
  measurements: z.array(
    z.object({
      mesh_id: optId,
      kind: z.enum(['distance', 'angle', 'area']),
      points: s,
      value: n,
      unit: z.enum(['mm', 'deg', 'mm2']),
      label: s,
      author: s,
      created_at: s,
    }),
  ),
  audit: z.array(z.object({ at: s, actor: s, action: s, details: s })),
});
type Manifest = z.infer<typeof manifestSchema>;

function pick(rows: Row[], columns: string[]): Row[] {
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null])));
}

/** Writes the case to `archiveFile` (a .tar). Works on a read-only store too (rescue from damage). */
export async function exportCase(
  store: CaseStore,
  caseId: string,
  archiveFile: string,
  onProgress?: (p: ArchiveProgress) => void,
): Promise<{ files: number; bytes: number }> {
  store.getCase(caseId); // fails clearly for an unknown case
  const db = store.database;
  const all = (sql: string): Row[] => db.prepare(sql).all(caseId) as Row[];
  const recordings = all('SELECT * FROM recordings WHERE case_id = ? ORDER BY id');
  const live = recordings.find((r) => r.status === 'recording');
  if (live)
    throw new ArchiveError(
      `case ${caseId}: recording ${String(live.id)} is still in progress; stop it before exporting`,
    );
  const files = all('SELECT * FROM files WHERE case_id = ? ORDER BY id');
  const manifest: Manifest = manifestSchema.parse({
    format: ARCHIVE_FORMAT,
    formatVersion: 1,
    schemaVersion: SCHEMA_VERSION,
    exportedAt: new Date().toISOString(),
    exportedBy: store.actor,
    case: pick(
      [db.prepare('SELECT * FROM cases WHERE id = ?').get(caseId) as Row],
      ['id', 'title', 'procedure', 'surgeon', 'case_date', 'patient_ref', 'notes', 'created_at'],
    )[0],
    files: pick(files, ['id', 'rel_path', 'kind', 'bytes', 'sha256', 'created_at']),
    recordings: pick(recordings, [
      'id',
      'rel_path',
      'file_id',
      'container',
      'source',
      'width',
      'height',
      'fps',
      'wall_offset_ms',
      'status',
      'frame_count',
      'error',
      'started_at',
      'ended_at',
    ]),
    frames: (
      db
        .prepare(
          'SELECT f.recording_id, f.frame_number, f.pts, f.wall_ms FROM frames f JOIN recordings r ON r.id = f.recording_id WHERE r.case_id = ? ORDER BY f.recording_id, f.frame_number',
        )
        .raw()
        .all(caseId) as unknown[][]
    ).map((r) => r.map(Number)),
    keyframes: pick(all('SELECT * FROM keyframes WHERE case_id = ? ORDER BY id'), [
      'recording_id',
      'frame_number',
      'timestamp',
      'pose',
      'depth_file_id',
      'depth_scale',
      'created_at',
    ]),
    trajectories: pick(all('SELECT * FROM trajectories WHERE case_id = ? ORDER BY id'), [
      'recording_id',
      'label',
      'file_id',
      'pose_count',
      'created_at',
    ]),
    meshes: pick(all('SELECT * FROM meshes WHERE case_id = ? ORDER BY id'), [
      'id',
      'name',
      'version',
      'parameters',
      'file_id',
      'vertex_count',
      'triangle_count',
      'created_at',
    ]),
    annotations: pick(all('SELECT * FROM annotations WHERE case_id = ? ORDER BY id'), [
      'kind',
      'recording_id',
      'frame_number',
      'run_name',
      'time_s',
      'position',
      'text',
      'author',
      'created_at',
    ]),
    measurements: pick(all('SELECT * FROM measurements WHERE case_id = ? ORDER BY id'), [
      'mesh_id',
      'kind',
      'points',
      'value',
      'unit',
      'label',
      'author',
      'created_at',
    ]),
    audit: pick(all('SELECT * FROM audit_log WHERE case_id = ? ORDER BY id'), [
      'at',
      'actor',
      'action',
      'details',
    ]),
  });

  // Stage manifest + hard links to the files (no copy of large videos), then tar the stage.
  const stage = path.join(store.root, '.staging', `export-${randomBytes(6).toString('hex')}`);
  const caseFolder = store.caseFolder(caseId);
  let bytes = 0;
  try {
    await mkdir(path.join(stage, 'files'), { recursive: true });
    await writeFile(path.join(stage, 'manifest.json'), JSON.stringify(manifest));
    for (const [i, f] of manifest.files.entries()) {
      const src = insideRoot(caseFolder, f.rel_path);
      const dst = path.join(stage, 'files', f.rel_path);
      await mkdir(path.dirname(dst), { recursive: true });
      try {
        await link(src, dst);
      } catch {
        await copyFile(src, dst);
      }
      bytes += f.bytes;
      onProgress?.({ phase: 'collect', done: i + 1, total: manifest.files.length });
    }
    await mkdir(path.dirname(path.resolve(archiveFile)), { recursive: true });
    const tmp = `${archiveFile}.partial`;
    await tar.c({ file: tmp, cwd: stage, portable: true, noDirRecurse: false }, ['manifest.json', 'files']);
    await rename(tmp, archiveFile);
    onProgress?.({ phase: 'write', done: 1, total: 1 });
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
  if (!store.readOnly)
    store.audit('case.exported', caseId, {
      archive: path.basename(archiveFile),
      files: manifest.files.length,
      bytes,
    });
  return { files: manifest.files.length, bytes };
}

/** Why an archive entry may not be extracted, or null when it is a plain file/folder under files/. */
export function unsafeEntryReason(entryPath: string, type: string): string | null {
  if (type !== 'File' && type !== 'OldFile' && type !== 'Directory')
    return `entry type ${type} is not allowed`;
  const p = entryPath.replace(/\/+$/, '');
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || p.includes('\\')) return 'absolute or non-POSIX path';
  if (p.split('/').some((seg) => seg === '..' || seg === '.')) return 'path contains . or ..';
  if (p === 'manifest.json' && type !== 'Directory') return null;
  if (p === 'files' && type === 'Directory') return null;
  if (!p.startsWith('files/')) return 'outside files/';
  return relPathSchema.safeParse(p.slice('files/'.length)).success ? null : 'not a plain relative file name';
}

/**
 * Imports a case archive. Nothing enters the store unless every entry is safe, the manifest is
 * valid, every file's sha256 matches and the case id is not already present.
 */
export async function importCase(
  store: CaseStore,
  archiveFile: string,
  onProgress?: (p: ArchiveProgress) => void,
): Promise<string> {
  if (store.readOnly)
    throw new StoreError(
      `import: the case store is read-only (${store.health.problems[0] ?? 'opened read-only'})`,
      'read-only',
    );
  if (!existsSync(archiveFile)) throw new ArchiveError(`${archiveFile}: no such archive`);
  const name = path.basename(archiveFile);

  const rejected: string[] = [];
  let entries = 0;
  try {
    await tar.t({
      file: archiveFile,
      strict: true,
      onReadEntry: (e) => {
        entries++;
        const why = unsafeEntryReason(e.path, e.type);
        if (why) rejected.push(`'${e.path}' (${why})`);
      },
    });
  } catch (err) {
    throw new ArchiveError(`${name}: not a readable case archive (${(err as Error).message})`);
  }
  onProgress?.({ phase: 'list', done: entries, total: entries });
  if (rejected.length > 0) {
    throw new ArchiveError(
      `${name}: archive rejected, unsafe entries: ${rejected.slice(0, 5).join(', ')}; nothing was imported`,
    );
  }

  const stage = path.join(store.root, '.staging', `import-${randomBytes(6).toString('hex')}`);
  await mkdir(stage, { recursive: true });
  try {
    await tar.x({
      file: archiveFile,
      cwd: stage,
      strict: true,
      preservePaths: false,
      filter: (p, e) => unsafeEntryReason(p, 'type' in e ? e.type : 'File') === null,
    });
    onProgress?.({ phase: 'extract', done: entries, total: entries });

    const manifestFile = path.join(stage, 'manifest.json');
    if (!existsSync(manifestFile))
      throw new ArchiveError(`${name}: no manifest.json; not a NavWS case archive`);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(manifestFile, 'utf8'));
    } catch (err) {
      throw new ArchiveError(`${name}: manifest.json is not valid JSON (${(err as Error).message})`);
    }
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ArchiveError(`${name}: manifest.json field '${issue.path.join('.')}': ${issue.message}`);
    }
    const m = parsed.data;
    const caseId = m.case.id;
    if (
      (store.database.prepare('SELECT 1 FROM cases WHERE id = ?').get(caseId) as Row | undefined) !==
      undefined
    ) {
      throw new StoreError(
        `${name}: case ${caseId} already exists in this store; delete it first to re-import`,
        'conflict',
      );
    }

    const filesRoot = path.join(stage, 'files');
    const listed = new Set(m.files.map((f) => f.rel_path));
    for (const extra of await listFilesRecursive(filesRoot)) {
      if (!listed.has(extra)) throw new ArchiveError(`${name}: files/${extra} is not listed in the manifest`);
    }
    for (const [i, f] of m.files.entries()) {
      const abs = insideRoot(filesRoot, f.rel_path);
      if (!existsSync(abs)) throw new ArchiveError(`${name}: files/${f.rel_path} is listed but missing`);
      const h = await sha256File(abs);
      if (h.sha256 !== f.sha256 || h.bytes !== f.bytes) {
        throw new ArchiveError(
          `${name}: files/${f.rel_path} does not match its sha256 in the manifest (damaged archive)`,
        );
      }
      onProgress?.({ phase: 'verify', done: i + 1, total: m.files.length });
    }
    checkReferences(m, name);

    const caseFolder = store.caseFolder(caseId);
    if (existsSync(caseFolder)) {
      throw new StoreError(
        `${name}: folder of case ${caseId} exists without a database row; move it away first`,
        'conflict',
      );
    }
    await mkdir(path.dirname(caseFolder), { recursive: true });
    await rename(
      existsSync(filesRoot) ? filesRoot : await mkdir(filesRoot, { recursive: true }).then(() => filesRoot),
      caseFolder,
    );
    try {
      insertRows(store, m, name);
    } catch (err) {
      await rename(caseFolder, filesRoot);
      throw err;
    }
    onProgress?.({ phase: 'store', done: 1, total: 1 });
    return caseId;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

async function listFilesRecursive(root: string, prefix = ''): Promise<string[]> {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFilesRecursive(path.join(root, e.name), rel)));
    else if ((await stat(path.join(root, e.name))).isFile()) out.push(rel);
  }
  return out;
}

function checkReferences(m: Manifest, name: string): void {
  const files = new Set(m.files.map((f) => f.id));
  const recs = new Set(m.recordings.map((r) => r.id));
  const meshes = new Set(m.meshes.map((x) => x.id));
  const bad = (what: string): never => {
    throw new ArchiveError(`${name}: manifest ${what} refers to a row the archive does not contain`);
  };
  m.recordings.forEach((r) => r.file_id !== null && !files.has(r.file_id) && bad(`recording ${r.id}`));
  m.frames.forEach((f) => !recs.has(f[0]) && bad(`frame ${f[1]}`));
  m.keyframes.forEach((k, i) => {
    if (
      (k.recording_id !== null && !recs.has(k.recording_id)) ||
      (k.depth_file_id !== null && !files.has(k.depth_file_id))
    )
      bad(`keyframe ${i}`);
  });
  m.trajectories.forEach(
    (t, i) =>
      (!files.has(t.file_id) || (t.recording_id !== null && !recs.has(t.recording_id))) &&
      bad(`trajectory ${i}`),
  );
  m.meshes.forEach((x) => !files.has(x.file_id) && bad(`mesh ${x.id}`));
  m.annotations.forEach(
    (a, i) => a.recording_id !== null && !recs.has(a.recording_id) && bad(`annotation ${i}`),
  );
  m.measurements.forEach((x, i) => x.mesh_id !== null && !meshes.has(x.mesh_id) && bad(`measurement ${i}`));
}

/** Inserts the manifest's rows in one transaction, mapping the archive's row ids to new ones. */
function insertRows(store: CaseStore, m: Manifest, name: string): void {
  const db = store.database;
  const c = m.case;
  store.transact(
    'case.import',
    c.id,
    { archive: name, exportedBy: m.exportedBy, exportedAt: m.exportedAt, files: m.files.length },
    () => {
      db.prepare(
        'INSERT INTO cases (id, title, procedure, surgeon, case_date, patient_ref, notes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(c.id, c.title, c.procedure, c.surgeon, c.case_date, c.patient_ref, c.notes, c.created_at);
      const fileIds = new Map<number, number>();
      const insFile = db.prepare(
        'INSERT INTO files (case_id, rel_path, kind, bytes, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const f of m.files)
        fileIds.set(
          f.id,
          Number(insFile.run(c.id, f.rel_path, f.kind, f.bytes, f.sha256, f.created_at).lastInsertRowid),
        );
      const mapFile = (v: number | null): number | null => (v === null ? null : fileIds.get(v)!);
      const recIds = new Map<number, number>();
      const insRec = db.prepare(
        `INSERT INTO recordings (case_id, rel_path, file_id, container, source, width, height, fps, wall_offset_ms, status, frame_count, error, started_at, ended_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const r of m.recordings) {
        recIds.set(
          r.id,
          Number(
            insRec.run(
              c.id,
              r.rel_path,
              mapFile(r.file_id),
              r.container,
              r.source,
              r.width,
              r.height,
              r.fps,
              r.wall_offset_ms,
              r.status,
              r.frame_count,
              r.error,
              r.started_at,
              r.ended_at,
            ).lastInsertRowid,
          ),
        );
      }
      const mapRec = (v: number | null): number | null => (v === null ? null : recIds.get(v)!);
      const insFrame = db.prepare(
        'INSERT INTO frames (recording_id, frame_number, pts, wall_ms) VALUES (?, ?, ?, ?)',
      );
      for (const f of m.frames) insFrame.run(recIds.get(f[0])!, f[1], f[2], f[3]);
      const insKf = db.prepare(
        'INSERT INTO keyframes (case_id, recording_id, frame_number, timestamp, pose, depth_file_id, depth_scale, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const k of m.keyframes)
        insKf.run(
          c.id,
          mapRec(k.recording_id),
          k.frame_number,
          k.timestamp,
          k.pose,
          mapFile(k.depth_file_id),
          k.depth_scale,
          k.created_at,
        );
      const insTr = db.prepare(
        'INSERT INTO trajectories (case_id, recording_id, label, file_id, pose_count, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const t of m.trajectories)
        insTr.run(c.id, mapRec(t.recording_id), t.label, mapFile(t.file_id), t.pose_count, t.created_at);
      const meshIds = new Map<number, number>();
      const insMesh = db.prepare(
        'INSERT INTO meshes (case_id, name, version, parameters, file_id, vertex_count, triangle_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const x of m.meshes) {
        meshIds.set(
          x.id,
          Number(
            insMesh.run(
              c.id,
              x.name,
              x.version,
              x.parameters,
              mapFile(x.file_id),
              x.vertex_count,
              x.triangle_count,
              x.created_at,
            ).lastInsertRowid,
          ),
        );
      }
      const insAnn = db.prepare(
        'INSERT INTO annotations (case_id, kind, recording_id, frame_number, run_name, time_s, position, text, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const a of m.annotations)
        insAnn.run(
          c.id,
          a.kind,
          mapRec(a.recording_id),
          a.frame_number,
          a.run_name,
          a.time_s,
          a.position,
          a.text,
          a.author,
          a.created_at,
        );
      const insMeas = db.prepare(
        'INSERT INTO measurements (case_id, mesh_id, kind, points, value, unit, label, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const x of m.measurements)
        insMeas.run(
          c.id,
          x.mesh_id === null ? null : meshIds.get(x.mesh_id)!,
          x.kind,
          x.points,
          x.value,
          x.unit,
          x.label,
          x.author,
          x.created_at,
        );
      // The case's history travels with it; the import itself is appended after it by transact().
      const insAudit = db.prepare(
        'INSERT INTO audit_log (at, actor, action, case_id, details) VALUES (?, ?, ?, ?, ?)',
      );
      for (const a of m.audit) insAudit.run(a.at, a.actor, a.action, c.id, a.details);
    },
  );
}
