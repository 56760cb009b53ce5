import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CaptureSourceError, inputArgs } from '../../src/engine/capture/capture-source.js';
import { getFfmpeg } from '../../src/engine/capture/ffmpeg.js';
import { CaptureError, LiveCapture, type CapturedFrame } from '../../src/engine/capture/live-capture.js';
import { VideoFileFrameSource } from '../../src/engine/capture/video-file-source.js';
import { REPO_ROOT, tempDir } from './helpers.js';

const VIRTUAL_DEVICE = 'testsrc2=size=1920x1080:rate=60000/1001';

/** A live 320x240 H.264 MPEG-TS stream to `url`, paced in real time (the network-stream tests' sender). */
function sendTestStream(ffmpegPath: string, url: string): ChildProcess {
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=30',
  ];
  args.push(
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-g',
    '10',
    '-f',
    'mpegts',
    url,
  );
  return spawn(ffmpegPath, args, { stdio: 'ignore' });
}

async function countFrames(file: string): Promise<number> {
  const source = await VideoFileFrameSource.open(file, {
    size: { width: 64, height: 36 },
    tolerateErrors: true,
  });
  let n = 0;
  for await (const _ of source) n++;
  return n;
}

test('virtual 1080p59.94 device: processing frames at 384x288, full stream recorded, nothing recorded dropped', async () => {
  const { dir, cleanup } = await tempDir('live');
  try {
    const file = path.join(dir, 'rec.mp4');
    const seen: number[] = [];
    // Stop after a count of frames, not after a time: how fast ffmpeg makes 1080p frames depends on
    // the build and the machine's load, and the assertions below are about counting, not speed.
    let enough: () => void = () => undefined;
    const gotEnough = new Promise<void>((resolve) => (enough = resolve));
    const cap = await LiveCapture.start({
      source: { kind: 'lavfi', graph: VIRTUAL_DEVICE },
      processingSize: { width: 384, height: 288 },
      recording: { file },
      onFrame: (f) => {
        seen.push(f.frameNumber);
        if (seen.length === 45) enough();
      },
    });
    assert.equal(cap.input?.width, 1920);
    assert.equal(cap.input?.height, 1080);
    assert.equal(cap.input?.fps, 60000 / 1001);
    void gotEnough.then(() => cap.stop());
    const got: CapturedFrame[] = [];
    let ended = false;
    const markEnded = (): void => {
      ended = true;
    };
    cap.done.then(markEnded, markEnded);
    for await (const f of cap.frames()) {
      got.push(f);
      // A slow consumer, slower than the source whatever its speed: it takes a frame only after three
      // more arrived. Processing must not hold capture back; it gets the newest frames.
      const target = seen.length + 3;
      while (seen.length < target && !ended) await sleep(5);
    }
    const result = await cap.done;
    assert.equal(result.reason, 'stopped');
    // Stats after the consumer drained the queue (the result's are a snapshot at ffmpeg's exit).
    const { framesReceived, framesDelivered, framesDropped } = cap.getStats();
    assert.equal(result.stats.framesReceived, framesReceived);
    assert.ok(framesReceived >= 45, `received ${framesReceived}`);
    assert.ok(framesDropped > 0, 'a slow consumer causes counted drops');
    assert.equal(framesDelivered, got.length);
    assert.equal(
      framesDelivered + framesDropped,
      framesReceived,
      'every frame delivered or counted as dropped',
    );
    assert.deepEqual(seen, [...Array(framesReceived).keys()], 'every frame indexed in order');
    assert.equal(got[0]!.image.width, 384);
    assert.equal(got[0]!.image.data.length, 384 * 288 * 3);
    for (let i = 1; i < got.length; i++) {
      const a = got[i - 1]!;
      const b = got[i]!;
      assert.ok(b.index > a.index && b.pts > a.pts && b.wallMs >= a.wallMs);
      // pts follow the source clock exactly: frame k at k * 1001/60000 s.
      assert.ok(Math.abs(b.pts - (b.index * 1001) / 60000) < 1e-3, `pts of frame ${b.index}: ${b.pts}`);
    }
    // Recording never drops: the file holds every frame that reached us.
    assert.equal(await countFrames(file), framesReceived);
  } finally {
    await cleanup();
  }
});

