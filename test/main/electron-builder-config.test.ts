/**
 * electron-builder.yml is checked everywhere with electron-builder's own loader and JSON-schema
 * validation (app-builder-lib), plus the project's packaging requirements (docs/packaging.md).
 * `electron-builder --dir` runs only where the Electron binary is installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decode } from 'fast-png';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
// app-builder-lib is electron-builder's engine; resolve it (and builder-util) from electron-builder itself.
const builderDir = path.dirname(require.resolve('electron-builder/package.json'));
const fromBuilder = createRequire(path.join(builderDir, 'package.json'));

interface BuilderConfigModule {
  getConfig(
    projectDir: string,
    configPath: string | null,
    configFromOptions: unknown,
  ): Promise<Record<string, unknown>>;
  validateConfiguration(config: unknown, debugLogger: unknown): Promise<void>;
}
const configModule = fromBuilder('app-builder-lib/out/util/config/config') as BuilderConfigModule;
const { DebugLogger } = fromBuilder('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
// The YAML parser electron-builder itself reads its configuration with.
const yaml = createRequire(fromBuilder.resolve('app-builder-lib/package.json'))('js-yaml') as {
  load(text: string): unknown;
};

interface FileSet {
  from: string;
  to: string;
  filter?: string[];
}
interface NavBuilderConfig {
  appId: string;
  productName: string;
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  extraResources: FileSet[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[]; icon: string };
  win: { target: string[] };
  mac: { target: string[] };
  directories: { output: string; buildResources: string };
}

async function loadConfig(): Promise<NavBuilderConfig> {
  return yaml.load(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as NavBuilderConfig;
}

test("electron-builder.yml passes electron-builder's own schema validation", async () => {
  const config = await loadConfig();
  await configModule.validateConfiguration(config, new DebugLogger(false));
});

test('the validator is live: an invalid configuration is refused', async () => {
  const config = await loadConfig();
  await assert.rejects(
    configModule.validateConfiguration({ ...config, asarUnpackk: [] }, new DebugLogger(false)),
    /configuration/i,
  );
  await assert.rejects(
    configModule.validateConfiguration(
      { ...config, linux: { ...config.linux, categry: 'Science' } },
      new DebugLogger(false),
    ),
    /Invalid configuration/,
  );
});

test('identity, targets and icons', async () => {
  const c = await loadConfig();
  assert.match(c.appId, /^[a-z]+(\.[a-z0-9-]+)+$/);
  assert.equal(c.productName, 'NavWS');
  assert.deepEqual(c.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(c.win.target, ['nsis']);
  assert.deepEqual(c.mac.target, ['dmg']);
  const icon = path.join(root, c.linux.icon);
  assert.ok(existsSync(icon), icon);
  const png = decode(readFileSync(icon));
  assert.deepEqual([png.width, png.height], [512, 512], 'electron-builder needs at least 512x512 for macOS');
  assert.ok(existsSync(path.join(root, 'build', 'icon.svg')), 'icon source');
});

test('files are limited to compiled code, the manifest and the native addon', async () => {
  const c = await loadConfig();
  for (const pattern of c.files) {
    assert.match(
      pattern,
      /^!?(dist\/|package\.json$|native\/build\/Release\/)/,
      `unexpected files pattern ${pattern}`,
    );
  }
  assert.ok(c.files.includes('dist/**/*'));
  assert.ok(c.files.includes('package.json'));
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string };
  assert.match(pkg.main, /^dist\/main\/main\.js$/, 'package.json main points at the compiled main process');
});

test('native code is unpacked from asar; models and samples ship as extra resources', async () => {
  const c = await loadConfig();
  assert.equal(c.asar, true);
  const unpack = c.asarUnpack.join(' ');
  for (const needle of [
    'native/build/Release/*.node',
    'better-sqlite3',
    'onnxruntime-node/bin',
    'ffmpeg-static',
    '@ffmpeg-installer/*/ffmpeg',
  ]) {
    assert.ok(unpack.includes(needle), `asarUnpack covers ${needle}`);
  }
  const resources = new Map(c.extraResources.map((r) => [r.from, r.to]));
  assert.equal(resources.get('models'), 'models');
  assert.equal(resources.get('samples'), 'samples');
  assert.equal(resources.get('build/icon.png'), 'icon.png');
  // Each unpack pattern names files that exist in this checkout where the package is installed/built.
  const exists = (rel: string): boolean => existsSync(path.join(root, rel));
  if (exists('node_modules/onnxruntime-node/bin'))
    assert.ok(readdirSync(path.join(root, 'node_modules/onnxruntime-node/bin')).length > 0);
  if (exists('node_modules/better-sqlite3/build/Release'))
    assert.ok(exists('node_modules/better-sqlite3/build/Release/better_sqlite3.node'));
});

test('security fuses are set', async () => {
  const c = await loadConfig();
  assert.deepEqual(c.electronFuses, {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
  });
});

test('electron-builder --dir produces an unpacked app (where the Electron binary is installed)', (t) => {
  const dist = path.join(root, 'node_modules', 'electron', 'dist');
  if (!existsSync(dist)) {
    t.skip(
      'Electron binary not installed (node_modules/electron/dist missing; `npx install-electron` needs network): electron-builder --dir skipped',
    );
    return;
  }
  if (!existsSync(path.join(root, 'dist', 'main', 'main.js'))) {
    t.skip('dist/ not built (npm run build): electron-builder --dir skipped');
    return;
  }
  const out = mkdtempSync(path.join(tmpdir(), 'navws-eb-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const cli = path.join(builderDir, 'cli.js');
  const r = spawnSync(
    process.execPath,
    [cli, '--dir', '--publish', 'never', `-c.electronDist=${dist}`, `-c.directories.output=${out}`],
    { cwd: root, encoding: 'utf8', timeout: 600_000 },
  );
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const unpacked = readdirSync(out).find((d) => d.endsWith('-unpacked'));
  assert.ok(unpacked, `no *-unpacked folder in ${readdirSync(out).join(', ')}`);
  const resources = path.join(out, unpacked, 'resources');
  assert.ok(existsSync(path.join(resources, 'app.asar')));
  assert.ok(
    existsSync(path.join(resources, 'app.asar.unpacked', 'native', 'build', 'Release', 'navws_native.node')),
  );
  assert.ok(existsSync(path.join(resources, 'models')));
});
