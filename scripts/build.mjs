// One build for everything runnable: the Node side (CLI, engine, workers, Electron main) through tsc,
// the sandboxed preload and the renderer bundle through esbuild.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const require = createRequire(import.meta.url);

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
  cwd: root,
});

const cli = path.join(dist, 'cli', 'navws.js');
if (existsSync(cli)) chmodSync(cli, 0o755);

// The preload runs in Electron's sandbox, which only loads a single CommonJS file.
const preloadEntry = path.join(root, 'src', 'preload', 'preload.ts');
if (existsSync(preloadEntry)) {
  await esbuild.build({
    entryPoints: [preloadEntry],
    outfile: path.join(dist, 'preload', 'preload.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['electron'],
    sourcemap: true,
    logLevel: 'warning',
  });
}

const rendererEntry = path.join(root, 'src', 'renderer', 'index.tsx');
if (existsSync(rendererEntry)) {
  await esbuild.build({
    entryPoints: [rendererEntry],
    outdir: path.join(dist, 'renderer'),
    entryNames: 'app',
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'chrome120',
    minify: true,
    sourcemap: true,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'styles.css']) {
    const src = path.join(root, 'src', 'renderer', file);
    if (existsSync(src)) cpSync(src, path.join(dist, 'renderer', file));
  }
}
console.log(`build: ok (${path.relative(root, dist)}/)`);