test('a local UDP stream is captured; a stall raises "stale" and recovery "resumed"', async () => {
  const { dir, cleanup } = await tempDir('udp');
  const ffmpeg = await getFfmpeg();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const sender = sendTestStream(ffmpeg.path, `udp://127.0.0.1:${port}?pkt_size=1316`);
  try {
    const cap = await LiveCapture.start({
      source: { kind: 'stream', url: `udp://127.0.0.1:${port}` },
      processingSize: { width: 160, height: 120 },
      recording: { file: path.join(dir, 'udp.mp4') },
      staleAfterMs: 300,
    });
    const events: string[] = [];
    cap.on('stale', () => events.push('stale'));
    cap.on('resumed', () => events.push('resumed'));
    const consumer = (async () => {
      let n = 0;
      for await (const _ of cap.frames()) n++;
      return n;
    })();
    await sleep(500);
    sender.kill('SIGSTOP');
    await sleep(900);
    sender.kill('SIGCONT');
    await sleep(800);
    const result = await cap.stop();
    assert.ok((await consumer) > 10);
    assert.deepEqual(events.slice(0, 2), ['stale', 'resumed']);
    assert.ok(result.stats.staleEvents >= 1);
    assert.ok((await countFrames(path.join(dir, 'udp.mp4'))) > 10, 'stream recorded (bitstream copied)');
  } finally {
    sender.kill('SIGKILL');
    await cleanup();
  }
});

test('an SRT stream (caller to a local listener) is captured and recorded', async (t) => {
  const ffmpeg = await getFfmpeg();
  if (!ffmpeg.capabilities.protocols.has('srt')) {
    // A build without libsrt (the npm-shipped ffmpeg 4.1) must say so before anything is spawned.
    await assert.rejects(
      LiveCapture.start({
        source: { kind: 'stream', url: 'srt://127.0.0.1:9' },
        processingSize: { width: 64, height: 48 },
      }),
      (err: unknown) =>
        err instanceof CaptureError &&
        err.kind === 'unsupported-format' &&
        /needs ffmpeg's 'srt' protocol/.test(err.message),
    );
    t.skip(`this ffmpeg (${ffmpeg.origin}) is built without libsrt: the clear error was checked instead`);
    return;
  }
  const { dir, cleanup } = await tempDir('srt');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const sender = sendTestStream(ffmpeg.path, `srt://127.0.0.1:${port}?mode=listener`);
  try {
    await sleep(300); // the listener must be up before the caller connects
    const cap = await LiveCapture.start({
      source: { kind: 'stream', url: `srt://127.0.0.1:${port}` },
      processingSize: { width: 160, height: 120 },
      recording: { file: path.join(dir, 'srt.mp4') },
    });
    let n = 0;
    setTimeout(() => void cap.stop(), 1000).unref();
    for await (const _ of cap.frames()) n++;
    const result = await cap.done;
    assert.equal(result.reason, 'stopped');
    assert.ok(n > 10, `${n} frames`);
    assert.ok((await countFrames(path.join(dir, 'srt.mp4'))) > 10);
  } finally {
    sender.kill('SIGKILL');
    await cleanup();
  }
});

