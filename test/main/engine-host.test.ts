/**
 * The engine host in-process: requests, heartbeats, shutdown, and the binary stream from the engine to a
 * window's preload over a real MessagePort with flow control (frames dropped at the source while the window
 * holds no credit, mesh updates always delivered, credit returned by the preload's acks).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { type HostedEngine, serveEngine } from '../../src/engine/process/engine-host.js';
import { FRAME_CREDITS, type StreamKind } from '../../src/engine/process/frame-stream.js';
import type { EngineToMain, FramePort, ParentChannel } from '../../src/engine/process/protocol.js';
import { STREAM_PORT_CHANNEL } from '../../src/main/ipc/channels.js';
import { createElectronNavApi, type StreamPortLike } from '../../src/preload/electron-nav-api.js';
import {
  encodeFrame,
  encodeMeshBlocks,
  type FrameBundle,
  type MeshBlocksUpdate,
} from '../../src/shared/api/binary.js';

const tick = (ms = 10): Promise<void> => new Promise((r) => setTimeout(r, ms));

function frame(id: number): FrameBundle {
  const w = 8;
  const h = 6;
  return {
    frameId: id,
    timeS: id / 30,
    producedAtMs: Date.now(),
    rgb: { width: w, height: h, data: new Uint8Array(w * h * 3).fill(id) },
    depth: { width: w, height: h, data: new Float32Array(w * h).fill(50 + id) },
    depthFrameId: id,
    pose: null,
    trackingState: 'tracking',
    isKeyframe: false,
  };
}

function mesh(key: string): MeshBlocksUpdate {
  return {
    reset: false,
    changed: [
      {
        key,
        mesh: {
          positions: new Float32Array([0, 0, 50, 1, 0, 50, 0, 1, 50]),
          colors: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]),
          indices: new Uint32Array([0, 1, 2]),
        },
      },
    ],
    removed: [],
    totalVertices: 3,
  };
}

function host() {
  const sent: EngineToMain[] = [];
  let deliver: (message: unknown, ports: readonly FramePort[]) => void = () => {};
  const channel: ParentChannel = {
    // Clones like the real channels do, so an uncloneable answer fails here as it would there.
    send: (m) => sent.push(structuredClone(m)),
    onMessage: (l) => {
      deliver = l;
    },
  };
  const binaryListeners = new Set<(m: Uint8Array, kind: StreamKind) => void>();
  const closed: string[] = [];
  const exits: number[] = [];
  const engine: HostedEngine = {
    async call(method, args) {
      if (method === 'fail') throw Object.assign(new Error('no such case'), { code: 'not-found' });
      if (method === 'uncloneable') return { callback: () => 1 };
      return { method, args };
    },
    subscribe: () => () => {},
    subscribeBinary(listener) {
      binaryListeners.add(listener);
      return () => binaryListeners.delete(listener);
    },
    async close() {
      closed.push('closed');
    },
  };
  serveEngine(channel, engine, { crashHandlers: false, exit: (code) => exits.push(code) });
  const emit = (m: Uint8Array, kind: StreamKind): void => {
    for (const l of binaryListeners) l(m, kind);
  };
  return {
    sent,
    deliver: (m: unknown, ports: readonly FramePort[] = []) => deliver(m, ports),
    binaryListeners,
    emit,
    closed,
    exits,
  };
}

test('requests are answered with values or coded errors; pings with pongs; shutdown closes the engine', async () => {
  const h = host();
  assert.equal(h.sent[0]?.type, 'ready');
  h.deliver({ type: 'request', id: 1, method: 'cases.list', args: { limit: 2 } });
  h.deliver({ type: 'request', id: 2, method: 'fail', args: null });
  h.deliver({ type: 'ping', seq: 9 });
  h.deliver({ type: 'request', id: 3, method: 'uncloneable', args: null });
  h.deliver('garbage');
  h.deliver({ no: 'type' });
  await tick();
  const [pong, r1, r2, r3, ...rest] = h.sent.slice(1);
  assert.deepEqual(
    [pong, r1, r2],
    [
      { type: 'pong', seq: 9 },
      { type: 'response', id: 1, ok: true, value: { method: 'cases.list', args: { limit: 2 } } },
      { type: 'response', id: 2, ok: false, error: 'no such case', code: 'not-found' },
    ],
  );
  assert.equal(r3?.type === 'response' ? r3.id : null, 3);
  assert.match(r3?.type === 'response' && !r3.ok ? r3.error : '', /answer to uncloneable could not be sent/);
  assert.deepEqual(rest, []);
  h.deliver({ type: 'shutdown' });
  await tick();
  assert.deepEqual(h.closed, ['closed']);
  assert.deepEqual(h.exits, [0]);
});

test('frames reach the preload over a MessagePort with flow control; mesh updates always arrive', async () => {
  const h = host();
  const { port1, port2 } = new MessageChannel();
  h.deliver({ type: 'attach-frame-port', portId: 1 }, [port1 as unknown as FramePort]);
  assert.equal(h.binaryListeners.size, 1);

  let portListener: ((e: { ports?: readonly StreamPortLike[] }) => void) | null = null;
  const api = createElectronNavApi({
    invoke: async () => ({ ok: false, error: { code: 'internal', message: 'not used' } }),
    on: (channel, listener) => {
      if (channel === STREAM_PORT_CHANNEL) portListener = listener;
    },
  });
  const frames: number[] = [];
  const meshes: string[] = [];
  api.onFrame((f) => frames.push(f.frameId));
  api.onMesh((u) => meshes.push(u.changed[0]!.key));
  portListener!({ ports: [port2 as unknown as StreamPortLike] });

  // A burst faster than the window can take: only the credited frames go out, the rest are dropped
  // at the source; the mesh update in the middle of the burst is never dropped.
  for (let i = 0; i < 10; i++) {
    h.emit(encodeFrame(frame(i)), 'frame');
    if (i === 5) h.emit(encodeMeshBlocks(mesh('block-a')), 'mesh');
  }
  const credited = Array.from({ length: FRAME_CREDITS }, (_, i) => i);
  for (let i = 0; i < 100 && frames.length < FRAME_CREDITS; i++) await tick();
  await tick(50);
  assert.deepEqual(frames, credited);
  assert.deepEqual(meshes, ['block-a']);

  // The preload acked them: frames paced at the window's speed all arrive.
  for (let i = 10; i < 15; i++) {
    h.emit(encodeFrame(frame(i)), 'frame');
    for (let k = 0; k < 100 && !frames.includes(i); k++) await tick(5);
  }
  assert.deepEqual(frames, [...credited, 10, 11, 12, 13, 14]);

  h.deliver({ type: 'detach-frame-port', portId: 1 });
  assert.equal(h.binaryListeners.size, 0, 'detaching unsubscribes from the engine');
  port2.close();
});
