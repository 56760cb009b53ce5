import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface LauncherModule {
  electronPlatformPath(platform: string): string;
  findElectronBinary(o: { root: string; env?: NodeJS.ProcessEnv; platform?: string }): Found;
  missingElectronMessage(r: Found): string;
}
type Found =
  | { found: true; binary: string; version: string }
  | { found: false; looked: string; version: string | null; reason: string };
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// A plain ESM script without type declarations: imported by URL and typed here.
const launcher = (await import(
  pathToFileURL(path.join(root, 'scripts', 'start-electron.mjs')).href
)) as LauncherModule;
const find = launcher.findElectronBinary;
const message = launcher.missingElectronMessage;
const electronPlatformPath = launcher.electronPlatformPath;

function fakeProject(t: { after(fn: () => unknown): void }, withBinary: boolean): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'navws-launch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pkg = path.join(dir, 'node_modules', 'electron');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'electron', version: '45.4.1' }));
  if (withBinary) {
    mkdirSync(path.join(pkg, 'dist'));
    writeFileSync(path.join(pkg, 'path.txt'), 'electron');
    writeFileSync(path.join(pkg, 'dist', 'electron'), '#!/bin/sh\n');
    chmodSync(path.join(pkg, 'dist', 'electron'), 0o755);
  }
  return dir;
}

test('a missing binary is reported with the fix and the browser alternative', (t) => {
  const dir = fakeProject(t, false);
  const r = find({ root: dir, env: {}, platform: 'linux' });
  assert.equal(r.found, false);
  const text = message(r);
  assert.match(text, /Electron binary is not installed/);
  assert.match(text, /node_modules\/electron\/dist\/electron/);
  assert.match(text, /npx install-electron/);
  assert.match(text, /rm -rf node_modules\/electron && npm install/);
  assert.match(text, /npm run serve/);
  assert.match(text, /45\.4\.1/);
  assert.match(text, /Nothing was downloaded/);
});

test('an installed binary is found, also through ELECTRON_OVERRIDE_DIST_PATH', (t) => {
  const dir = fakeProject(t, true);
  const r = find({ root: dir, env: {}, platform: 'linux' });
  assert.deepEqual(r, {
    found: true,
    binary: path.join(dir, 'node_modules', 'electron', 'dist', 'electron'),
    version: '45.4.1',
  });
  const other = fakeProject(t, false);
  const r2 = find({
    root: other,
    env: { ELECTRON_OVERRIDE_DIST_PATH: path.join(dir, 'node_modules', 'electron', 'dist') },
    platform: 'linux',
  });
  assert.equal(r2.found, true);
  assert.equal(electronPlatformPath('win32'), 'electron.exe');
  assert.equal(electronPlatformPath('darwin'), 'Electron.app/Contents/MacOS/Electron');
});

test('npm start exits non-zero without downloading when the binary is missing here', (t) => {
  if (existsSync(path.join(root, 'node_modules', 'electron', 'dist'))) {
    t.skip('the Electron binary is installed on this machine; `npm start` would launch the app');
    return;
  }
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'start-electron.mjs')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    // Any download attempt would need the network: point every proxy at a closed port so it fails loudly.
    env: {
      ...process.env,
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      ELECTRON_OVERRIDE_DIST_PATH: '',
    },
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /npx install-electron/);
  assert.match(r.stderr, /npm run serve/);
  assert.doesNotMatch(r.stdout + r.stderr, /Downloading Electron/i);
  assert.equal(existsSync(path.join(root, 'node_modules', 'electron', 'dist')), false, 'no dist/ appeared');
});
