// Runs the test suites with Node's own test runner; TypeScript is loaded through tsx, and worker
// threads inherit that loader through execArgv. Usage: npm test [-- <file or folder> ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const suites = process.argv.slice(2);
const targets = suites.length > 0 ? suites : ['test', 'e2e'];

function collect(target) {
  const abs = path.resolve(root, target);
  if (statSync(abs).isFile()) return [abs];
  return readdirSync(abs, { withFileTypes: true }).flatMap((entry) => {
    const child = path.join(abs, entry.name);
    if (entry.isDirectory()) return collect(child);
    return entry.name.endsWith('.test.ts') ? [child] : [];
  });
}

// End-to-end tests drive the built renderer and CLI, so build first (CI builds once and sets NAVWS_SKIP_BUILD).
const needsBuild = targets.some((t) => path.resolve(root, t).startsWith(path.join(root, 'e2e')));
if (needsBuild && !process.env.NAVWS_SKIP_BUILD) {
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], {
    stdio: 'inherit',
    cwd: root,
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const files = targets.flatMap(collect).sort();
if (files.length === 0) {
  console.error('run-tests: no test files found in', targets.join(', '));
  process.exit(1);
}
// Browser end-to-end tests render WebGL in software (SwiftShader); they run after the other suites, one
// file at a time, so CPU-heavy integration tests (network inference, tracking) do not starve the renderer.
const e2eDir = path.join(root, 'e2e') + path.sep;
const groups = [
  { files: files.filter((f) => !f.startsWith(e2eDir)), concurrency: 2 },
  { files: files.filter((f) => f.startsWith(e2eDir)), concurrency: 1 },
].filter((g) => g.files.length > 0);
let status = 0;
for (const group of groups) {
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      `--test-concurrency=${group.concurrency}`,
      ...group.files,
    ],
    { stdio: 'inherit', cwd: root, env: { ...process.env, NAVWS_ROOT: root } },
  );
  if (result.status !== 0) status = result.status ?? 1;
}
process.exit(status);
