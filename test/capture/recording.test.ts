import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VideoFrame } from '../../src/shared/frames.js';
import { CaseStore } from '../../src/engine/store/case-store.js';
import { CaseRecorder } from '../../src/engine/recording/case-recorder.js';
import { RecordingFrameSource } from '../../src/engine/recording/playback.js';
import { REPO_ROOT, tempDir } from './helpers.js';
import { CASE } from '../store/fixtures.js';

async function collect(source: AsyncIterable<VideoFrame>): Promise<VideoFrame[]> {
  const out: VideoFrame[] = [];
  for await (const f of source) out.push(f);
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a recording into a case is indexed, and plays back seekable by frame and by time', async () => {
  const { dir, cleanup } = await tempDir('recording');
  try {
    const store = await CaseStore.open(dir, { actor: 'tester' });
    const c = await store.createCase(CASE);
    const recorder = await CaseRecorder.start(store, c.id, {
      source: { kind: 'lavfi', graph: 'testsrc2=size=640x480:rate=30' },
      processingSize: { width: 160, height: 120 },
      name: 'take1',
      indexFlushMs: 100,
    });
    setTimeout(() => void recorder.stop(), 1500).unref();
    let live = 0;
    for await (const _ of recorder.frames()) live++;
    const { capture, recording } = await recorder.finished;
    assert.equal(capture.reason, 'stopped');
    assert.equal(recording.status, 'complete');
    assert.equal(recording.frameCount, capture.stats.framesReceived);
    assert.ok(recording.frameCount >= 20 && live > 0);
    assert.equal(recording.width, 640);
    assert.equal(recording.fps, 30);
    assert.ok(recording.fileId !== null, 'video hashed into the store');
    assert.ok(recording.wallOffsetMs !== null && recording.wallOffsetMs > 1.6e12);
    const index = store.frameIndex(recording.id);
    assert.deepEqual(
      index.map((r) => r.frameNumber),
      [...Array(recording.frameCount).keys()],
    );
    index.forEach((r, i) => assert.ok(Math.abs(r.pts - i / 30) < 1e-3));

    const playback = await RecordingFrameSource.open(store, recording.id);
    assert.equal(playback.info.width, 640);
    const all = await collect(playback);
    assert.equal(all.length, recording.frameCount, 'every recorded frame plays back');
    all.forEach((f, i) => {
      assert.equal(f.index, i);
      assert.ok(Math.abs(f.timestamp - index[i]!.pts) < 1e-6);
    });
    const byFrame = await collect(playback.frames({ fromFrame: 17, maxFrames: 3 }));
    assert.deepEqual(
      byFrame.map((f) => f.index),
      [17, 18, 19],
    );
    assert.ok(
      Buffer.from(byFrame[0]!.image.data).equals(Buffer.from(all[17]!.image.data)),
      'seek by frame lands on frame 17',
    );
    const byTime = await collect(playback.frames({ fromSeconds: 0.5, maxFrames: 1 }));
    assert.equal(byTime[0]!.index, 15);
    assert.ok(Buffer.from(byTime[0]!.image.data).equals(Buffer.from(all[15]!.image.data)));
    store.close();
  } finally {
    await cleanup();
  }
});

test('SIGKILL while recording: the video plays to the last fragment, the store opens clean and shows the capture', async () => {
  const { dir, cleanup } = await tempDir('sigkill');
  try {
    const setup = await CaseStore.open(dir, { actor: 'tester' });
    const c = await setup.createCase(CASE);
    setup.close();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'test/capture/fixtures/record-child.ts'), dir, c.id],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let ffmpegPid = 0;
    let frames = 0;
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`recording child exited early (code ${code})`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { ffmpegPid?: number; frames?: number };
        if (msg.ffmpegPid) ffmpegPid = msg.ffmpegPid;
        if (msg.frames) frames = msg.frames;
        if (frames >= 45) resolve();
      });
    });
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // ffmpeg must not outlive its parent (pdeathsig / broken pipe).
    for (let i = 0; i < 100 && isAlive(ffmpegPid); i++) await sleep(50);
    assert.equal(isAlive(ffmpegPid), false, 'ffmpeg child exited with its parent');

    const store = await CaseStore.open(dir, { actor: 'reviewer', spotCheckFiles: 100 });
    assert.deepEqual(store.health.problems, []);
    assert.equal(store.health.ok, true);
    const [rec] = store.listRecordings(c.id);
    assert.ok(rec);
    assert.deepEqual(store.health.recovered, [rec.id]);
    assert.equal(rec.status, 'interrupted');
    assert.ok(rec.frameCount >= 30, `index holds ${rec.frameCount} frames`);
    assert.ok(rec.fileId !== null);
    assert.ok(store.auditLog(c.id).some((e) => e.action === 'recording.interrupted'));
    const playable = await collect(await RecordingFrameSource.open(store, rec.id, { width: 80, height: 60 }));
    assert.ok(playable.length >= 30, `${playable.length} frames playable, ${rec.frameCount} indexed`);
    // At most one fragment (0.5 s) plus the index flush interval may be missing on either side.
    assert.ok(
      Math.abs(playable.length - rec.frameCount) <= 25,
      `${playable.length} playable vs ${rec.frameCount} indexed`,
    );
    store.close();
  } finally {
    await cleanup();
  }
});

test('after an ffmpeg crash the recorder reports it, keeps the segment, and restarts into a new one', async () => {
  const { dir, cleanup } = await tempDir('restart');
  try {
    const store = await CaseStore.open(dir, { actor: 'tester' });
    const c = await store.createCase(CASE);
    const first = await CaseRecorder.start(store, c.id, {
      source: { kind: 'lavfi', graph: 'testsrc2=size=320x240:rate=30' },
      processingSize: { width: 80, height: 60 },
      name: 'take',
      fragmentSeconds: 0.5,
    });
    const errors: string[] = [];
    first.capture.on('error', (e) => errors.push(e.kind));
    await sleep(1200);
    process.kill(first.capture.pid!, 'SIGKILL');
    const crashed = await first.finished;
    assert.deepEqual(errors, ['ffmpeg-crashed']);
    assert.equal(crashed.recording.status, 'interrupted');
    assert.match(crashed.recording.error ?? '', /killed by SIGKILL/);
    assert.ok(crashed.recording.frameCount > 0);

    const second = await first.restart();
    assert.equal(second.recording.relPath, 'recordings/take-part2.mp4');
    await sleep(600);
    const done = await second.stop();
    assert.equal(done.recording.status, 'complete');
    assert.equal(store.listRecordings(c.id).length, 2);
    const playable = await collect(
      await RecordingFrameSource.open(store, crashed.recording.id, { width: 80, height: 60 }),
    );
    assert.ok(playable.length > 0, 'the crashed segment still plays');
    store.close();
  } finally {
    await cleanup();
  }
});
