import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedQueue } from '../../src/engine/pipeline/bounded-queue.js';
import { StageTimer } from '../../src/engine/pipeline/stage-timer.js';

test("'drop-oldest' never blocks the producer, keeps the newest items and counts drops", async () => {
  const dropped: number[] = [];
  const q = new BoundedQueue<number>(2, 'drop-oldest', (x) => dropped.push(x));
  for (let i = 0; i < 5; i++) await q.push(i);
  assert.deepEqual(dropped, [0, 1, 2]);
  assert.equal(q.dropped, 3);
  assert.equal(q.pushed, 5);
  q.close();
  const got: number[] = [];
  for await (const x of q) got.push(x);
  assert.deepEqual(got, [3, 4]);
});

test("'block' applies back-pressure: the producer waits until a consumer makes room, nothing is lost", async () => {
  const q = new BoundedQueue<number>(1, 'block');
  const order: string[] = [];
  const producer = (async () => {
    for (let i = 0; i < 4; i++) {
      await q.push(i);
      order.push(`pushed ${i}`);
    }
    q.close();
  })();
  const got: number[] = [];
  for await (const x of q) {
    order.push(`got ${x}`);
    got.push(x);
    await new Promise((r) => setTimeout(r, 2));
  }
  await producer;
  assert.deepEqual(got, [0, 1, 2, 3]);
  assert.equal(q.dropped, 0);
  // With capacity 1 the producer can never be more than two items ahead of the consumer.
  assert.ok(order.indexOf('pushed 3') > order.indexOf('got 1'), order.join(', '));
});

test('a waiting consumer receives pushed items directly and undefined after close', async () => {
  const q = new BoundedQueue<string>(1, 'block');
  const first = q.pop();
  await q.push('a');
  assert.equal(await first, 'a');
  const second = q.pop();
  q.close();
  assert.equal(await second, undefined);
  await assert.rejects(q.push('b'), /closed queue/);
  assert.throws(() => new BoundedQueue(0, 'block'), /capacity must be >= 1/);
});

test('StageTimer reports mean and nearest-rank p95', async () => {
  const t = new StageTimer();
  for (let i = 1; i <= 20; i++) t.add(i);
  assert.deepEqual(t.summary(), { count: 20, meanMs: 10.5, p95Ms: 19 });
  await assert.rejects(
    t.time(async () => Promise.reject(new Error('x'))),
    /x/,
  );
  assert.equal(t.summary().count, 21);
  assert.deepEqual(new StageTimer().summary(), { count: 0, meanMs: 0, p95Ms: 0 });
});
