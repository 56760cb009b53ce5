import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { HEADER_SIZE, decodeBody, encodeMessage, readHeader } from '../../src/engine/igtl/codec.js';
import { decodeTransform, transformContent } from '../../src/engine/igtl/messages.js';
import { IgtlServer } from '../../src/engine/igtl/server.js';
import { se3Exp } from '../../src/shared/math/se3.js';

function collect(
  socket: net.Socket,
): () => { type: string; version: number; timestampS: number; content: Buffer; messageId: number | null }[] {
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  return () => {
    const all = Buffer.concat(chunks);
    const out = [];
    for (let o = 0; o + HEADER_SIZE <= all.length;) {
      const h = readHeader(all.subarray(o));
      const end = o + HEADER_SIZE + Number(h.bodySize);
      const body = decodeBody(h, all.subarray(o + HEADER_SIZE, end));
      out.push({
        type: h.type,
        version: h.version,
        timestampS: h.timestampS,
        content: body.content,
        messageId: body.messageId,
      });
      o = end;
    }
    return out;
  };
}

const settle = (ms = 100): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('nothing is encoded while no client listens; retained messages reach clients that join later', async () => {
  const server = await IgtlServer.listen({ port: 0 });
  let built = 0;
  server.publish({
    type: 'TRANSFORM',
    deviceName: 'a',
    timestampS: 1,
    content: () => (built++, transformContent(se3Exp([1, 0, 0, 0, 0, 0]))),
  });
  server.publish({
    type: 'STATUS',
    deviceName: 'b',
    timestampS: 1,
    retain: true,
    content: () => (built++, Buffer.alloc(31)),
  });
  await settle(20);
  assert.equal(built, 0, 'no client: no work');
  const socket = net.connect(server.address.port, '127.0.0.1');
  const received = collect(socket);
  await once(socket, 'connect');
  await settle();
  assert.deepEqual(
    received().map((m) => m.type),
    ['STATUS'],
  );
  assert.equal(built, 1);
  socket.destroy();
  await server.close();
});

test('a client speaking header version 2 (protocol 3) is answered in version 2; GET_ requests return the latest', async () => {
  const server = await IgtlServer.listen({ port: 0 });
  const v1 = net.connect(server.address.port, '127.0.0.1');
  const v2 = net.connect(server.address.port, '127.0.0.1');
  const got1 = collect(v1);
  const got2 = collect(v2);
  await Promise.all([once(v1, 'connect'), once(v2, 'connect')]);
  v2.write(
    encodeMessage({ type: 'GET_CAPABIL', deviceName: '', timestampS: 0, content: new Uint8Array(0) }, 2, 1),
  );
  await settle();
  const pose = se3Exp([3, 2, 1, 0, 0.1, 0]);
  server.publish({
    type: 'TRANSFORM',
    deviceName: 'NavWS-CameraToRAS',
    timestampS: 5,
    content: () => transformContent(pose),
  });
  await settle();
  v1.write(
    encodeMessage({
      type: 'GET_TRANSFOR',
      deviceName: 'NavWS-CameraToRAS',
      timestampS: 0,
      content: new Uint8Array(0),
    }),
  );
  await settle();
  const a = got1();
  const b = got2();
  assert.deepEqual(
    a.map((m) => [m.type, m.version]),
    [
      ['TRANSFORM', 1],
      ['TRANSFORM', 1],
    ],
  );
  assert.deepEqual(
    b.map((m) => [m.type, m.version]),
    [
      ['CAPABILITY', 2],
      ['TRANSFORM', 2],
    ],
  );
  const caps = b[0]!.content;
  const names = [];
  for (let o = 0; o < caps.length; o += 12)
    names.push(caps.toString('latin1', o, o + 12).replace(/\0+$/, ''));
  assert.deepEqual(names, ['TRANSFORM', 'IMAGE', 'POLYDATA', 'STATUS', 'CAPABILITY']);
  const back = decodeTransform(b[1]!.content);
  assert.ok(Math.abs(back[3]! - pose[3]!) < 1e-6);
  v1.destroy();
  v2.destroy();
  await server.close();
});

test('listening on a port in use fails with the address and the reason', async () => {
  const server = await IgtlServer.listen({ port: 0 });
  await assert.rejects(
    IgtlServer.listen({ port: server.address.port }),
    /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/,
  );
  await assert.rejects(IgtlServer.listen({ port: 70000 }), /port must be 0\.\.65535/);
  await server.close();
});

test('a frame the stream cannot send never throws into the pipeline: it is logged once', async () => {
  const { IgtlPublisher, DEFAULT_IGTL_SETTINGS } = await import('../../src/engine/igtl/publisher.js');
  const server = await IgtlServer.listen({ port: 0 });
  const logs: string[] = [];
  const publisher = new IgtlPublisher(server, DEFAULT_IGTL_SETTINGS, { log: (_l, m) => logs.push(m) });
  const socket = net.connect(server.address.port, '127.0.0.1');
  const received = collect(socket);
  await once(socket, 'connect');
  await server.waitForClients(1);
  const bad = { width: 4, height: 4, data: new Uint8Array(5) };
  for (let i = 0; i < 3; i++)
    publisher.frame({
      index: i,
      timestamp: i,
      rgb: bad,
      depth: null,
      pose: se3Exp([i, 0, 0, 0, 0, 0]),
      trackingState: 'tracking',
    });
  await settle();
  assert.equal(logs.length, 1, logs.join('\n'));
  assert.match(logs[0]!, /OpenIGTLink frame 0 not sent: IMAGE: RGB buffer has 5 bytes/);
  assert.equal(received().filter((m) => m.type === 'TRANSFORM').length, 3, 'the poses still go out');
  socket.destroy();
  await publisher.close();
  await server.close();
});

test('a client that falls behind loses old video before poses, and still gets the newest of each', async () => {
  const { IgtlPublisher, DEFAULT_IGTL_SETTINGS } = await import('../../src/engine/igtl/publisher.js');
  const server = await IgtlServer.listen({ port: 0, maxQueuedMessages: 8, socketHighWaterBytes: 1 });
  const publisher = new IgtlPublisher(
    server,
    { ...DEFAULT_IGTL_SETTINGS, imageMaxHz: 1e6 },
    { epochS: 1000 },
  );
  const socket = net.connect(server.address.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.pause(); // falls behind: reads nothing until all frames are published
  await server.waitForClients(1);
  const rgb = { width: 1024, height: 1024, data: new Uint8Array(1024 * 1024 * 3) };
  const frames = 40;
  for (let i = 0; i < frames; i++) {
    publisher.frame({
      index: i,
      timestamp: i,
      rgb,
      depth: null,
      pose: se3Exp([i, 0, 0, 0, 0, 0]),
      trackingState: 'tracking',
    });
    await new Promise((r) => setImmediate(r));
  }
  await settle();
  const received = collect(socket);
  const closed = once(socket, 'close');
  socket.resume();
  await publisher.close();
  await server.close(5000);
  await closed;
  const got = received();
  const stamps = (type: string) => got.filter((m) => m.type === type).map((m) => m.timestampS - 1000);
  const poses = stamps('TRANSFORM');
  const images = stamps('IMAGE');
  assert.ok(server.stats().dropped > 0, 'it fell behind');
  assert.ok(poses.length > images.length, `${poses.length} poses, ${images.length} images`);
  assert.ok(poses.length >= 8, `${poses.length} poses`);
  assert.equal(poses[poses.length - 1], frames - 1, 'the newest pose arrives');
  assert.equal(images[images.length - 1], frames - 1, 'the newest image arrives');
  socket.destroy();
});
