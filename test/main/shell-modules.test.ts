import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { MenuItemConstructorOptions } from 'electron';
import { parseEngineArgs } from '../../src/engine/process/engine-main-args.js';
import {
  checkExportPath,
  exportMeshDialogOptions,
  openDatasetDialogOptions,
  openVideoDialogOptions,
} from '../../src/main/dialogs.js';
import { buildMenuTemplate, type MenuActions } from '../../src/main/menu.js';
import { resolveAppPaths, unpackedPath } from '../../src/main/resources.js';

function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flatten(i.submenu) : [])]);
}

function menu(platform: NodeJS.Platform, development: boolean) {
  const calls: string[] = [];
  const actions = new Proxy({} as MenuActions, { get: (_t, name) => () => calls.push(String(name)) });
  const items = flatten(buildMenuTemplate(actions, { platform, development, productName: 'NavWS' }));
  return { items, calls };
}

test('menu: every action reachable by keyboard or click, unique accelerators, devtools only in development', () => {
  for (const platform of ['linux', 'win32', 'darwin'] as const) {
    const prod = menu(platform, false);
    const accelerators = prod.items.map((i) => i.accelerator).filter(Boolean);
    assert.equal(new Set(accelerators).size, accelerators.length, `${platform}: duplicate accelerator`);
    assert.ok(
      !prod.items.some((i) => i.role === 'toggleDevTools' || i.role === 'reload'),
      `${platform}: devtools in production`,
    );
    for (const item of prod.items)
      assert.ok(item.label || item.role || item.type === 'separator', 'every item is named');
    for (const item of prod.items)
      if (item.click) item.click(undefined as never, undefined as never, undefined as never);
    assert.deepEqual(prod.calls.sort(), [
      'about',
      'exportMesh',
      'openDataset',
      'openVideo',
      'restartEngine',
      'toggleOrMonitor',
    ]);
    assert.ok(menu(platform, true).items.some((i) => i.role === 'toggleDevTools'));
    assert.ok(prod.items.some((i) => i.role === 'quit'));
  }
});

test('dialogs: export format follows the chosen extension; other paths are refused with a reason', () => {
  assert.deepEqual(checkExportPath('/cases/c1/liver.PLY'), {
    ok: true,
    outputPath: '/cases/c1/liver.PLY',
    format: 'ply',
  });
  assert.equal((checkExportPath('/x/a.stl') as { format: string }).format, 'stl');
  assert.match(
    (checkExportPath('/x/a.fbx') as { reason: string }).reason,
    /unknown mesh format '\.fbx'.*\.ply/,
  );
  assert.match((checkExportPath('relative.ply') as { reason: string }).reason, /absolute/);
  const save = exportMeshDialogOptions('/home/u/Documents', 'navws-case-1', 'obj');
  assert.equal(save.defaultPath, path.join('/home/u/Documents', 'navws-case-1.obj'));
  assert.deepEqual(save.filters?.[0]?.extensions, ['obj']);
  assert.deepEqual(openVideoDialogOptions().properties, ['openFile']);
  assert.deepEqual(openDatasetDialogOptions().properties, ['openDirectory']);
});

test('resources: development paths come from the project, packaged paths from resources/', () => {
  const dev = resolveAppPaths({
    isPackaged: false,
    appPath: '/src/navws',
    resourcesPath: '/usr/lib/electron/resources',
    env: {},
    homeDir: '/home/u',
  });
  assert.equal(dev.preloadPath, '/src/navws/dist/preload/preload.cjs');
  assert.equal(dev.engineEntry, '/src/navws/dist/engine/process/engine-main.js');
  assert.equal(dev.rendererDir, '/src/navws/dist/renderer');
  assert.equal(dev.modelsDir, '/src/navws/models');
  assert.equal(dev.casesRoot, '/home/u/.navws/cases');
  const app = resolveAppPaths({
    isPackaged: true,
    appPath: '/opt/NavWS/resources/app.asar',
    resourcesPath: '/opt/NavWS/resources',
    env: { NAVWS_CASES: '/data/cases' },
  });
  assert.equal(app.modelsDir, '/opt/NavWS/resources/models');
  assert.equal(app.samplesDir, '/opt/NavWS/resources/samples');
  assert.equal(app.iconPath, '/opt/NavWS/resources/icon.png');
  assert.equal(app.engineEntry, '/opt/NavWS/resources/app.asar/dist/engine/process/engine-main.js');
  assert.equal(app.casesRoot, '/data/cases');
  assert.equal(
    resolveAppPaths({
      isPackaged: true,
      appPath: '/a/app.asar',
      resourcesPath: '/a',
      env: { NAVWS_MODELS_DIR: '/m' },
    }).modelsDir,
    '/m',
  );
  assert.equal(
    unpackedPath('/opt/NavWS/resources/app.asar/node_modules/ffmpeg-static/ffmpeg'),
    '/opt/NavWS/resources/app.asar.unpacked/node_modules/ffmpeg-static/ffmpeg',
  );
  assert.equal(
    unpackedPath('C:\\NavWS\\resources\\app.asar\\native\\x.node'),
    'C:\\NavWS\\resources\\app.asar.unpacked\\native\\x.node',
  );
  assert.equal(unpackedPath('/home/u/app.asarx/y'), '/home/u/app.asarx/y');
});

test('engine process arguments are required and checked', () => {
  assert.deepEqual(parseEngineArgs(['--cases', 'c', '--samples', 's']), {
    casesRoot: path.resolve('c'),
    samplesRoot: path.resolve('s'),
    modelsDir: null,
    version: '0.0.0',
  });
  assert.equal(
    parseEngineArgs(['/app/dist/engine/process/engine-main.js', '--cases', 'c', '--samples', 's']).casesRoot,
    path.resolve('c'),
  );
  assert.throws(() => parseEngineArgs(['--samples', 's']), /--cases DIR is required/);
  assert.throws(() => parseEngineArgs(['--cases', 'c', '--samples', 's', '--bogus']), /Unknown option/);
});
