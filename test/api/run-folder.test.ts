/**
 * The run folder's frame index (frames.jsonl) on a real file system: appends land in call order and
 * flush() waits for all of them, an append error comes out of flush() and stops the index without a torn
 * line in its middle, and review finds the nearest frame even in an index that is not in time order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type FrameRecord,
  RunFolderWriter,
  nearestFrame,
  readRunFolder,
} from '../../src/engine/service/run-folder.js';

const CAMERA = { width: 4, height: 3, fx: 3, fy: 3, cx: 1.5, cy: 1, fps: 30 };
const SOURCE = { spec: { kind: 'sample' as const, name: 'phantom' }, datasetRoot: null, description: 'test' };

const record = (i: number, t = i / 30): FrameRecord => ({
  i,
  t,
  k: i % 5 === 0,
  s: 'tracking',
  p: null,
  d: false,
});

function tempFolder(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'navws-run-folder-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('flush waits for every queued index line, and the lines are in the order they were queued', async (t) => {
  const folder = tempFolder(t);
  const writer = await RunFolderWriter.create(folder, SOURCE, CAMERA);
  const n = 400;
  // As the live run does: queued without waiting for each other.
  for (let i = 0; i < n; i++) void writer.appendFrame(record(i));
  await writer.flush();
  const lines = readFileSync(path.join(folder, 'frames.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, n, 'every queued line is on disk when flush() returns');
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as FrameRecord).i),
    Array.from({ length: n }, (_, i) => i),
  );
  const run = await readRunFolder(folder);
  assert.equal(run.frames.length, n);
});

test('an index write error comes out of flush(), and nothing is appended after it', async (t) => {
  const folder = tempFolder(t);
  const writer = await RunFolderWriter.create(folder, SOURCE, CAMERA);
  await writer.appendFrame(record(0));
  await writer.appendFrame(record(1));
  // The index file becomes a folder: appending to it fails (EISDIR), as a full or failed disk would.
  const index = path.join(folder, 'frames.jsonl');
  unlinkSync(index);
  mkdirSync(index);
  const appends = [2, 3, 4].map((i) => writer.appendFrame(record(i)));
  const outcomes = await Promise.allSettled(appends);
  assert.ok(outcomes.every((o) => o.status === 'rejected'));
  await assert.rejects(writer.flush(), (err: Error) => {
    assert.match(err.message, /frame index .*frames\.jsonl: writing frame 2 failed/);
    assert.match(err.message, /keeps its first 2 frames/);
    return true;
  });
  // Once the disk is back, the index does not resume with a gap (or after a torn line).
  rmSync(index, { recursive: true });
  writeFileSync(index, '');
  await assert.rejects(writer.appendFrame(record(5)), /writing frame 2 failed/);
  assert.equal(readFileSync(index, 'utf8'), '');
});

test('review finds the nearest frame in an index that is not in time order', async (t) => {
  const folder = tempFolder(t);
  await RunFolderWriter.create(folder, SOURCE, CAMERA);
  // An index whose appends raced (as before appends were queued): lines out of time order.
  const order = [0, 1, 2, 5, 3, 4, 8, 6, 7, 9];
  writeFileSync(
    path.join(folder, 'frames.jsonl'),
    order.map((i) => JSON.stringify(record(i, i * 0.1))).join('\n') + '\n',
  );
  const run = await readRunFolder(folder);
  assert.deepEqual(
    run.frames.map((f) => f.i),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    'read back in time order',
  );
  for (let i = 0; i < 10; i++) {
    assert.equal(
      nearestFrame(run.frames, i * 0.1 + 0.02)?.i,
      i,
      `nearest to ${(i * 0.1 + 0.02).toFixed(2)} s`,
    );
  }
  assert.equal(nearestFrame(run.frames, 0.34)?.i, 3);
  assert.equal(nearestFrame(run.frames, 0.36)?.i, 4);
  assert.equal(nearestFrame(run.frames, 100)?.i, 9);
});
