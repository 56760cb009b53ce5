#!/usr/bin/env node
/**
 * navws: the command-line face of the workstation engine. Exit code 0 on success; on failure one line
 * "navws <cmd>: <reason>" on stderr and a non-zero code (2 for usage errors, 1 otherwise).
 */
import type { CliCommand } from './command.js';
import { UsageError } from './command.js';

const commands: Record<string, () => Promise<{ command: CliCommand }>> = {
  synth: () => import('./commands/synth.js'),
  eval: () => import('./commands/eval.js'),
  'eval-depth': () => import('./commands/eval-depth.js'),
  reconstruct: () => import('./commands/reconstruct.js'),
  bench: () => import('./commands/bench.js'),
  'igtl-replay': () => import('./commands/igtl-replay.js'),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const lines = [
      'usage: navws <command> [options]   (navws <command> --help for details)',
      '',
      'commands:',
    ];
    for (const [key, load] of Object.entries(commands))
      lines.push(`  ${key.padEnd(12)} ${(await load()).command.summary}`);
    console.log(lines.join('\n'));
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) throw new UsageError(`unknown command '${name}' (try navws --help)`);
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const cmd = process.argv[2] ?? '';
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`navws${cmd ? ' ' + cmd : ''}: ${message.split('\n')[0]}\n`);
    if (process.env.NAVWS_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
