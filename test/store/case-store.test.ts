import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CaseStore, DATABASE_FILE, StoreError } from '../../src/engine/store/case-store.js';
import { SCHEMA_VERSION } from '../../src/engine/store/schema.js';
import { StoreInputError } from '../../src/engine/store/validation.js';
import { tempDir } from '../capture/helpers.js';
import { CASE, depthMap, gridMesh, poseAt } from './fixtures.js';

test('a case with every kind of data is stored, read back and audited', async () => {
  const { dir, cleanup } = await tempDir('store');
  try {
    const store = await CaseStore.open(dir, { actor: 'dr.surgeon' });
    assert.deepEqual(store.health.problems, []);
    const db = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    db.close();

    const c = await store.createCase(CASE);
    assert.equal(store.getCase(c.id).patientRef, 'PSN-0042');
    assert.equal(store.listCases().length, 1);

    const mesh = gridMesh();
    const v1 = await store.addMesh(c.id, 'Liver surface', mesh, { voxelMm: 0.5, truncationMm: 2 });
    const v2 = await store.addMesh(c.id, 'Liver surface', mesh, { voxelMm: 0.25, truncationMm: 1 });
    assert.equal(v1.version, 1);
    assert.equal(v2.version, 2);
    assert.deepEqual(v2.parameters, { voxelMm: 0.25, truncationMm: 1 });
    const back = await store.readMesh(v2);
    assert.deepEqual(back.positions, mesh.positions);
    assert.deepEqual(back.indices, mesh.indices);
    assert.deepEqual(back.colors, mesh.colors);

    const depth = depthMap();
    const [k0, k1] = await store.addKeyframes(c.id, [
      { frameNumber: 0, timestamp: 0, pose: poseAt(0), depth },
      { frameNumber: 12, timestamp: 0.4, pose: poseAt(3.5) },
    ]);
    assert.equal(k1!.pose[3], 3.5);
    const d = await store.readKeyframeDepth(k0!);
    assert.ok(d);
    for (let i = 0; i < depth.data.length; i++) assert.ok(Math.abs(d.data[i]! - depth.data[i]!) <= 0.005);
    assert.equal(await store.readKeyframeDepth(k1!), null);

    const traj = await store.addTrajectory(c.id, 'tracked', [
      { timestamp: 0, pose: poseAt(0) },
      { timestamp: 0.4, pose: poseAt(3.5) },
    ]);
    const poses = await store.readTrajectory(traj);
    assert.equal(poses.length, 2);
    assert.ok(Math.abs(poses[1]!.pose[3]! - 3.5) < 1e-6);

    store.addAnnotation(c.id, { text: 'bleeding point', position: [1, 2, 50] });
    const m = store.addMeasurement(c.id, {
      kind: 'distance',
      points: [
        [0, 0, 50],
        [10, 0, 50],
      ],
      value: 10,
      meshId: v2.id,
    });
    assert.equal(m.unit, 'mm');
    assert.equal(store.listAnnotations(c.id)[0]!.author, 'dr.surgeon');
    assert.deepEqual(store.listMeasurements(c.id)[0]!.points, [
      [0, 0, 50],
      [10, 0, 50],
    ]);

    const actions = store.auditLog(c.id).map((e) => e.action);
    for (const a of [
      'case.create',
      'mesh.add',
      'keyframes.add',
      'trajectory.add',
      'annotation.add',
      'measurement.add',
    ]) {
      assert.ok(actions.includes(a), `audit has ${a}`);
    }
    assert.ok(store.auditLog(c.id).every((e) => e.actor === 'dr.surgeon'));
    store.close();

    // The audit log is append-only, whoever writes to the database.
    const raw = new Database(path.join(dir, DATABASE_FILE));
    assert.throws(() => raw.prepare("UPDATE audit_log SET actor = 'someone else'").run(), /append-only/);
    assert.throws(() => raw.prepare('DELETE FROM audit_log').run(), /append-only/);
    raw.close();
  } finally {
    await cleanup();
  }
});

