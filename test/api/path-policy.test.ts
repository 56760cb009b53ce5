/**
 * Paths from the UI (docs/security.md) on a real file system and the real engine service: `file`
 * sources only under the samples, cases and configured folders (symbolic links resolved) or picked in a
 * dialog; configured datasets listed as sources and run through the real pipeline; export file names
 * that cannot leave the case's exports folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NavApiError } from '../../src/shared/api/nav-api.js';
import { EngineService } from '../../src/engine/service/engine-service.js';
import {
  EXPORT_GRANT_TTL_MS,
  PathPolicy,
  exportFileName,
  sourceRootsFromEnv,
} from '../../src/engine/service/path-policy.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const phantom = path.join(root, 'samples', 'phantom');

function tempDir(t: { after(fn: () => void): void }, name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `navws-paths-${name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const refused = (why: RegExp) => (err: unknown) =>
  err instanceof NavApiError && err.code === 'bad-request' && why.test(err.message);

test('file sources: inside an allowed root (links resolved) or picked; anything else is refused by name', (t) => {
  const dir = tempDir(t, 'roots');
  const [samples, cases, site, outside] = ['samples', 'cases', 'site', 'outside'].map((n) => {
    mkdirSync(path.join(dir, n));
    return path.join(dir, n);
  }) as [string, string, string, string];
  mkdirSync(path.join(site, 'liver'));
  mkdirSync(path.join(outside, 'secret'));
  writeFileSync(path.join(outside, 'video.mp4'), '');
  // A link inside an allowed root that leads out of it.
  symlinkSync(path.join(outside, 'secret'), path.join(site, 'escape'));
  const policy = new PathPolicy({ samplesRoot: samples, casesRoot: cases, sourceRoots: [site] });

  assert.equal(policy.checkSource(path.join(site, 'liver')), path.join(site, 'liver'));
  assert.equal(policy.checkSource(site), site);
  assert.throws(
    () => policy.checkSource(path.join(outside, 'secret')),
    refused(/not in a folder sources may come from/),
  );
  assert.throws(
    () => policy.checkSource(path.join(site, 'escape')),
    refused(/not in a folder sources may come from/),
  );
  assert.throws(
    () => policy.checkSource(path.join(site, '..', 'outside', 'secret')),
    refused(/not in a folder/),
  );
  // A sibling whose name starts like a root is not inside it.
  mkdirSync(`${site}-2`);
  assert.throws(() => policy.checkSource(`${site}-2`), refused(/not in a folder/));
  assert.throws(() => policy.checkSource('site/liver'), refused(/must be absolute/));
  assert.throws(
    () => policy.checkSource(path.join(site, 'missing')),
    (err: unknown) => err instanceof NavApiError && err.code === 'not-found',
  );
  // The message names the allowed folders and how to add one.
  assert.throws(
    () => policy.checkSource(outside),
    (err: Error) => err.message.includes(site) && /NAVWS_SOURCE_ROOTS/.test(err.message),
  );

  // Picked in a dialog: exactly that file or folder, not its neighbours.
  policy.allowPicked(path.join(outside, 'video.mp4'));
  assert.equal(policy.checkSource(path.join(outside, 'video.mp4')), path.join(outside, 'video.mp4'));
  assert.throws(() => policy.checkSource(path.join(outside, 'secret')), refused(/not in a folder/));
});

test('configured roots come from NAVWS_SOURCE_ROOTS, absolute paths only', () => {
  assert.deepEqual(sourceRootsFromEnv({}), []);
  assert.deepEqual(sourceRootsFromEnv({ NAVWS_SOURCE_ROOTS: ['/data/a', '/data/b/'].join(path.delimiter) }), [
    '/data/a',
    '/data/b',
  ]);
  assert.throws(() => sourceRootsFromEnv({ NAVWS_SOURCE_ROOTS: 'relative/dir' }), /not an absolute path/);
});

test('export file names cannot leave the exports folder; grants are single-use, per format, and expire', (t) => {
  assert.equal(exportFileName('liver', 'ply'), 'liver.ply');
  assert.equal(exportFileName('Liver scan 2.PLY', 'ply'), 'Liver scan 2.PLY');
  for (const bad of [
    '../liver.ply',
    '/tmp/liver.ply',
    'a/b.ply',
    'a\\b.ply',
    '..',
    '.hidden',
    'x'.repeat(200),
    'lé.ply',
    '',
  ])
    assert.throws(() => exportFileName(bad, 'ply'), refused(/export file name/), bad);
  assert.throws(() => exportFileName('liver.stl', 'ply'), refused(/ends in \.stl, but the format is PLY/));

  const dir = tempDir(t, 'grants');
  let now = 1_000;
  const policy = new PathPolicy({ samplesRoot: dir, casesRoot: dir, sourceRoots: [], now: () => now });
  const { grant } = policy.grantExport(path.join(dir, 'a.ply'), 'ply');
  assert.equal(policy.exportGrant(grant, 'ply', false), path.join(dir, 'a.ply'));
  now += EXPORT_GRANT_TTL_MS + 1;
  assert.throws(() => policy.exportGrant(grant, 'ply', true), refused(/unknown, already used or expired/));
  assert.throws(
    () => policy.grantExport(path.join(dir, 'no-such-folder', 'a.ply'), 'ply'),
    (err: unknown) => err instanceof NavApiError && err.code === 'not-found',
  );
  assert.throws(() => policy.grantExport('relative.ply', 'ply'), refused(/not absolute/));
});

test(
  'a dataset in a configured root is listed as a source and runs; the same dataset outside is refused',
  {
    skip: existsSync(path.join(phantom, 'intrinsics.json')) ? false : 'samples/phantom is missing',
    timeout: 120_000,
  },
  async (t) => {
    const dir = tempDir(t, 'service');
    const site = path.join(dir, 'site');
    const outside = path.join(dir, 'outside');
    cpSync(phantom, path.join(site, 'phantom-copy'), { recursive: true });
    cpSync(phantom, path.join(outside, 'phantom-copy'), { recursive: true });
    const api = await EngineService.open({
      host: 'browser',
      casesRoot: path.join(dir, 'cases'),
      samplesRoot: path.join(dir, 'no-samples'),
      sourceRoots: [site],
    });
    t.after(() => api.close());
    const sources = await api.call('sources.list', {});
    const listed = sources.find((s) => s.source.kind === 'file');
    assert.deepEqual(listed?.source, { kind: 'file', path: path.join(site, 'phantom-copy') });
    assert.equal(listed?.available, true);
    assert.ok(!sources.some((s) => s.detail.startsWith(outside)), 'nothing outside the roots is listed');

    const c = await api.call('cases.create', { title: 'Configured root', patientRef: 'ROOT-1' });
    await assert.rejects(
      api.call('run.start', {
        caseId: c.id,
        source: { kind: 'file', path: path.join(outside, 'phantom-copy') },
      }),
      refused(/not in a folder sources may come from/),
    );
    const finished = new Promise<string>((resolve) =>
      api.onEvent((e) => {
        if (e.type === 'run' && (e.status.state === 'finished' || e.status.state === 'failed'))
          resolve(e.status.state);
      }),
    );
    await api.call('run.start', { caseId: c.id, source: listed!.source, depth: 'gt', poses: 'gt', speed: 8 });
    assert.equal(await finished, 'finished');
    const detail = await api.call('cases.open', { caseId: c.id });
    assert.equal(detail.runs[0]?.source, path.join(site, 'phantom-copy'));
    assert.ok(detail.runs[0]!.frameCount > 10, `${detail.runs[0]!.frameCount} frames recorded`);
  },
);
