import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { FRAME_CREDITS, FrameStreamSender, parseAck } from '../../src/engine/process/frame-stream.js';

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `n` messages arrived (message delivery is asynchronous), then a little longer for extras. */
async function settle(got: unknown[], n: number): Promise<void> {
  for (let i = 0; i < 200 && got.length < n; i++) await tick(10);
  await tick(30);
}

function receiver(port: MessagePort): Uint8Array[] {
  const got: Uint8Array[] = [];
  port.on('message', (m: Uint8Array) => got.push(m));
  return got;
}

test('a window that does not ack gets at most FRAME_CREDITS frames; the rest are dropped at the source', async () => {
  const { port1, port2 } = new MessageChannel();
  const got = receiver(port2);
  const sender = new FrameStreamSender(port1);
  const results = Array.from({ length: 10 }, (_, i) => sender.send(new Uint8Array([i]), 'frame'));
  await settle(got, FRAME_CREDITS);
  assert.deepEqual(
    results,
    results.map((_, i) => i < FRAME_CREDITS),
  );
  assert.equal(got.length, FRAME_CREDITS);
  assert.deepEqual([sender.sent, sender.dropped], [FRAME_CREDITS, 10 - FRAME_CREDITS]);
  // Mesh updates are incremental and always delivered, credit or not.
  assert.equal(sender.send(new Uint8Array([99]), 'mesh'), true);
  await settle(got, FRAME_CREDITS + 1);
  assert.equal(got.length, FRAME_CREDITS + 1);
  sender.close();
  port2.close();
});

test('acks return credit, never beyond the limit', async () => {
  const { port1, port2 } = new MessageChannel();
  const got = receiver(port2);
  const sender = new FrameStreamSender(port1);
  let delivered = 0;
  for (let i = 0; i < 6; i++) {
    if (sender.send(new Uint8Array([i]), 'frame')) delivered++;
    port2.postMessage({ ack: 1 });
    await tick(5);
  }
  assert.equal(delivered, 6, 'a window that keeps up gets every frame');
  port2.postMessage({ ack: 2 });
  port2.postMessage({ ack: 2 });
  await tick();
  const burst = Array.from({ length: 5 }, () => sender.send(new Uint8Array(1), 'frame')).filter(
    Boolean,
  ).length;
  assert.equal(burst, FRAME_CREDITS, 'excess acks do not raise the credit above the limit');
  await settle(got, 6 + FRAME_CREDITS);
  assert.equal(got.length, 6 + FRAME_CREDITS);
  sender.close();
  port2.close();
});

test('malformed acks are ignored', () => {
  for (const bad of [
    null,
    'ack',
    { ack: -1 },
    { ack: 1.5 },
    { ack: 1e9 },
    { ack: '1' },
    { data: { ack: 0 } },
    {},
  ]) {
    assert.equal(parseAck(bad), 0, JSON.stringify(bad));
  }
  assert.equal(parseAck({ ack: 1 }), 1);
  assert.equal(parseAck({ data: { ack: 2 }, ports: [] }), 2);
});