test('inputs are validated with errors that name the field', async () => {
  const { dir, cleanup } = await tempDir('store-validate');
  try {
    const store = await CaseStore.open(dir, { actor: 'tester' });
    await assert.rejects(store.createCase({ ...CASE, patientRef: 'Jane Doe' }), (e: Error) => {
      assert.ok(e instanceof StoreInputError);
      assert.match(e.message, /case\.patientRef: must be a pseudonymous code/);
      return true;
    });
    await assert.rejects(
      store.createCase({ ...CASE, date: '25/11/2026' }),
      /case\.date: must be an ISO date/,
    );
    await assert.rejects(store.createCase({ ...CASE, title: '' }), /case\.title/);
    const c = await store.createCase(CASE);
    const bad = poseAt(0);
    bad[15] = 2;
    await assert.rejects(
      store.addKeyframes(c.id, [{ frameNumber: 0, timestamp: 0, pose: bad }]),
      /keyframe 0\.pose/,
    );
    assert.throws(
      () =>
        store.addMeasurement(c.id, {
          kind: 'angle',
          points: [
            [0, 0, 0],
            [1, 0, 0],
          ],
          value: 90,
        }),
      /angle needs exactly 3/,
    );
    await assert.rejects(store.putFile(c.id, '../escape.bin', 'other', new Uint8Array(1)), /file path: must/);
    assert.throws(() => store.getCase('not-a-uuid'), /case id/);
    assert.throws(
      () => store.getCase('00000000-0000-4000-8000-000000000000'),
      (e: Error) => e instanceof StoreError,
    );
    store.close();
  } finally {
    await cleanup();
  }
});

test('a file changed on disk is found on open: read-only fallback with a clear message, data still readable', async () => {
  const { dir, cleanup } = await tempDir('store-tamper');
  try {
    const store = await CaseStore.open(dir, { actor: 'tester' });
    const c = await store.createCase(CASE);
    const mesh = await store.addMesh(c.id, 'surface', gridMesh(), {});
    const file = store.filePath(store.getFile(mesh.fileId));
    store.close();
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(file, bytes);

    const reopened = await CaseStore.open(dir, { actor: 'tester', spotCheckFiles: 100 });
    assert.equal(reopened.health.ok, false);
    assert.equal(reopened.readOnly, true);
    assert.match(
      reopened.health.problems.join('\n'),
      /meshes\/surface-v1\.ply does not match its recorded sha256/,
    );
    assert.equal(reopened.getCase(c.id).title, CASE.title);
    await assert.rejects(reopened.createCase(CASE), (e: Error) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, 'read-only');
      assert.match(e.message, /read-only \(.*sha256/);
      return true;
    });
    await assert.rejects(reopened.readMesh(mesh), /does not match its recorded sha256/);
    reopened.close();
  } finally {
    await cleanup();
  }
});

test('a corrupt database gives a clear error and is left untouched', async () => {
  const { dir, cleanup } = await tempDir('store-corrupt');
  try {
    const store = await CaseStore.open(dir, { actor: 'tester' });
    for (let i = 0; i < 30; i++) await store.createCase({ ...CASE, title: `case ${i} ${'x'.repeat(150)}` });
    store.close();
    const dbFile = path.join(dir, DATABASE_FILE);

    // Damaged pages but a valid header: opens read-only with the integrity problem named.
    const bytes = await readFile(dbFile);
    assert.ok(bytes.length >= 4 * 4096, `database has ${bytes.length} bytes`);
    for (let o = 4096 + 100; o < bytes.length; o += 4096) bytes.fill(0xa5, o, o + 400);
    await writeFile(dbFile, bytes);
    let damaged: CaseStore | null = null;
    try {
      damaged = await CaseStore.open(dir, { actor: 'tester' });
      assert.equal(damaged.readOnly, true);
      assert.match(damaged.health.problems[0]!, /integrity check failed|malformed/);
    } catch (err) {
      // SQLite may refuse even to read the schema when the damage hits it: that must be clear, too.
      assert.ok(err instanceof StoreError);
      assert.match(err.message, /cannot be opened as a case database .*malformed/);
    } finally {
      damaged?.close();
    }
    assert.ok((await readFile(dbFile)).equals(bytes), 'damaged file left as it was');

    // Not a database at all.
    const garbage = Buffer.alloc(8192, 0x42);
    await writeFile(dbFile, garbage);
    await assert.rejects(CaseStore.open(dir, { actor: 'tester' }), (e: Error) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, 'corrupt');
      assert.match(
        e.message,
        /navws\.sqlite: cannot be opened as a case database \(file is not a database\)/,
      );
      return true;
    });
    assert.ok((await readFile(dbFile)).equals(garbage));
  } finally {
    await cleanup();
  }
});

