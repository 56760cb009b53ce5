/** `navws bench <name>`: runs one of the benchmark scripts in bench/ (each prints figures against a baseline). */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliCommand, UsageError } from '../command.js';

// src/cli/commands and dist/cli/commands are both three levels below the project root.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const benchDir = path.join(root, 'bench');

function available(): string[] {
  if (!existsSync(benchDir)) return [];
  return readdirSync(benchDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

export const command: CliCommand = {
  name: 'bench',
  summary: 'run a benchmark (fusion, tracking, depth, capture, ui) against its baseline',
  usage: `usage: navws bench <name> [benchmark options]

Runs bench/<name>.ts, which measures NavWS and its named baseline in the same run and prints
figures and ratios. Also available as npm run bench:<name>. Benchmarks: ${available().join(', ') || '(none found)'}`,
  async run(argv) {
    const [name, ...rest] = argv;
    if (!name) throw new UsageError(`which benchmark? one of: ${available().join(', ')}`);
    if (!available().includes(name))
      throw new UsageError(`no benchmark '${name}' (have: ${available().join(', ')})`);
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(benchDir, `${name}.ts`), ...rest],
      {
        stdio: 'inherit',
        cwd: root,
      },
    );
    return result.status ?? 1;
  },
};