test('missing device, unknown pixel format and bad URLs give clear errors', async () => {
  await assert.rejects(
    LiveCapture.start({
      source: { kind: 'device', api: 'v4l2', device: '/dev/video97' },
      processingSize: { width: 64, height: 48 },
    }),
    (e: Error) => {
      assert.ok(e instanceof CaptureError, e.message);
      assert.equal(e.kind, 'source-unavailable');
      assert.match(e.message, /cannot open the source \(.*(No such file or directory|video97)/);
      return true;
    },
  );
  await assert.rejects(
    inputArgs({ kind: 'device', api: 'v4l2', device: '/dev/video0', pixelFormat: 'yuv_imaginary' }),
    (e: Error) =>
      e instanceof CaptureSourceError && /pixel format 'yuv_imaginary' is not known/.test(e.message),
  );
  await assert.rejects(
    inputArgs({ kind: 'stream', url: 'file:///etc/passwd' }),
    /capture source\.url: must be an rtsp/,
  );
  // A format ffmpeg knows but the source cannot deliver: the lavfi source rejects an impossible size.
  await assert.rejects(
    LiveCapture.start({
      source: { kind: 'lavfi', graph: 'testsrc2=size=0x0' },
      processingSize: { width: 64, height: 48 },
    }),
    (e: Error) => e instanceof CaptureError && /cannot open the source|not supported/.test(e.message),
  );
});

test('ffmpeg crash during capture is reported and the recording plays up to the last fragment', async () => {
  const { dir, cleanup } = await tempDir('crash');
  try {
    const file = path.join(dir, 'rec.mp4');
    const cap = await LiveCapture.start({
      source: { kind: 'lavfi', graph: 'testsrc2=size=640x480:rate=30' },
      processingSize: { width: 160, height: 120 },
      recording: { file, fragmentSeconds: 0.5 },
    });
    const errors: CaptureError[] = [];
    cap.on('error', (e) => errors.push(e));
    await sleep(1600);
    process.kill(cap.pid!, 'SIGKILL');
    const result = await cap.done;
    assert.equal(result.reason, 'failed');
    assert.equal(result.error?.kind, 'ffmpeg-crashed');
    assert.match(
      result.error!.message,
      /killed by SIGKILL after \d+ frames; the recording up to the last fragment is kept/,
    );
    assert.equal(errors.length, 1);
    const playable = await countFrames(file);
    assert.ok(
      playable >= 15 && playable <= result.stats.framesReceived,
      `${playable} of ${result.stats.framesReceived} playable`,
    );
  } finally {
    await cleanup();
  }
});

test('a full disk stops the recording with a clear error; what was written stays playable', async () => {
  const { dir, cleanup } = await tempDir('full');
  const mnt = path.join(dir, 'small');
  await mkdir(mnt);
  let mounted = false;
  try {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1536k', 'tmpfs', mnt], { stdio: 'ignore' });
      mounted = true;
    } catch {
      // No permission to mount: a file-size limit (ulimit -f) on a child process stands in below.
    }
    const file = path.join(mnt, 'rec.mp4');
    let outcome: { reason: string; kind?: string; message?: string };
    if (mounted) {
      const cap = await LiveCapture.start({
        source: { kind: 'lavfi', graph: 'testsrc2=size=1280x720:rate=30', realtime: false },
        processingSize: { width: 64, height: 48 },
        recording: { file, crf: 0, fragmentSeconds: 0.2 },
      });
      const result = await cap.done;
      outcome = { reason: result.reason, kind: result.error?.kind, message: result.error?.message };
    } else {
      const child = path.join(REPO_ROOT, 'test/capture/fixtures/capture-child.ts');
      const out = execFileSync(
        'sh',
        ['-c', `ulimit -f 3000; exec "${process.execPath}" --import tsx "${child}" "${file}"`],
        {
          cwd: REPO_ROOT,
          encoding: 'utf8',
        },
      );
      outcome = JSON.parse(out.trim().split('\n').at(-1)!) as typeof outcome;
    }
    assert.equal(outcome.reason, 'failed');
    assert.equal(outcome.kind, 'disk-full', outcome.message);
    assert.match(outcome.message!, /disk full/);
    assert.ok((await countFrames(file)) > 0, 'fragments written before the disk filled are playable');
  } finally {
    if (mounted) execFileSync('umount', [mnt], { stdio: 'ignore' });
    await rm(mnt, { recursive: true, force: true });
    await cleanup();
  }
});
