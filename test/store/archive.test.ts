import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Header } from 'tar';
import { ArchiveError, exportCase, importCase } from '../../src/engine/store/archive.js';
import { CaseStore, StoreError } from '../../src/engine/store/case-store.js';
import { tempDir } from '../capture/helpers.js';
import { CASE, depthMap, gridMesh, poseAt } from './fixtures.js';

/** A tar archive written block by block, so that tests can craft entries a normal writer refuses. */
function craftTar(
  entries: { path: string; type?: 'File' | 'SymbolicLink'; body?: string; linkpath?: string }[],
): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = new Header({
      path: e.path,
      type: e.type ?? 'File',
      size: e.type === 'SymbolicLink' ? 0 : body.length,
      mode: 0o644,
      mtime: new Date(0),
      linkpath: e.linkpath ?? '',
    });
    const block = Buffer.alloc(512);
    h.encode(block, 0);
    blocks.push(block);
    if (e.type !== 'SymbolicLink' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

test('a case exported as one archive imports into another store with the same content', async () => {
  const { dir, cleanup } = await tempDir('archive');
  try {
    const a = await CaseStore.open(path.join(dir, 'a'), { actor: 'dr.a' });
    const c = await a.createCase(CASE);
    const mesh = gridMesh();
    const m = await a.addMesh(c.id, 'surface', mesh, { voxelMm: 0.5 });
    await a.addKeyframes(c.id, [{ frameNumber: 3, timestamp: 0.1, pose: poseAt(1), depth: depthMap() }]);
    await a.addTrajectory(c.id, 'tracked', [{ timestamp: 0, pose: poseAt(0) }]);
    a.addMeasurement(c.id, {
      kind: 'distance',
      points: [
        [0, 0, 0],
        [3, 4, 0],
      ],
      value: 5,
      meshId: m.id,
    });
    a.addAnnotation(c.id, { kind: 'bookmark', text: 'portal vein', runName: 'run-1', timeS: 1.25 });
    const archive = path.join(dir, 'case.tar');
    const phases: string[] = [];
    const out = await exportCase(a, c.id, archive, (p) => phases.push(p.phase));
    assert.equal(out.files, 3);
    assert.ok(phases.includes('collect') && phases.includes('write'));

    const b = await CaseStore.open(path.join(dir, 'b'), { actor: 'dr.b' });
    const id = await importCase(b, archive);
    assert.equal(id, c.id);
    assert.deepEqual(b.getCase(id), a.getCase(c.id));
    const [bm] = b.listMeshes(id);
    assert.ok(bm);
    assert.deepEqual(bm.parameters, { voxelMm: 0.5 });
    assert.deepEqual((await b.readMesh(bm)).positions, mesh.positions);
    const [kf] = b.listKeyframes(id);
    assert.ok(kf && kf.depthFileId !== null);
    assert.ok(await b.readKeyframeDepth(kf));
    assert.equal(b.listMeasurements(id)[0]!.meshId, bm.id);
    assert.deepEqual(
      b.listAnnotations(id).map((x) => [x.kind, x.text, x.runName, x.timeS]),
      [['bookmark', 'portal vein', 'run-1', 1.25]],
      'timeline bookmarks travel with the case',
    );
    const trail = b.auditLog(id);
    assert.equal(trail[0]!.actor, 'dr.a', 'history travels with the case');
    assert.equal(trail.at(-1)!.action, 'case.import');
    assert.equal(trail.at(-1)!.actor, 'dr.b');

    await assert.rejects(
      importCase(b, archive),
      (e: Error) => e instanceof StoreError && e.code === 'conflict',
    );
    a.close();
    b.close();
  } finally {
    await cleanup();
  }
});

test('crafted archives (path traversal, links, tampered files) are rejected and nothing is stored', async () => {
  const { dir, cleanup } = await tempDir('archive-evil');
  try {
    const storeRoot = path.join(dir, 'store');
    const store = await CaseStore.open(storeRoot, { actor: 'tester' });
    const keep = await store.createCase(CASE);

    const cases: [string, Buffer, RegExp][] = [
      [
        'traversal.tar',
        craftTar([
          { path: 'manifest.json', body: '{}' },
          { path: '../../evil.txt', body: 'pwned' },
        ]),
        /unsafe entries: '\.\.\/\.\.\/evil\.txt' \(path contains \. or \.\.\)/,
      ],
      [
        'inner-traversal.tar',
        craftTar([{ path: 'files/../../../evil.txt', body: 'pwned' }]),
        /path contains \. or \.\./,
      ],
      ['absolute.tar', craftTar([{ path: '/tmp/navws-evil.txt', body: 'pwned' }]), /unsafe entries/],
      [
        'symlink.tar',
        craftTar([{ path: 'files/link', type: 'SymbolicLink', linkpath: '/etc' }]),
        /entry type SymbolicLink is not allowed/,
      ],
      ['outside.tar', craftTar([{ path: 'evil.sh', body: 'x' }]), /outside files\//],
      ['nomanifest.tar', craftTar([{ path: 'files/a.bin', body: 'x' }]), /no manifest\.json/],
      [
        'badmanifest.tar',
        craftTar([{ path: 'manifest.json', body: '{"format":"other"}' }]),
        /manifest\.json field 'format'/,
      ],
    ];
    for (const [name, bytes, expected] of cases) {
      const file = path.join(dir, name);
      await writeFile(file, bytes);
      await assert.rejects(importCase(store, file), (e: Error) => {
        assert.ok(e instanceof ArchiveError, `${name}: ${e.message}`);
        assert.match(e.message, expected, name);
        return true;
      });
    }
    assert.equal(existsSync(path.join(dir, 'evil.txt')), false);
    assert.equal(existsSync(path.join(storeRoot, '..', 'evil.txt')), false);
    assert.equal(existsSync('/tmp/navws-evil.txt'), false);

    // A genuine archive whose file was altered after export: hash check refuses it.
    const other = await CaseStore.open(path.join(dir, 'other'), { actor: 'tester' });
    const c = await other.createCase({ ...CASE, title: 'to be tampered' });
    await other.addMesh(c.id, 'surface', gridMesh(), {});
    const good = path.join(dir, 'good.tar');
    await exportCase(other, c.id, good);
    const bytes = await readFile(good);
    const at = bytes.indexOf(Buffer.from('end_header\n')) + 20;
    bytes[at] = bytes[at]! ^ 0xff;
    const tampered = path.join(dir, 'tampered.tar');
    await writeFile(tampered, bytes);
    await assert.rejects(
      importCase(store, tampered),
      /files\/meshes\/surface-v1\.ply does not match its sha256/,
    );

    assert.deepEqual(
      store.listCases().map((x) => x.id),
      [keep.id],
    );
    assert.equal(existsSync(store.caseFolder(c.id)), false);
    store.close();
    other.close();
  } finally {
    await cleanup();
  }
});
