/**
 * The browser host: a local HTTP + WebSocket server that serves the renderer bundle and bridges NavApi
 * over one socket per page (JSON requests and events validated with the shared schemas; frames and
 * mesh blocks as binary messages). Bound to 127.0.0.1 by default and protected by a per-start token.
 *
 * Drop policy towards a slow page: at most LIVE_FRAME_CREDITS live frames are unacknowledged at a time
 * (the page acknowledges each one it takes off the socket); frames produced meanwhile are skipped, so
 * the page always gets a recent frame and the queue between engine and page stays short. A byte limit
 * on the send buffer backs that up. Events and mesh blocks are never dropped (the mesh is incremental).
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { encodeFrame, encodeMeshBlocks, type FrameBundle } from '../shared/api/binary.js';
import { type NavApi, NavApiError, type NavApiErrorCode, parseEvent } from '../shared/api/nav-api.js';
import {
  describeZodError,
  isBinaryMethod,
  isMethod,
  type Method,
  type Params,
} from '../shared/api/schemas.js';
import {
  LIVE_FRAME_CREDITS,
  MAX_CLIENT_MESSAGE_BYTES,
  SOCKET_PATH,
  type ServerMessage,
  clientMessageSchema,
} from '../shared/api/socket-protocol.js';
import { securityHeaders } from '../main/security/csp.js';
import { TOKEN_COOKIE, hostAllowed, newToken, presentedToken, queryToken, tokensEqual } from './auth.js';

export interface BrowserHostOptions {
  api: NavApi;
  /** Folder with index.html, app.js and styles.css (dist/renderer). */
  staticRoot: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); default: random per start. */
  token?: string;
  log?: (line: string) => void;
}

export interface BrowserHost {
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};
/**
 * Bytes of queued video frames beyond which a new live frame is skipped for that page: the credits' worth
 * of 384x288 frames (RGB + float depth, ~0.8 MB each) with room to spare, so it only bites for larger ones.
 */
const FRAME_BACKLOG_BYTES = 2_500_000;

export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const bindHost = options.host ?? '127.0.0.1';
  const token = options.token ?? newToken();
  const log = options.log ?? (() => undefined);
  const staticRoot = path.resolve(options.staticRoot);
  if (!existsSync(path.join(staticRoot, 'index.html'))) {
    throw new Error(`${staticRoot}: no index.html (run \`npm run build\` first)`);
  }
  let allowedHosts = new Set<string>();

  const authorised = (req: IncomingMessage, url: URL): boolean => {
    const presented = presentedToken(req, url);
    return presented !== null && tokensEqual(presented, token);
  };

  const server: Server = createServer((req, res) => {
    void serveHttp(req, res).catch((err: Error) => {
      log(`http error: ${err.message}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('internal error');
    });
  });

  const serveHttp = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!hostAllowed(req, allowedHosts)) {
      res.writeHead(421, { 'Content-Type': 'text/plain' }).end('misdirected request');
      return;
    }
    if (!authorised(req, url)) {
      res.writeHead(401, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
      res.end('NavWS: open the URL printed by `npm run serve` (it carries the access token).');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const file = path.resolve(staticRoot, rel);
    if (!file.startsWith(staticRoot + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const headers: Record<string, string> = securityHeaders(
      CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    );
    // The token leaves the address bar's URL only through this cookie: same-site, not readable by script.
    if (queryToken(url))
      headers['Set-Cookie'] = `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`;
    const body = await readFile(file);
    res.writeHead(200, { ...headers, 'Content-Length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = req.headers.origin;
    const originOk =
      origin === undefined || allowedHosts.has(origin.replace(/^https?:\/\//, '').toLowerCase());
    if (
      url.pathname !== SOCKET_PATH ||
      !hostAllowed(req, allowedHosts) ||
      !originOk ||
      !authorised(req, url)
    ) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => bridge(ws, options.api, log));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bindHost, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts = new Set(
    [`${bindHost}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`].map((h) => h.toLowerCase()),
  );
  const url = `http://${bindHost}:${port}/?token=${encodeURIComponent(token)}`;
  return {
    url,
    token,
    port,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Shares one encoding of a live frame between every connected page. */
function lazyEncoded(frame: FrameBundle): () => Uint8Array {
  let bytes: Uint8Array | null = null;
  return () => (bytes ??= encodeFrame(frame));
}

const encodedFrames = new WeakMap<FrameBundle, () => Uint8Array>();

function bridge(ws: WebSocket, api: NavApi, log: (line: string) => void): void {
  const send = (message: ServerMessage): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };
  const sendError = (id: number, code: NavApiErrorCode, message: string): void =>
    send({ t: 'error', id, error: { code, message } });
  let skippedFrames = 0;
  let framesInFlight = 0;

  const unsubscribe = [
    api.onEvent((event) => send({ t: 'event', event: parseEvent(event) })),
    api.onFrame((frame) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (framesInFlight >= LIVE_FRAME_CREDITS || ws.bufferedAmount > FRAME_BACKLOG_BYTES) {
        skippedFrames++;
        return;
      }
      let encode = encodedFrames.get(frame);
      if (!encode) encodedFrames.set(frame, (encode = lazyEncoded(frame)));
      framesInFlight++;
      ws.send(encode(), { binary: true });
    }),
    api.onMesh((update) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeMeshBlocks(update), { binary: true });
    }),
  ];

  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      ws.close(1003, 'binary messages are not accepted from the page');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data.toString());
    } catch {
      ws.close(1007, 'message is not JSON');
      return;
    }
    const parsed = clientMessageSchema.safeParse(json);
    if (!parsed.success) {
      const id = (json as { id?: unknown } | null)?.id;
      if (typeof id === 'number' && Number.isInteger(id) && id > 0) {
        sendError(id, 'bad-request', describeZodError(parsed.error, 'message'));
      } else ws.close(1008, 'malformed message');
      return;
    }
    const msg = parsed.data;
    if (msg.t === 'frame-ack') {
      framesInFlight = Math.max(0, framesInFlight - 1);
      return;
    }
    void (async () => {
      try {
        if (msg.t === 'call') {
          if (!isMethod(msg.method)) throw new NavApiError('bad-request', `unknown method ${msg.method}`);
          const method: Method = msg.method;
          const result = await api.call(method, msg.params as Params<typeof method>);
          send({ t: 'result', id: msg.id, result });
        } else {
          if (!isBinaryMethod(msg.method))
            throw new NavApiError('bad-request', `unknown binary method ${msg.method}`);
          const bytes =
            msg.method === 'review.frame'
              ? encodeFrame(await api.reviewFrame(msg.params as Parameters<NavApi['reviewFrame']>[0]), msg.id)
              : encodeMeshBlocks(
                  await api.reviewMesh(msg.params as Parameters<NavApi['reviewMesh']>[0]),
                  msg.id,
                );
          if (ws.readyState === WebSocket.OPEN) ws.send(bytes, { binary: true });
        }
      } catch (err) {
        const code = err instanceof NavApiError ? err.code : 'internal';
        if (code === 'internal') log(`request ${msg.method} failed: ${(err as Error).stack ?? String(err)}`);
        sendError(msg.id, code, (err as Error).message);
      }
    })();
  });

  ws.on('close', () => {
    for (const u of unsubscribe) u();
    if (skippedFrames > 0)
      log(`page disconnected; ${skippedFrames} live frames were skipped for it (slow page)`);
  });
  ws.on('error', (err) => log(`socket error: ${err.message}`));
}
