/**
 * Finds a working ffmpeg binary and what it can do. Order (docs/capture.md):
 *   1. $FFMPEG_PATH           the user's explicit choice
 *   2. ffmpeg-static          its binary is a download at install time (fails offline; optional)
 *   3. @ffmpeg-installer/*    a binary inside the npm tarball itself, so it installs wherever npm does
 *   4. `ffmpeg` on PATH       the system's ffmpeg
 * Each candidate must answer `-version`; when none does, the error names all four and why each failed.
 * Builds differ (the registry's is ffmpeg 4.1 without libsrt; Debian's is 5.1), so the chosen binary's
 * options, protocols and encoders are probed once and the product adapts its arguments or names the
 * missing feature instead of letting ffmpeg fail with "Unrecognized option".
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export type FfmpegOrigin = 'FFMPEG_PATH' | 'ffmpeg-static' | '@ffmpeg-installer' | 'PATH';

export const FFMPEG_ORIGINS: readonly FfmpegOrigin[] = [
  'FFMPEG_PATH',
  'ffmpeg-static',
  '@ffmpeg-installer',
  'PATH',
];

export interface FfmpegCapabilities {
  /** `-fps_mode` exists (ffmpeg >= 5.1); older builds spell it `-vsync`. */
  fpsMode: boolean;
  /** Input protocols (file, udp, rtp, tcp, srt, rtsp's transport, ...). */
  protocols: ReadonlySet<string>;
  /** Encoder names (libx264, ffv1, mjpeg, rawvideo, ...). */
  encoders: ReadonlySet<string>;
}

export interface FfmpegBinary {
  /** Executable to spawn (absolute path, or `ffmpeg` resolved through PATH). */
  path: string;
  origin: FfmpegOrigin;
  /** First line of `ffmpeg -version`, e.g. "ffmpeg version 5.1.9-0+deb12u1 ...". */
  versionLine: string;
  /** Major version number parsed from the version line, or null for git builds without one. */
  major: number | null;
  capabilities: FfmpegCapabilities;
}

export interface ResolveOptions {
  /** Environment to read FFMPEG_PATH and PATH from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Overrides the ffmpeg-static lookup: a path, or null for "package not installed". */
  staticPath?: string | null;
  /** Overrides the @ffmpeg-installer lookup: a path, or null for "package not installed". */
  installerPath?: string | null;
}

export interface FfmpegAttempt {
  origin: FfmpegOrigin;
  problem: string;
}

export class FfmpegNotFoundError extends Error {
  constructor(readonly attempts: FfmpegAttempt[]) {
    super(
      'No working ffmpeg found. Tried, in order: ' +
        attempts.map((a) => `${a.origin}: ${a.problem}`).join('; ') +
        '. Reinstall with `npm ci` (it installs @ffmpeg-installer from the npm registry), install ffmpeg ' +
        '(e.g. `apt-get install ffmpeg`), or set FFMPEG_PATH to an ffmpeg executable.',
    );
    this.name = 'FfmpegNotFoundError';
  }
}

/** A feature the product needs is missing from the resolved ffmpeg build. */
export class FfmpegFeatureError extends Error {
  constructor(
    readonly binary: FfmpegBinary,
    readonly feature: string,
    purpose: string,
  ) {
    super(
      `${purpose} needs ffmpeg's ${feature}, which this ffmpeg lacks (${describeFfmpeg(binary)}). ` +
        'Set FFMPEG_PATH to a build that has it (Debian/Ubuntu: `apt-get install ffmpeg`).',
    );
    this.name = 'FfmpegFeatureError';
  }
}

export function describeFfmpeg(binary: FfmpegBinary): string {
  const version = /version\s+(\S+)/.exec(binary.versionLine)?.[1] ?? 'unknown version';
  return `${binary.origin}: ${binary.path}, ${version}`;
}

/** What a piece of the product needs from ffmpeg: input protocols and encoders. */
export interface FfmpegNeeds {
  protocols?: readonly string[];
  encoders?: readonly string[];
}

/** Throws FfmpegFeatureError naming the first need the binary cannot meet. */
export function requireFfmpeg(binary: FfmpegBinary, needs: FfmpegNeeds, purpose: string): void {
  for (const p of needs.protocols ?? []) {
    if (!binary.capabilities.protocols.has(p))
      throw new FfmpegFeatureError(binary, `'${p}' protocol`, purpose);
  }
  for (const e of needs.encoders ?? []) {
    if (!binary.capabilities.encoders.has(e)) throw new FfmpegFeatureError(binary, `'${e}' encoder`, purpose);
  }
}

/**
 * Imports an optional package that exports an ffmpeg path (directly, or as `.path`), mapping a path
 * inside a packaged app's asar archive to the unpacked copy next to it (executables cannot run from
 * inside the archive). Null with the reason when the package is absent or unusable.
 */
