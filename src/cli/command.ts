import { type ParseArgsConfig, parseArgs } from 'node:util';

/** One `navws` sub-command. Each lives in src/cli/commands/<name>.ts and is listed in src/cli/navws.ts. */
export interface CliCommand {
  name: string;
  /** One line for `navws --help`. */
  summary: string;
  /** Full usage text for `navws <name> --help`. */
  usage: string;
  /** Runs the command; returns the process exit code. Throw an Error for a one-line failure reason. */
  run(argv: string[]): Promise<number>;
}

/** A failure caused by the user's input (bad flag, missing file): printed as one line, exit code 2. */
export class UsageError extends Error {}

/** node:util parseArgs, with its complaints (unknown flag, missing value) reported as usage errors. */
export function parseCliArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
}
