/**
 * Finds a working ffmpeg binary. Order (docs/capture.md): ffmpeg-static's binary when that optional
 * package is installed, else $FFMPEG_PATH, else `ffmpeg` on PATH. Each candidate must answer
 * `-version`; when none does, the error names all three and why each failed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export type FfmpegOrigin = 'ffmpeg-static' | 'FFMPEG_PATH' | 'PATH';

export interface FfmpegBinary {
  /** Executable to spawn (absolute path, or `ffmpeg` resolved through PATH). */
  path: string;
  origin: FfmpegOrigin;
  /** First line of `ffmpeg -version`, e.g. "ffmpeg version 5.1.9-0+deb12u1 ...". */
  versionLine: string;
  /** Major version number parsed from the version line, or null for git builds without one. */
  major: number | null;
}

export interface ResolveOptions {
  /** Environment to read FFMPEG_PATH and PATH from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Overrides the ffmpeg-static lookup: a path, or null for "package not installed". */
  staticPath?: string | null;
}

export class FfmpegNotFoundError extends Error {
  constructor(readonly attempts: { origin: FfmpegOrigin; problem: string }[]) {
    super(
      'No working ffmpeg found. Tried, in order: ' +
        attempts.map((a) => `${a.origin}: ${a.problem}`).join('; ') +
        '. Install ffmpeg (e.g. `apt-get install ffmpeg`), or set FFMPEG_PATH to an ffmpeg executable.',
    );
    this.name = 'FfmpegNotFoundError';
  }
}

/** The path exported by ffmpeg-static, or null when the optional package is absent (its download fails offline). */
export async function ffmpegStaticPath(): Promise<string | null> {
  // A variable specifier keeps bundlers and tsc from requiring the optional package to exist.
  const specifier = 'ffmpeg-static';
  let mod: unknown;
  try {
    mod = await import(specifier);
  } catch {
    return null;
  }
  const value = (mod as { default?: unknown }).default ?? mod;
  if (typeof value !== 'string' || value.length === 0) return null;
  // Inside a packaged Electron app the binary is unpacked next to the asar archive.
  return value.replace(`app.asar${pathSep()}`, `app.asar.unpacked${pathSep()}`);
}

function pathSep(): string {
  return process.platform === 'win32' ? '\\' : '/';
}

function runVersion(executable: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      executable,
      ['-hide_banner', '-version'],
      { env, timeout: 15_000, windowsHide: true },
      (err, stdout) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          reject(
            new Error(
              code === 'ENOENT' ? 'not found' : typeof code === 'string' ? code : err.message.split('\n')[0]!,
            ),
          );
          return;
        }
        const line = stdout.split('\n')[0]?.trim() ?? '';
        if (!/version/i.test(line)) reject(new Error(`'-version' printed no version line`));
        else resolve(line);
      },
    );
  });
}

export function parseMajorVersion(versionLine: string): number | null {
  const m = /version\s+n?(\d+)\./.exec(versionLine);
  return m ? Number(m[1]) : null;
}

/** Resolves ffmpeg without caching (use `getFfmpeg()` in the product). */
export async function resolveFfmpeg(options: ResolveOptions = {}): Promise<FfmpegBinary> {
  const env = options.env ?? process.env;
  const attempts: { origin: FfmpegOrigin; problem: string }[] = [];
  const candidates: { origin: FfmpegOrigin; path: string | null; missing: string }[] = [
    {
      origin: 'ffmpeg-static',
      path: options.staticPath !== undefined ? options.staticPath : await ffmpegStaticPath(),
      missing: 'package not installed (its binary download needs the internet)',
    },
    { origin: 'FFMPEG_PATH', path: env.FFMPEG_PATH?.trim() || null, missing: 'environment variable not set' },
    { origin: 'PATH', path: 'ffmpeg', missing: '' },
  ];
  for (const c of candidates) {
    if (c.path === null) {
      attempts.push({ origin: c.origin, problem: c.missing });
      continue;
    }
    if (c.origin !== 'PATH' && !existsSync(c.path)) {
      attempts.push({ origin: c.origin, problem: `${c.path} does not exist` });
      continue;
    }
    try {
      const versionLine = await runVersion(c.path, env);
      return { path: c.path, origin: c.origin, versionLine, major: parseMajorVersion(versionLine) };
    } catch (err) {
      attempts.push({ origin: c.origin, problem: `${c.path} ${(err as Error).message}` });
    }
  }
  throw new FfmpegNotFoundError(attempts);
}

let cached: Promise<FfmpegBinary> | null = null;

/** The process-wide ffmpeg, resolved once; a failed resolution is retried on the next call. */
export function getFfmpeg(): Promise<FfmpegBinary> {
  if (!cached) {
    cached = resolveFfmpeg();
    cached.catch(() => {
      cached = null;
    });
  }
  return cached;
}
