/**
 * Spawning ffmpeg children that never outlive the app: every child is registered, killed (SIGTERM,
 * so a recording gets its trailer) when this process exits or receives SIGINT/SIGTERM/SIGHUP, and on
 * Linux additionally started through `setpriv --pdeathsig TERM`, so that even a SIGKILLed parent
 * takes its ffmpeg with it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { type FfmpegBinary, getFfmpeg } from './ffmpeg.js';

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type FfmpegLogLevel = 'fatal' | 'error' | 'warning' | 'info' | 'other';

export interface SpawnFfmpegOptions {
  /**
   * Called with each complete stderr line (ffmpeg's log and showinfo output), its `[level]` tag
   * removed. Pass `-loglevel level+info` in the arguments for levels to be known.
   */
  onStderrLine?: (line: string, level: FfmpegLogLevel) => void;
  /** How many trailing stderr lines to keep for error messages (default 40). */
  keepLines?: number;
  binary?: FfmpegBinary;
  /** Working directory for the child. */
  cwd?: string;
}

const live = new Set<ChildProcess>();
/** `-loglevel level+...` prefixes each message with its level, after the optional `[component @ 0x..] `. */
const LEVEL_TAG = /(^|\] )\[(trace|debug|verbose|info|warning|error|fatal|panic)\] /;
let hooksInstalled = false;
const SETPRIV = '/usr/bin/setpriv';

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => killAllFfmpeg('SIGTERM'));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      killAllFfmpeg('SIGTERM');
      // Only restore the default action (terminate) when nobody else handles this signal.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

/** Signals every live ffmpeg child; used on exit and by tests. */
export function killAllFfmpeg(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const child of live) {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

export function liveFfmpegCount(): number {
  return live.size;
}

export class FfmpegProcess {
  readonly exited: Promise<FfmpegExit>;
  private readonly tail: string[] = [];
  /** Lines ffmpeg logged at error level or worse (requires `-loglevel level+...`). */
  readonly errorLines: string[] = [];
  private exitState: FfmpegExit | null = null;
  private spawnError: Error | null = null;

  private constructor(
    readonly child: ChildProcess,
    readonly args: readonly string[],
    private readonly keepLines: number,
    onLine: SpawnFfmpegOptions['onStderrLine'],
  ) {
    let partial = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      partial += text;
      // ffmpeg ends progress lines with \r; treat both as line ends.
      const lines = partial.split(/\r\n|\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.pushLine(line, onLine);
    });
    const stderrDone = new Promise<void>((resolve) => {
      child.stderr!.on('close', () => {
        if (partial) this.pushLine(partial, onLine);
        partial = '';
        resolve();
      });
    });
    this.exited = new Promise<FfmpegExit>((resolve) => {
      child.on('error', (err) => {
        this.spawnError = err;
      });
      child.on('close', (code, signal) => {
        live.delete(child);
        this.exitState = { code, signal };
        void stderrDone.then(() => resolve({ code, signal }));
      });
    });
    // Writing 'q' to a child that already quit must not crash the app.
    child.stdin?.on('error', () => undefined);
  }

  static async spawn(args: readonly string[], options: SpawnFfmpegOptions = {}): Promise<FfmpegProcess> {
    const binary = options.binary ?? (await getFfmpeg());
    installExitHooks();
    const usePdeath = process.platform === 'linux' && existsSync(SETPRIV);
    const command = usePdeath ? SETPRIV : binary.path;
    const argv = usePdeath ? ['--pdeathsig', 'TERM', '--', binary.path, ...args] : [...args];
    const child = spawn(command, argv, {
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
      cwd: options.cwd,
    });
    live.add(child);
    return new FfmpegProcess(child, args, options.keepLines ?? 40, options.onStderrLine);
  }

  private pushLine(raw: string, onLine: SpawnFfmpegOptions['onStderrLine']): void {
    if (raw.length === 0) return;
    const m = LEVEL_TAG.exec(raw);
    const tag = m?.[2];
    const level: FfmpegLogLevel =
      tag === undefined
        ? 'other'
        : tag === 'fatal' || tag === 'panic'
          ? 'fatal'
          : tag === 'error' || tag === 'warning' || tag === 'info'
            ? tag
            : 'other';
    const line = m ? raw.slice(0, m.index) + (m[1] ?? '') + raw.slice(m.index + m[0].length) : raw;
    // Per-frame showinfo lines go to the parser only: they would push the telling lines out of the tail.
    if (!line.includes('Parsed_showinfo')) {
      this.tail.push(line);
      if (this.tail.length > this.keepLines) this.tail.shift();
    }
    if ((level === 'error' || level === 'fatal') && this.errorLines.length < 50) this.errorLines.push(line);
    onLine?.(line, level);
  }

  get stdout(): Readable {
    return this.child.stdout!;
  }

  get stdin(): Writable {
    return this.child.stdin!;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitState === null && this.spawnError === null;
  }

  /** The last stderr lines, newest last: the place where ffmpeg states why it failed. */
  stderrTail(lines = 6): string[] {
    return this.tail.slice(-lines);
  }

  /** The most telling recent stderr line (an error if one was logged), for one-line messages. */
  reason(): string {
    if (this.spawnError) return this.spawnError.message;
    if (this.errorLines.length > 0) return this.errorLines.at(-1)!.trim();
    const errorLike = [...this.tail]
      .reverse()
      .find((l) =>
        /error|invalid|no such|not found|denied|failed|unsupported|cannot|could not|space/i.test(l),
      );
    return (errorLike ?? this.tail.at(-1) ?? 'no output').trim();
  }

  describeExit(exit: FfmpegExit): string {
    if (this.spawnError) return `could not start ffmpeg (${this.spawnError.message})`;
    if (exit.signal) return `ffmpeg was killed by ${exit.signal}`;
    return `ffmpeg exited with code ${exit.code}`;
  }

  /**
   * Asks ffmpeg to finish (writes 'q', which flushes and closes its outputs), then escalates to
   * SIGTERM and SIGKILL if it does not exit in time.
   */
  async stop(graceMs = 3000): Promise<FfmpegExit> {
    if (this.exitState) return this.exitState;
    try {
      this.child.stdin?.end('q');
    } catch {
      // stdin already closed.
    }
    const timeout = (ms: number): Promise<null> => new Promise((r) => setTimeout(() => r(null), ms).unref());
    if ((await Promise.race([this.exited, timeout(graceMs)])) === null) {
      this.child.kill('SIGTERM');
      if ((await Promise.race([this.exited, timeout(graceMs)])) === null) this.child.kill('SIGKILL');
    }
    return this.exited;
  }

  /** Immediate termination (consumer gone; nothing to flush). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exitState === null) this.child.kill(signal);
  }
}