test('a database locked by another process fails writes clearly and loses nothing', async () => {
  const { dir, cleanup } = await tempDir('store-locked');
  try {
    const store = await CaseStore.open(dir, { actor: 'tester', busyTimeoutMs: 100 });
    const first = await store.createCase(CASE);
    const other = new Database(path.join(dir, DATABASE_FILE));
    other.exec('BEGIN EXCLUSIVE');
    await assert.rejects(store.createCase({ ...CASE, title: 'second' }), (e: Error) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, 'busy');
      assert.match(e.message, /locked by another process/);
      return true;
    });
    other.exec('ROLLBACK');
    other.close();
    const second = await store.createCase({ ...CASE, title: 'second' });
    assert.deepEqual(
      store
        .listCases()
        .map((c) => c.id)
        .sort(),
      [first.id, second.id].sort(),
    );
    store.close();

    // A process holding the database in exclusive locking mode: opening says "locked", not "damaged".
    const holder = new Database(path.join(dir, DATABASE_FILE));
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('BEGIN EXCLUSIVE');
    await assert.rejects(CaseStore.open(dir, { actor: 'tester', busyTimeoutMs: 100 }), (e: Error) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, 'busy');
      assert.match(e.message, /locked by another process/);
      return true;
    });
    holder.exec('COMMIT');
    holder.close();
    const reopened = await CaseStore.open(dir, { actor: 'tester' });
    assert.equal(reopened.health.ok, true);
    assert.equal(reopened.listCases().length, 2);
    reopened.close();
  } finally {
    await cleanup();
  }
});

test('deleting a case needs the token from a deletion request', async () => {
  const { dir, cleanup } = await tempDir('store-delete');
  try {
    const store = await CaseStore.open(dir, { actor: 'tester' });
    const c = await store.createCase(CASE);
    await store.addMesh(c.id, 'surface', gridMesh(), {});
    await assert.rejects(
      store.deleteCase(c.id, 'guess'),
      (e: Error) => e instanceof StoreError && e.code === 'confirmation',
    );
    const req = store.requestCaseDeletion(c.id);
    assert.equal(req.summary.files, 1);
    assert.equal(req.summary.title, CASE.title);
    await assert.rejects(store.deleteCase(c.id, req.token.replace(/./, 'z')), /not confirmed/);
    // A failed attempt consumes the request: a new one is needed.
    await assert.rejects(store.deleteCase(c.id, req.token), /not confirmed/);
    const again = store.requestCaseDeletion(c.id);
    await store.deleteCase(c.id, again.token);
    assert.equal(store.listCases().length, 0);
    assert.equal(existsSync(store.caseFolder(c.id)), false);
    const trail = store.auditLog(c.id).map((e) => e.action);
    assert.equal(trail.at(-1), 'case.delete');
    store.close();
  } finally {
    await cleanup();
  }
});

test('a version-1 store migrates: its annotations become notes, bookmarks keep their run and time', async () => {
  const { dir, cleanup } = await tempDir('store-migrate');
  try {
    // A store as the first release wrote it: only migration 1 applied, one case with one annotation.
    const { MIGRATIONS } = await import('../../src/engine/store/schema.js');
    const raw = new Database(path.join(dir, DATABASE_FILE));
    raw.exec(MIGRATIONS[0]!.sql);
    raw.pragma('user_version = 1');
    const c = { id: '3f2a9c1e-0000-4000-8000-000000000001' };
    const now = new Date().toISOString();
    raw
      .prepare(
        'INSERT INTO cases (id, title, procedure, surgeon, case_date, patient_ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(c.id, CASE.title, CASE.procedure, CASE.surgeon, CASE.date, CASE.patientRef, now);
    raw
      .prepare(
        "INSERT INTO annotations (case_id, text, author, created_at) VALUES (?, 'old note', 'dr.a', ?)",
      )
      .run(c.id, now);
    raw.close();

    const store = await CaseStore.open(dir, { actor: 'dr.b' });
    const db = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    db.close();
    const [note] = store.listAnnotations(c.id);
    assert.deepEqual([note!.kind, note!.text, note!.runName, note!.timeS], ['note', 'old note', null, null]);
    store.addAnnotation(c.id, { kind: 'bookmark', text: 'clip applied', runName: 'run-7', timeS: 12.5 });
    const bookmark = store.listAnnotations(c.id)[1]!;
    assert.deepEqual([bookmark.kind, bookmark.runName, bookmark.timeS], ['bookmark', 'run-7', 12.5]);
    assert.throws(
      () => store.addAnnotation(c.id, { kind: 'bookmark', text: 'x', timeS: -1 }),
      (e: Error) => e instanceof StoreInputError && /timeS/.test(e.message),
    );
    store.close();
  } finally {
    await cleanup();
  }
});
