/**
 * The browser host's access control and socket protocol, from outside, with the real engine service:
 * token required on every HTTP and WebSocket request, Host and Origin checked, no path traversal,
 * malformed and unknown messages rejected with an error while the connection and server survive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { EngineService } from '../src/engine/service/engine-service.js';
import { type BrowserHost, startBrowserHost } from '../src/server/browser-host.js';
import { tokensEqual } from '../src/server/auth.js';
import { LIVE_FRAME_CREDITS } from '../src/shared/api/socket-protocol.js';
import { FRAME_KIND, readEnvelope } from '../src/shared/api/binary.js';
import { samplesRoot as repoSamples } from './harness.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(port: number, pathName: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function openSocket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** The next reply to a request (events such as log lines may come in between). */
function nextMessage(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      if (isBinary) return;
      const msg = JSON.parse(data.toString()) as { t: string };
      if (msg.t === 'event') return;
      ws.off('message', onMessage);
      resolve(msg);
    };
    ws.on('message', onMessage);
  });
}

async function withHost(fn: (host: BrowserHost, root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'navws-host-'));
  const staticRoot = path.join(root, 'static');
  mkdirSync(staticRoot);
  writeFileSync(path.join(staticRoot, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(path.join(root, 'secret.txt'), 'secret');
  const api = await EngineService.open({
    host: 'browser',
    casesRoot: path.join(root, 'cases'),
    samplesRoot: path.join(root, 'samples'),
  });
  const host = await startBrowserHost({ api, staticRoot, port: 0 });
  try {
    await fn(host, root);
  } finally {
    await host.close();
    await api.close();
    rmSync(root, { recursive: true, force: true });
  }
}

test('token comparison is exact', () => {
  assert.equal(tokensEqual('abc', 'abc'), true);
  assert.equal(tokensEqual('abc', 'abd'), false);
  assert.equal(tokensEqual('abc', 'abcd'), false);
  assert.equal(tokensEqual('', 'a'), false);
});

test('HTTP: every request needs the token; Host is checked; no traversal; CSP on responses', async () => {
  await withHost(async (host) => {
    const { port, token } = host;
    assert.match(host.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    assert.equal((await get(port, '/')).status, 401);
    assert.equal((await get(port, '/?token=wrong')).status, 401);
    const ok = await get(port, `/?token=${token}`);
    assert.equal(ok.status, 200);
    assert.match(String(ok.headers['content-security-policy']), /script-src 'self'/);
    assert.equal(ok.headers['x-content-type-options'], 'nosniff');
    const cookie = String(ok.headers['set-cookie']).split(';')[0]!;
    assert.match(String(ok.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
    assert.equal((await get(port, '/index.html', { cookie })).status, 200, 'the cookie alone authorises');
    assert.equal((await get(port, '/index.html', { cookie: 'navws_token=forged' })).status, 401);
    assert.equal(
      (await get(port, `/?token=${token}`, { host: 'evil.example:80' })).status,
      421,
      'DNS rebinding refused',
    );
    for (const p of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt']) {
      const r = await get(port, p, { cookie });
      assert.ok(r.status === 404 && !r.body.includes('secret'), `${p} -> ${r.status}`);
    }
  });
});

test('WebSocket: token and origin required; requests validated; bad messages rejected, server survives', async () => {
  await withHost(async (host) => {
    const url = `ws://127.0.0.1:${host.port}/api`;
    await assert.rejects(openSocket(url), /401/);
    await assert.rejects(openSocket(`${url}?token=nope`), /401/);
    await assert.rejects(openSocket(`${url}?token=${host.token}`, { origin: 'http://evil.example' }), /401/);
    const ws = await openSocket(`${url}?token=${host.token}`, { origin: `http://127.0.0.1:${host.port}` });
    try {
      ws.send(
        JSON.stringify({
          t: 'call',
          id: 1,
          method: 'cases.create',
          params: { title: 'Case A', patientRef: 'P-7' },
        }),
      );
      const created = (await nextMessage(ws)) as { t: string; result: { id: string; title: string } };
      assert.equal(created.t, 'result');
      assert.equal(created.result.title, 'Case A');

      ws.send(JSON.stringify({ t: 'call', id: 2, method: 'cases.create', params: { title: 42 } }));
      assert.deepEqual(((await nextMessage(ws)) as { error: { code: string } }).error.code, 'bad-request');
      ws.send(JSON.stringify({ t: 'call', id: 3, method: 'fs.readFile', params: {} }));
      const unknown = (await nextMessage(ws)) as { t: string; error: { message: string } };
      assert.equal(unknown.t, 'error');
      assert.match(unknown.error.message, /unknown method/);
      ws.send(JSON.stringify({ t: 'call', id: 4, method: 'cases.open', params: { caseId: '../../etc' } }));
      assert.equal(((await nextMessage(ws)) as { t: string }).t, 'error');
      ws.send(
        JSON.stringify({
          t: 'call',
          id: 5,
          method: 'run.start',
          params: { caseId: created.result.id, source: { kind: 'sample', name: 'none' } },
        }),
      );
      assert.match(
        ((await nextMessage(ws)) as { error: { message: string } }).error.message,
        /no such sample/,
      );
      ws.send(JSON.stringify({ t: 'call', id: 6, method: 'cases.list', params: { search: 'p-7' } }));
      const listed = (await nextMessage(ws)) as { result: { id: string }[] };
      assert.deepEqual(
        listed.result.map((c) => c.id),
        [created.result.id],
      );
    } finally {
      ws.close();
    }
    // A binary message or non-JSON closes that connection only.
    for (const bad of [Buffer.from([1, 2, 3]), 'not json', JSON.stringify({ t: 'call' })]) {
      const s = await openSocket(`${url}?token=${host.token}`);
      const closed = new Promise<number>((resolve) => s.once('close', (code) => resolve(code)));
      s.send(bad);
      assert.ok((await closed) >= 1000);
    }
    const again = await openSocket(`${url}?token=${host.token}`);
    again.send(JSON.stringify({ t: 'call', id: 1, method: 'status.get', params: {} }));
    assert.equal(((await nextMessage(again)) as { result: { host: string } }).result.host, 'browser');
    again.close();
  });
});

const sampleMissing = existsSync(path.join(repoSamples, 'phantom', 'intrinsics.json'))
  ? false
  : 'samples/phantom is missing';

test(
  'live frames are flow-controlled: a page that does not acknowledge gets at most the credit',
  { skip: sampleMissing, timeout: 60_000 },
  async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'navws-host-flow-'));
    const staticRoot = path.join(root, 'static');
    mkdirSync(staticRoot);
    writeFileSync(path.join(staticRoot, 'index.html'), '<!doctype html><title>t</title>');
    const api = await EngineService.open({
      host: 'browser',
      casesRoot: path.join(root, 'cases'),
      samplesRoot: repoSamples,
    });
    const host = await startBrowserHost({ api, staticRoot, port: 0 });
    const ws = await openSocket(`ws://127.0.0.1:${host.port}/api?token=${host.token}`);
    try {
      let binary = 0;
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        // Mesh blocks are binary too and never dropped; count the live frames only.
        if (isBinary && readEnvelope(new Uint8Array(data)).kind === FRAME_KIND) binary++;
      });
      ws.send(JSON.stringify({ t: 'call', id: 1, method: 'cases.create', params: { title: 'Flow' } }));
      const c = (await nextMessage(ws)) as { result: { id: string } };
      ws.send(
        JSON.stringify({
          t: 'call',
          id: 2,
          method: 'run.start',
          params: {
            caseId: c.result.id,
            source: { kind: 'sample', name: 'phantom' },
            depth: 'gt',
            poses: 'gt',
            speed: 0.25,
          },
        }),
      );
      assert.equal(((await nextMessage(ws)) as { t: string }).t, 'result');
      const waitFor = async (count: number, ms: number): Promise<void> => {
        const deadline = Date.now() + ms;
        while (binary < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      };
      await waitFor(LIVE_FRAME_CREDITS, 15_000);
      // The run keeps producing frames (8 s at a quarter speed); none of them may come through now.
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(binary, LIVE_FRAME_CREDITS, 'without acknowledgements only the credit is sent');
      ws.send(JSON.stringify({ t: 'frame-ack' }));
      await waitFor(LIVE_FRAME_CREDITS + 1, 10_000);
      assert.equal(binary, LIVE_FRAME_CREDITS + 1, 'each acknowledgement lets one more frame through');
      ws.send(JSON.stringify({ t: 'call', id: 3, method: 'run.stop', params: {} }));
      await nextMessage(ws);
    } finally {
      ws.close();
      await host.close();
      await api.close();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