async function optionalPackagePath(specifier: string): Promise<{ path: string | null; problem: string }> {
  let mod: unknown;
  try {
    // A variable specifier keeps bundlers and tsc from requiring the optional package to exist.
    mod = await import(specifier);
  } catch (err) {
    const notInstalled = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
    return {
      path: null,
      problem: notInstalled
        ? 'package not installed'
        : `package unusable (${String((err as Error).message ?? err)})`,
    };
  }
  const value = (mod as { default?: unknown }).default ?? mod;
  const p = typeof value === 'string' ? value : (value as { path?: unknown } | null)?.path;
  if (typeof p !== 'string' || p.length === 0)
    return { path: null, problem: 'package exports no binary path' };
  const sep = process.platform === 'win32' ? '\\' : '/';
  return { path: p.replace(`app.asar${sep}`, `app.asar.unpacked${sep}`), problem: '' };
}

/** The path exported by ffmpeg-static, or null when the optional package is absent (its download fails offline). */
export async function ffmpegStaticPath(): Promise<string | null> {
  return (await optionalPackagePath('ffmpeg-static')).path;
}

function run(executable: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      executable,
      args,
      { env, timeout: 15_000, windowsHide: true, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          reject(
            new Error(
              code === 'ENOENT'
                ? 'not found'
                : code === 'EACCES'
                  ? 'is not executable'
                  : typeof code === 'string'
                    ? code
                    : err.message.split('\n')[0]!,
            ),
          );
          return;
        }
        resolve(stdout);
      },
    );
  });
}

async function runVersion(executable: string, env: NodeJS.ProcessEnv): Promise<string> {
  const line = (await run(executable, ['-hide_banner', '-version'], env)).split('\n')[0]?.trim() ?? '';
  if (!/version/i.test(line)) throw new Error(`'-version' printed no version line`);
  return line;
}

export function parseMajorVersion(versionLine: string): number | null {
  const m = /version\s+n?(\d+)\./.exec(versionLine);
  return m ? Number(m[1]) : null;
}

/** Names listed under "Input:" of `ffmpeg -protocols`. */
export function parseProtocols(text: string): Set<string> {
  const out = new Set<string>();
  let input = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^Input:/.test(line)) input = true;
    else if (/^Output:/.test(line)) input = false;
    else if (input && /^[a-z0-9_]+$/.test(line)) out.add(line);
  }
  return out;
}

/** Encoder names of `ffmpeg -encoders` (rows like " V....D libx264   libx264 H.264 ..."). */
export function parseEncoders(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^ [VAS][F.][S.][X.][B.][D.] (\S+)/.exec(line);
    if (m && m[1] !== '=') out.add(m[1]!);
  }
  return out;
}

export async function probeCapabilities(
  executable: string,
  env: NodeJS.ProcessEnv,
): Promise<FfmpegCapabilities> {
  const [help, protocols, encoders] = await Promise.all([
    run(executable, ['-hide_banner', '-h', 'long'], env),
    run(executable, ['-hide_banner', '-protocols'], env),
    run(executable, ['-hide_banner', '-encoders'], env),
  ]);
  return {
    fpsMode: /^-fps_mode\b/m.test(help),
    protocols: parseProtocols(protocols),
    encoders: parseEncoders(encoders),
  };
}

/** Resolves ffmpeg without caching (use `getFfmpeg()` in the product). */
export async function resolveFfmpeg(options: ResolveOptions = {}): Promise<FfmpegBinary> {
  const env = options.env ?? process.env;
  const attempts: FfmpegAttempt[] = [];
  const fromPackage = async (
    override: string | null | undefined,
    specifier: string,
    why: string,
  ): Promise<{ path: string | null; problem: string }> => {
    if (override !== undefined) return { path: override, problem: `package not installed${why}` };
    const found = await optionalPackagePath(specifier);
    return {
      path: found.path,
      problem: found.problem + (found.problem === 'package not installed' ? why : ''),
    };
  };
  const fromEnv = env.FFMPEG_PATH?.trim() || null;
  const candidates: {
    origin: FfmpegOrigin;
    find: () => Promise<{ path: string | null; problem: string }>;
  }[] = [
    {
      origin: 'FFMPEG_PATH',
      find: () => Promise.resolve({ path: fromEnv, problem: 'environment variable not set' }),
    },
    {
      origin: 'ffmpeg-static',
      find: () =>
        fromPackage(options.staticPath, 'ffmpeg-static', ' (its binary download needs the internet)'),
    },
    {
      origin: '@ffmpeg-installer',
      find: () =>
        fromPackage(
          options.installerPath,
          '@ffmpeg-installer/ffmpeg',
          ` (no @ffmpeg-installer/${process.platform}-${process.arch})`,
        ),
    },
    { origin: 'PATH', find: () => Promise.resolve({ path: 'ffmpeg', problem: '' }) },
  ];
  for (const c of candidates) {
    const found = await c.find();
    if (found.path === null) {
      attempts.push({ origin: c.origin, problem: found.problem });
      continue;
    }
    if (c.origin !== 'PATH' && !existsSync(found.path)) {
      attempts.push({ origin: c.origin, problem: `${found.path} does not exist` });
      continue;
    }
    try {
      const versionLine = await runVersion(found.path, env);
      const capabilities = await probeCapabilities(found.path, env);
      return {
        path: found.path,
        origin: c.origin,
        versionLine,
        major: parseMajorVersion(versionLine),
        capabilities,
      };
    } catch (err) {
      attempts.push({ origin: c.origin, problem: `${found.path} ${(err as Error).message}` });
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
