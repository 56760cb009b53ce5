/**
 * Every request from the renderer settles: a malformed or damaged reply rejects it with the reason, a
 * host that never answers times it out, a slow but valid reply still resolves. The client is the page's
 * own SocketNavApi, talking to a real WebSocket server on loopback that answers as told.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { encodeFrame } from '../../src/shared/api/binary.js';
import { NavApiError } from '../../src/shared/api/nav-api.js';
import { SocketNavApi } from '../../src/renderer/host/socket-client.js';

type Answer = (id: number, method: string, socket: WebSocket) => void;

async function host(answer: Answer): Promise<{ url: string; close: () => Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  server.on('connection', (socket) => {
    socket.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { id: number; method: string };
      answer(msg.id, msg.method, socket);
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/api`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function client(url: string, requestTimeoutMs = 400): SocketNavApi {
  return new SocketNavApi(url, {
    requestTimeoutMs,
    WebSocketClass: WebSocket as unknown as new (url: string) => globalThis.WebSocket,
  });
}

const transportError = (pattern: RegExp) => (err: unknown) =>
  err instanceof NavApiError && err.code === 'transport' && pattern.test(err.message);

test('a malformed JSON reply rejects its request with the reason', async () => {
  const h = await host((id, _m, s) => s.send(JSON.stringify({ t: 'resutl', id, result: [] })));
  const api = client(h.url);
  try {
    await assert.rejects(
      api.call('cases.list', {}),
      transportError(/^cases\.list: the host's reply is malformed/),
    );
  } finally {
    api.close();
    await h.close();
  }
});

test('a result that does not match the method schema rejects, naming the problem', async () => {
  const h = await host((id, _m, s) => s.send(JSON.stringify({ t: 'result', id, result: [{ id: 5 }] })));
  const api = client(h.url);
  try {
    await assert.rejects(api.call('cases.list', {}));
  } finally {
    api.close();
    await h.close();
  }
});

test('a damaged binary reply rejects the review request instead of hanging it', async () => {
  const h = await host((id, _m, s) => {
    const good = encodeFrame(
      {
        frameId: 1,
        timeS: 0,
        producedAtMs: 0,
        rgb: { width: 2, height: 2, data: new Uint8Array(12) },
        depth: null,
        depthFrameId: null,
        pose: null,
        trackingState: 'tracking',
        isKeyframe: false,
      },
      id,
    );
    s.send(good.subarray(0, good.length - 5)); // cut short on the way
  });
  const api = client(h.url);
  try {
    await assert.rejects(
      api.reviewFrame({ caseId: '1', timeS: 0 }),
      transportError(/^review\.frame: the host's reply is damaged/),
    );
  } finally {
    api.close();
    await h.close();
  }
});

test('no reply: the request times out with a clear message; a slow valid reply still arrives', async () => {
  const h = await host((id, method, s) => {
    if (method === 'sources.list')
      setTimeout(() => s.send(JSON.stringify({ t: 'result', id, result: [] })), 150);
    // cases.list: never answered
  });
  const api = client(h.url, 400);
  try {
    await assert.rejects(
      api.call('cases.list', {}),
      transportError(/^cases\.list: no reply from the NavWS host within 0\.4 s/),
    );
    assert.deepEqual(await api.call('sources.list', {}), []);
  } finally {
    api.close();
    await h.close();
  }
});
