/**
 * Walks Electron's security checklist (https://www.electronjs.org/docs/latest/tutorial/security)
 * against the real window options, protocol, navigation and permission policy that main uses, and
 * checks main's source wires them up. Item numbers follow the checklist.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import vm from 'node:vm';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { APP_ENTRY_URL, APP_SCHEME_PRIVILEGES } from '../../src/main/security/app-protocol.js';
import {
  devicePermissionDecision,
  isNavigationAllowed,
  isRequestAllowed,
  permissionCheckDecision,
  permissionRequestDecision,
  windowOpenDecision,
} from '../../src/main/security/navigation.js';
import {
  mainWindowOptions,
  orMonitorWindowOptions,
  pickOrMonitorDisplay,
  secureWebPreferences,
} from '../../src/main/security/window-options.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// Whitespace collapsed, so formatting does not change what the source checks see.
const source = (rel: string): string => readFileSync(path.join(root, rel), 'utf8').replace(/\s+/g, ' ');

const bounds = { x: 1920, y: 0, width: 1920, height: 1080 };
const windows = {
  'main window (production)': mainWindowOptions({ preloadPath: '/app/dist/preload/preload.cjs' }),
  'main window (development)': mainWindowOptions({
    preloadPath: '/app/dist/preload/preload.cjs',
    devTools: true,
  }),
  'OR monitor window': orMonitorWindowOptions({ preloadPath: '/app/dist/preload/preload.cjs', bounds }),
};

for (const [name, options] of Object.entries(windows)) {
  test(`checklist on the ${name}'s real options`, () => {
    const wp = options.webPreferences;
    assert.ok(wp, 'webPreferences present');
    // 2. Node.js integration off everywhere (renderer, workers, subframes).
    assert.equal(wp.nodeIntegration, false);
    assert.equal(wp.nodeIntegrationInWorker, false);
    assert.equal(wp.nodeIntegrationInSubFrames, false);
    // 3. Context isolation on.
    assert.equal(wp.contextIsolation, true);
    // 4. Process sandbox on.
    assert.equal(wp.sandbox, true);
    // 6. webSecurity not disabled.
    assert.equal(wp.webSecurity, true);
    // 8. No insecure content.
    assert.equal(wp.allowRunningInsecureContent, false);
    // 9. No experimental features.
    assert.equal(wp.experimentalFeatures, false);
    // 10. No enableBlinkFeatures.
    assert.ok(!wp.enableBlinkFeatures, 'enableBlinkFeatures empty');
    // 11/12. No <webview> at all.
    assert.equal(wp.webviewTag, false);
    // Dropping a file on the window must not navigate it away from the app.
    assert.equal(wp.navigateOnDragDrop, false);
    // The preload is the bundled single CommonJS file, by absolute path.
    assert.ok(wp.preload && path.isAbsolute(wp.preload) && wp.preload.endsWith('preload.cjs'));
    // No option that would weaken the list above sneaks in under another name.
    const allowed = new Set(Object.keys(secureWebPreferences('/x')));
    for (const key of Object.keys(wp)) assert.ok(allowed.has(key), `unexpected webPreference '${key}'`);
    // Windows start hidden and show on ready-to-show (no white flash in a dark OR).
    assert.equal(options.show, false);
  });
}

test('devtools are closed in production builds', () => {
  assert.equal(windows['main window (production)'].webPreferences?.devTools, false);
  assert.equal(windows['OR monitor window'].webPreferences?.devTools, false);
});

test('1/18. content is only the bundled app over the custom scheme, never file:// or the network', () => {
  assert.match(APP_ENTRY_URL, /^navws:\/\/app\/index\.html$/);
  assert.equal(APP_SCHEME_PRIVILEGES.secure, true);
  assert.equal(APP_SCHEME_PRIVILEGES.standard, true);
  assert.equal(APP_SCHEME_PRIVILEGES.bypassCSP, false);
  assert.equal(APP_SCHEME_PRIVILEGES.corsEnabled, false);
  for (const url of [
    'navws://app/index.html',
    'navws://app/app.js',
    'data:image/png;base64,AA',
    'blob:navws://app/1',
  ]) {
    assert.equal(isRequestAllowed(url), true, url);
  }
  for (const url of [
    'https://example.org/x.js',
    'http://127.0.0.1:5177/api',
    'ws://127.0.0.1/',
    'file:///etc/passwd',
    'navws://other/index.html',
    'navws://user:pw@app/index.html',
    'ftp://x/',
    'not a url',
  ]) {
    assert.equal(isRequestAllowed(url), false, url);
  }
  const main = source('src/main/main.ts');
  const loads = [...main.matchAll(/\.loadURL\(([^)]*)\)/g)].map((m) => m[1]);
  assert.ok(
    loads.length > 0 && loads.every((arg) => arg!.includes('APP_ENTRY_URL')),
    `loadURL only with the app URL: ${loads.join(' | ')}`,
  );
  assert.doesNotMatch(main, /\.loadFile\(|file:\/\//);
});

test('5. every permission request and check is denied; device permissions too', () => {
  for (const permission of [
    'media',
    'geolocation',
    'notifications',
    'clipboard-read',
    'fullscreen',
    'openExternal',
    'hid',
    'serial',
    'usb',
    'unknown',
  ]) {
    assert.equal(permissionRequestDecision(permission, APP_ENTRY_URL), false, permission);
    assert.equal(permissionCheckDecision(permission, 'navws://app'), false, permission);
  }
  assert.equal(devicePermissionDecision(), false);
  const policy = source('src/main/session-policy.ts');
  for (const hook of [
    'setPermissionRequestHandler',
    'setPermissionCheckHandler',
    'setDevicePermissionHandler',
  ]) {
    assert.match(policy, new RegExp(`\\.${hook}\\(`), `${hook} installed`);
  }
});

test('7. a CSP is set as a response header of every app resource and for the whole session', () => {
  const policy = source('src/main/session-policy.ts');
  assert.match(policy, /securityHeaders\(asset\.contentType\)/);
  assert.match(policy, /onHeadersReceived\([^]*withCspHeader/);
});

test('13/14. navigation away from the app and new windows are blocked on every webContents', () => {
  assert.equal(isNavigationAllowed('navws://app/index.html#/review'), true);
  for (const url of [
    'https://evil.example/',
    'file:///home',
    'navws://app.evil/',
    'javascript:alert(1)',
    'about:blank',
    'chrome://gpu',
  ]) {
    assert.equal(isNavigationAllowed(url), false, url);
  }
  assert.deepEqual(windowOpenDecision(), { action: 'deny' });
  const policy = source('src/main/session-policy.ts');
  for (const event of ['will-navigate', 'will-redirect', 'will-frame-navigate', 'will-attach-webview']) {
    assert.match(policy, new RegExp(`'${event}'`), `${event} handled`);
  }
  assert.match(policy, /app\.on\('web-contents-created'/);
  assert.match(policy, /setWindowOpenHandler/);
});

test('15. shell.openExternal is never used', () => {
  for (const file of [
    'src/main/main.ts',
    'src/main/session-policy.ts',
    'src/main/menu.ts',
    'src/preload/preload.ts',
  ]) {
    assert.doesNotMatch(source(file), /openExternal/, file);
  }
});

test('16. Electron is a current major version (>= 45)', () => {
  const pkg = JSON.parse(source('node_modules/electron/package.json')) as { version: string };
  assert.ok(Number(pkg.version.split('.')[0]) >= 45, pkg.version);
});

test('17. every IPC handler goes through the validating router with a sender check', () => {
  const main = source('src/main/main.ts');
  const handles = [...main.matchAll(/ipcMain\.(handle|on|once|handleOnce)\(/g)];
  assert.equal(handles.length, 1, 'one registration loop');
  assert.match(
    main,
    /ipcMain\.handle\(channel, \(event, payload: unknown\) => bridge\.invoke\(senderOf\(event\), channel, payload\)/,
  );
  assert.match(main, /for \(const channel of Object\.keys\(NAV_CONTRACT\)\)/);
});

test('19. fuses: run-as-node, NODE_OPTIONS and --inspect are off; the app loads only from its asar', () => {
  const yml = source('electron-builder.yml');
  for (const line of [
    'runAsNode: false',
    'enableNodeOptionsEnvironmentVariable: false',
    'enableNodeCliInspectArguments: false',
    'onlyLoadAppFromAsar: true',
    'enableEmbeddedAsarIntegrityValidation: true',
    'grantFileProtocolExtraPrivileges: false',
  ]) {
    assert.ok(yml.includes(line), line);
  }
});

test('20. the preload exposes exactly one object, window.navws, built from the typed NavApi', () => {
  const preload = source('src/preload/preload.ts');
  const exposures = [
    ...preload.matchAll(/contextBridge\.(exposeInMainWorld|exposeInIsolatedWorld)\(([^,]+),/g),
  ];
  assert.equal(exposures.length, 1);
  assert.equal(exposures[0]![2], "'navws'");
  assert.match(preload, /exposeInMainWorld\('navws', createElectronNavApi\(ipc\)\)/);
  // The raw ipcRenderer never crosses the bridge.
  assert.doesNotMatch(preload, /exposeInMainWorld\([^)]*ipcRenderer/);
});

test('no eval: nothing in main, preload or the engine process evaluates strings as code', () => {
  const files = [
    'src/main/main.ts',
    'src/main/session-policy.ts',
    'src/main/nav-bridge.ts',
    'src/main/ipc/router.ts',
    'src/preload/preload.ts',
    'src/preload/electron-nav-api.ts',
    'src/engine/process/engine-main.ts',
    'src/engine/process/engine-host.ts',
  ];
  for (const file of files) assert.doesNotMatch(source(file), /\beval\(|new Function\(/, file);
  assert.match(source('src/main/main.ts'), /app\.enableSandbox\(\)/);
});

test('the OR monitor goes to the largest non-primary display, or nowhere', () => {
  const primary = {
    id: 1,
    bounds: { x: 0, y: 0, width: 1920, height: 1080 },
    workArea: { x: 0, y: 0, width: 1920, height: 1040 },
  };
  const small = {
    id: 2,
    bounds: { x: 1920, y: 0, width: 1280, height: 720 },
    workArea: { x: 1920, y: 0, width: 1280, height: 720 },
  };
  const big = {
    id: 3,
    bounds: { x: 3200, y: 0, width: 3840, height: 2160 },
    workArea: { x: 3200, y: 0, width: 3840, height: 2160 },
  };
  assert.equal(pickOrMonitorDisplay([primary], 1), null);
  assert.equal(pickOrMonitorDisplay([primary, small, big], 1)?.id, 3);
  const options = orMonitorWindowOptions({ preloadPath: '/p/preload.cjs', bounds: big.bounds });
  assert.deepEqual([options.x, options.y, options.width, options.height], [3200, 0, 3840, 2160]);
  assert.equal(options.fullscreen, true);
});

test('the sandboxed preload bundles to one CommonJS file that requires nothing but electron', async (t) => {
  const esbuild = await import('esbuild');
  const out = mkdtempSync(path.join(tmpdir(), 'navws-preload-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const outfile = path.join(out, 'preload.cjs');
  // Same options as scripts/build.mjs.
  await esbuild.build({
    entryPoints: [path.join(root, 'src', 'preload', 'preload.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['electron'],
    logLevel: 'silent',
  });
  const code = readFileSync(outfile, 'utf8');
  const required = new Set([...code.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]));
  assert.deepEqual([...required], ['electron']);
  assert.doesNotMatch(code, /\beval\(/);

  // Run the bundle as the sandbox would, in a context where code generation from strings is refused
  // (what the CSP does), with `electron` answering like main: the exposed API must work.
  const exposed = new Map<string, unknown>();
  const invoked: [string, unknown][] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => exposed.set(key, value) },
    ipcRenderer: {
      invoke: async (channel: string, payload: unknown) => {
        invoked.push([channel, payload]);
        return { ok: true, value: [] }; // an empty annotations.list answer
      },
      on: () => undefined,
    },
  };
  const sandbox = vm.createContext(
    { console, TextDecoder, TextEncoder, setTimeout, clearTimeout, queueMicrotask },
    { codeGeneration: { strings: false, wasm: false } },
  );
  const run = vm.runInContext(`(function (require, module, exports) {${code}\n})`, sandbox) as (
    r: (id: string) => unknown,
    m: { exports: unknown },
    e: unknown,
  ) => void;
  const module = { exports: {} };
  run((id) => (id === 'electron' ? electron : assert.fail(`preload required ${id}`)), module, module.exports);
  assert.deepEqual([...exposed.keys()], ['navws']);
  const api = exposed.get('navws') as {
    host: string;
    call(m: string, p: unknown): Promise<unknown>;
  };
  assert.equal(api.host, 'electron');
  // Values from the sandbox's realm: compare their JSON.
  assert.equal(JSON.stringify(await api.call('annotations.list', { caseId: 'case-1' })), '[]');
  await assert.rejects(api.call('cases.create', { title: 7 }), /title/);
  assert.equal(
    JSON.stringify(invoked),
    JSON.stringify([['navws:call:annotations.list', { caseId: 'case-1' }]]),
  );
  assert.throws(() => vm.runInContext('eval("1")', sandbox), /Code generation from strings disallowed/);
});

test('zod never generates code in main or the preload', () => {
  for (const file of ['src/main/main.ts', 'src/preload/preload.ts']) {
    assert.match(source(file), /z\.config\(\{ jitless: true \}\)/, file);
  }
});
