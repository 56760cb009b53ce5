/**
 * Which files the UI may make the engine read or write (docs/security.md, "Paths from the UI"). The
 * renderer never names an arbitrary path:
 * - Sources: a `file` source must lie under an allowed root (the samples folder, the cases folder, the
 *   folders in NAVWS_SOURCE_ROOTS or given to the host) or be exactly a file or folder the user picked in
 *   the desktop app's open dialog (main tells the engine through a host-only call). Symbolic links are
 *   resolved first, so a link inside a root cannot lead out of it.
 * - Exports: a bare file name, written to the case's exports folder, or a grant: the desktop app's main
 *   process shows the save dialog and registers the chosen path with the engine, and the renderer gets an
 *   opaque, single-use token for it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { NavApiError } from '../../shared/api/nav-api.js';
import type { MeshFormat } from '../../shared/api/schemas.js';

/** Environment variable: extra folders (separated by the platform's path delimiter) sources may come from. */
export const SOURCE_ROOTS_ENV = 'NAVWS_SOURCE_ROOTS';
/** How long a save-dialog grant stays usable. */
export const EXPORT_GRANT_TTL_MS = 10 * 60_000;

export interface PathPolicyOptions {
  samplesRoot: string;
  casesRoot: string;
  /** Site-configured source folders (NAVWS_SOURCE_ROOTS, `--source-root`). */
  sourceRoots: readonly string[];
  now?: () => number;
}

/** The configured source roots in an environment: absolute paths only, anything else is an error. */
export function sourceRootsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env[SOURCE_ROOTS_ENV];
  if (!raw) return [];
  return raw
    .split(path.delimiter)
    .filter((p) => p.trim() !== '')
    .map((p) => {
      if (!path.isAbsolute(p)) throw new Error(`${SOURCE_ROOTS_ENV}: "${p}" is not an absolute path`);
      return path.resolve(p);
    });
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$/;

/**
 * A file name for the case's exports folder: letters, digits, '.', '_', '-', spaces; no folders, no
 * '..'. Without an extension the format's is added; another extension than the format's is refused.
 */
export function exportFileName(name: string, format: MeshFormat): string {
  const trimmed = name.trim();
  if (path.isAbsolute(trimmed) || /[\\/]/.test(trimmed))
    throw new NavApiError(
      'bad-request',
      `export file name "${name}": a file name only, no folders; it is written to the case's exports folder (choose another folder with Export in the desktop app)`,
    );
  if (trimmed.includes('..') || !FILE_NAME.test(trimmed))
    throw new NavApiError(
      'bad-request',
      `export file name "${name}": use 1-128 letters, digits, '.', '_', '-' or spaces, starting with a letter or digit, without '..'`,
    );
  const ext = path.extname(trimmed).slice(1).toLowerCase();
  if (ext === '') return `${trimmed}.${format}`;
  if (ext !== format)
    throw new NavApiError(
      'bad-request',
      `export file name "${name}" ends in .${ext}, but the format is ${format.toUpperCase()} (.${format})`,
    );
  return trimmed;
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

export class PathPolicy {
  private readonly picked = new Set<string>();
  private readonly grants = new Map<string, { path: string; format: MeshFormat; expires: number }>();
  private readonly now: () => number;

  constructor(private readonly options: PathPolicyOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The folders sources may come from, in the order they are described to the user. */
  get sourceRoots(): string[] {
    return [this.options.samplesRoot, this.options.casesRoot, ...this.options.sourceRoots];
  }

  /** The site-configured roots alone (listed as sources). */
  get configuredRoots(): readonly string[] {
    return this.options.sourceRoots;
  }

  /** Host-only: the user picked this file or folder in an open dialog; it may be opened as a source. */
  allowPicked(p: string): string {
    if (!path.isAbsolute(p)) throw new NavApiError('bad-request', `picked source "${p}" is not absolute`);
    const real = realOrNull(p);
    if (!real) throw new NavApiError('not-found', `${p}: no such file or folder`);
    this.picked.add(real);
    return real;
  }

  /** The real path of a `file` source the UI asked for, or an error saying why it may not be opened. */
  checkSource(p: string): string {
    if (!path.isAbsolute(p)) throw new NavApiError('bad-request', `source path "${p}" must be absolute`);
    const real = realOrNull(p);
    if (!real) throw new NavApiError('not-found', `${p}: no such file or folder`);
    if (this.picked.has(real)) return real;
    for (const root of this.sourceRoots) {
      const realRoot = realOrNull(root);
      if (realRoot && inside(realRoot, real)) return real;
    }
    throw new NavApiError(
      'bad-request',
      `${p}: not in a folder sources may come from (${this.sourceRoots.join(', ')}); open it with File > Open in the desktop app, or add its folder to ${SOURCE_ROOTS_ENV}`,
    );
  }

  /** Host-only: a path the user chose in a save dialog becomes a single-use grant for one export. */
  grantExport(outputPath: string, format: MeshFormat): { grant: string; fileName: string } {
    if (!path.isAbsolute(outputPath))
      throw new NavApiError('bad-request', `export destination "${outputPath}" is not absolute`);
    const ext = path.extname(outputPath).slice(1).toLowerCase();
    if (ext !== format)
      throw new NavApiError(
        'bad-request',
        `export destination ${outputPath} does not end in .${format} (the format chosen)`,
      );
    const dir = path.dirname(outputPath);
    if (!existsSync(dir)) throw new NavApiError('not-found', `export folder ${dir} does not exist`);
    this.expire();
    const grant = `grant-${randomBytes(16).toString('hex')}`;
    this.grants.set(grant, {
      path: path.resolve(outputPath),
      format,
      expires: this.now() + EXPORT_GRANT_TTL_MS,
    });
    return { grant, fileName: path.basename(outputPath) };
  }

  /** The path behind a grant, checked against the export's format; `consume` uses it up. */
  exportGrant(grant: string, format: MeshFormat, consume: boolean): string {
    this.expire();
    const entry = this.grants.get(grant);
    if (!entry)
      throw new NavApiError(
        'bad-request',
        `export destination grant ${grant.slice(0, 24)}: unknown, already used or expired; choose the destination again`,
      );
    if (entry.format !== format)
      throw new NavApiError(
        'bad-request',
        `the destination chosen (${path.basename(entry.path)}) is for ${entry.format.toUpperCase()}, not ${format.toUpperCase()}; choose the destination again`,
      );
    if (consume) this.grants.delete(grant);
    return entry.path;
  }

  private expire(): void {
    const t = this.now();
    for (const [key, entry] of this.grants) if (entry.expires <= t) this.grants.delete(key);
  }
}
