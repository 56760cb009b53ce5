/**
 * The workstation's case repository on the SQLite store: timeline bookmarks that an earlier release
 * kept in a case's annotations.json move into the store, once, with their original times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Annotation } from '../../src/shared/api/schemas.js';
import { StoreCaseRepository } from '../../src/engine/service/store-repository.js';
import { tempDir } from '../capture/helpers.js';

test("a case's legacy annotations.json is imported into the store once and kept as a renamed file", async () => {
  const { dir, cleanup } = await tempDir('store-repo');
  try {
    const repo = await StoreCaseRepository.open(dir);
    const c = await repo.createCase({
      title: 'Legacy case',
      procedure: 'cholecystectomy',
      surgeon: 'Dr. B',
      patientRef: 'PSN-0007',
    });
    const legacy: Annotation[] = [
      {
        id: 'ann-1',
        caseId: c.id,
        runId: 'run-a',
        timeS: 2.5,
        kind: 'bookmark',
        label: 'gallbladder',
        createdAt: '2026-11-20T10:00:00.000Z',
      },
      {
        id: 'ann-2',
        caseId: c.id,
        runId: null,
        timeS: 0,
        kind: 'note',
        label: 'start',
        createdAt: '2026-11-20T10:01:00.000Z',
      },
    ];
    const folder = repo.caseFolder(c.id);
    await writeFile(path.join(folder, 'annotations.json'), JSON.stringify(legacy));

    const listed = await repo.listAnnotations(c.id);
    assert.deepEqual(
      listed.map((a) => [a.kind, a.runId, a.timeS, a.label, a.createdAt]),
      legacy.map((a) => [a.kind, a.runId, a.timeS, a.label, a.createdAt]),
    );
    assert.ok(!existsSync(path.join(folder, 'annotations.json')), 'the side file is retired');
    assert.ok(existsSync(path.join(folder, 'annotations.imported.json')), 'and kept under another name');

    await repo.addAnnotation({ ...legacy[0]!, id: 'x', timeS: 4, label: 'clip' });
    assert.equal((await repo.listAnnotations(c.id)).length, 3, 'imported once, not again');
    repo.close();

    const reopened = await StoreCaseRepository.open(dir);
    assert.equal((await reopened.listAnnotations(c.id)).length, 3, 'stored in the database');
    reopened.close();
  } finally {
    await cleanup();
  }
});
