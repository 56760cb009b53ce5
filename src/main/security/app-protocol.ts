/**
 * The renderer is loaded only from the bundled dist/renderer folder through a privileged custom scheme
 * (navws://app/...), never from file:// (whose pages can read any local file) and never from the network.
 * This module decides which file a request maps to; the Electron glue in main only reads and serves it.
 */
import path from 'node:path';

export const APP_SCHEME = 'navws';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** Privileges for protocol.registerSchemesAsPrivileged: a standard, secure origin, no CORS bypass. */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  corsEnabled: false,
  bypassCSP: false,
  allowServiceWorkers: false,
  stream: false,
  codeCache: true,
} as const;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export type AssetResolution =
  | { ok: true; filePath: string; contentType: string }
  | { ok: false; status: 400 | 403 | 404; reason: string };

/** True for URLs of the bundled app (the only content any window may show). */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

/** Maps navws://app/<path> to a file inside `rootDir`; anything outside it, or of an unknown type, is refused. */
export function resolveAppAsset(requestUrl: string, rootDir: string): AssetResolution {
  if (!isAppUrl(requestUrl)) return { ok: false, status: 403, reason: `not an app URL: ${requestUrl}` };
  const { pathname } = new URL(requestUrl);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { ok: false, status: 400, reason: 'bad path' };
  const relative = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const root = path.resolve(rootDir);
  const filePath = path.resolve(root, relative);
  if (filePath !== root && !filePath.startsWith(root + path.sep)) {
    return { ok: false, status: 403, reason: 'path escapes the app folder' };
  }
  const contentType = CONTENT_TYPES[path.extname(filePath).toLowerCase()];
  if (!contentType)
    return { ok: false, status: 404, reason: `unsupported file type: ${path.extname(filePath)}` };
  return { ok: true, filePath, contentType };
}
