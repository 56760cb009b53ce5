/**
 * Access control of the browser host: a random token per start, given in the printed URL; the first
 * page load trades it for a same-site cookie so the page's own requests (scripts, the WebSocket) carry
 * it without putting it in more URLs. Comparisons are constant-time. The Host header must name the
 * bound address, which stops DNS-rebinding pages from reaching the server through another name.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TOKEN_PARAM } from '../shared/api/socket-protocol.js';

export const TOKEN_COOKIE = 'navws_token';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time string comparison (hashing first makes the lengths equal). */
export function tokensEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

export function cookieToken(req: IncomingMessage): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return rest.join('=');
  }
  return null;
}

export function queryToken(url: URL): string | null {
  return url.searchParams.get(TOKEN_PARAM);
}

/** The token a request presents, from the query string, the cookie, or an Authorization: Bearer header. */
export function presentedToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  return queryToken(url) ?? cookieToken(req);
}

export function hostAllowed(req: IncomingMessage, allowedHosts: ReadonlySet<string>): boolean {
  const host = req.headers.host;
  return host !== undefined && allowedHosts.has(host.toLowerCase());
}
