import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { VideoFrame } from '../../src/shared/frames.js';
import { DatasetFrameSource } from '../../src/engine/capture/dataset-source.js';
import { VideoFileFrameSource } from '../../src/engine/capture/video-file-source.js';
import { FrameSourceError } from '../../src/engine/capture/frame-source.js';
import { killAllFfmpeg, liveFfmpegCount } from '../../src/engine/capture/ffmpeg-process.js';
import { encodeDatasetVideo, ffmpegRun, sampleDataset, tempDir } from './helpers.js';

async function collect(source: AsyncIterable<VideoFrame>, limit = Infinity): Promise<VideoFrame[]> {
  const out: VideoFrame[] = [];
  for await (const f of source) {
    out.push(f);
    if (out.length >= limit) break;
  }
  return out;
}

function assertSameFrames(a: VideoFrame[], b: VideoFrame[], what: string): void {
  assert.equal(a.length, b.length, `${what}: frame count`);
  for (let i = 0; i < a.length; i++) {
    assert.equal(a[i]!.index, b[i]!.index, `${what}: index of frame ${i}`);
    assert.ok(Math.abs(a[i]!.timestamp - b[i]!.timestamp) < 1e-3, `${what}: timestamp of frame ${i}`);
    assert.equal(a[i]!.image.width, b[i]!.image.width);
    assert.equal(a[i]!.image.height, b[i]!.image.height);
    assert.ok(
      Buffer.from(a[i]!.image.data).equals(Buffer.from(b[i]!.image.data)),
      `${what}: pixels of frame ${i}`,
    );
  }
}

test('a dataset folder and its lossless video encodings yield the same frames', async () => {
  const { dir, cleanup } = await tempDir('frames');
  try {
    const dataset = await sampleDataset(dir);
    const fromFolder = await DatasetFrameSource.open(dataset);
    const fps = fromFolder.info.fps!;
    // The whole committed sample (60 frames); a larger one would be capped to keep the test fast.
    const n = Math.min(60, fromFolder.info.frameCount!);
    const reference = await collect(fromFolder.frames({ maxFrames: n }));
    assert.equal(reference.length, n);
    assert.deepEqual(
      reference.map((f) => f.index),
      [...Array(n).keys()],
    );

    for (const codec of ['ffv1', 'x264rgb'] as const) {
      const file = path.join(dir, codec === 'ffv1' ? 'v.mkv' : 'v.mp4');
      await encodeDatasetVideo(dataset, file, fps, codec, n);
      const video = await VideoFileFrameSource.open(file);
      assert.equal(video.info.width, fromFolder.info.width);
      assert.ok(Math.abs(video.info.fps! - fps) < 1e-3);
      assertSameFrames(await collect(video), reference, codec);
    }

    // The dataset contract allows rgb.mp4 instead of rgb/: same frames through DatasetFrameSource.
    const videoDataset = path.join(dir, 'video-dataset');
    await mkdir(videoDataset);
    await copyFile(path.join(dataset, 'intrinsics.json'), path.join(videoDataset, 'intrinsics.json'));
    await copyFile(path.join(dir, 'v.mp4'), path.join(videoDataset, 'rgb.mp4'));
    const viaMp4 = await DatasetFrameSource.open(videoDataset);
    assertSameFrames(await collect(viaMp4), reference, 'rgb.mp4 dataset');
  } finally {
    await cleanup();
  }
});

test('video frames are seekable by frame and by time, and scaled to the processing size', async () => {
  const { dir, cleanup } = await tempDir('seek');
  try {
    const file = path.join(dir, 'clip.mkv');
    await ffmpegRun([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=30',
      '-frames:v',
      '45',
      '-c:v',
      'ffv1',
      file,
    ]);
    const full = await VideoFileFrameSource.open(file);
    assert.equal(full.info.sourceWidth, 320);
    const all = await collect(full);
    assert.equal(all.length, 45);
    all.forEach((f, i) => assert.ok(Math.abs(f.timestamp - i / 30) < 1e-3, `timestamp ${i}: ${f.timestamp}`));

    const fromFrame = await collect(full.frames({ fromFrame: 17, maxFrames: 5 }));
    assert.deepEqual(
      fromFrame.map((f) => f.index),
      [17, 18, 19, 20, 21],
    );
    assertSameFrames(fromFrame, all.slice(17, 22), 'seek by frame');

    const fromTime = await collect(full.frames({ fromSeconds: 1.0, maxFrames: 3 }));
    assertSameFrames(fromTime, all.slice(30, 33), 'seek by time');

    const small = await VideoFileFrameSource.open(file, { size: { width: 96, height: 72 } });
    const scaled = await collect(small.frames({ maxFrames: 4 }));
    assert.equal(scaled.length, 4);
    assert.equal(scaled[0]!.image.width, 96);
    assert.equal(scaled[0]!.image.data.length, 96 * 72 * 3);
    assert.equal(small.info.sourceWidth, 320);
  } finally {
    await cleanup();
  }
});

test('a file that is not video fails on open naming the file', async () => {
  const { dir, cleanup } = await tempDir('bad');
  try {
    const bad = path.join(dir, 'corrupt.mp4');
    await writeFile(bad, Buffer.alloc(50_000, 'garbage'));
    await assert.rejects(VideoFileFrameSource.open(bad), (err: Error) => {
      assert.match(err.message, /corrupt\.mp4: cannot read as video/);
      assert.match(err.message, /Invalid data|moov/);
      return true;
    });
    await assert.rejects(
      VideoFileFrameSource.open(path.join(dir, 'missing.mkv')),
      /missing\.mkv.*No such file/,
    );
  } finally {
    await cleanup();
  }
});

test('a truncated file delivers the frames before the cut, then a clear error', async () => {
  const { dir, cleanup } = await tempDir('trunc');
  try {
    const file = path.join(dir, 'clip.mkv');
    await ffmpegRun([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=30',
      '-frames:v',
      '60',
      '-c:v',
      'ffv1',
      file,
    ]);
    const size = (await readFile(file)).length;
    await truncate(file, Math.floor(size * 0.6));
    const source = await VideoFileFrameSource.open(file);
    const got: VideoFrame[] = [];
    await assert.rejects(
      (async () => {
        for await (const f of source) got.push(f);
      })(),
      (err: unknown) => {
        assert.ok(err instanceof FrameSourceError);
        assert.match(
          err.message,
          /clip\.mkv: read \d+ frames, then: the file ends early \(truncated or damaged\)/,
        );
        assert.equal(err.framesDelivered, got.length);
        return true;
      },
    );
    assert.ok(got.length > 10 && got.length < 60, `got ${got.length} frames before the cut`);
  } finally {
    await cleanup();
  }
});

test('an ffmpeg crash mid-stream ends with a clear error after the frames already read', async () => {
  const source = await VideoFileFrameSource.open('testsrc2=size=320x240:rate=30', {
    inputArgs: ['-f', 'lavfi', '-re'],
  });
  const got: VideoFrame[] = [];
  await assert.rejects(
    (async () => {
      for await (const f of source) {
        got.push(f);
        if (got.length === 3) killAllFfmpeg('SIGKILL');
      }
    })(),
    (err: unknown) => {
      assert.ok(err instanceof FrameSourceError);
      assert.match(err.message, /ffmpeg was killed by SIGKILL after \d+ frames/);
      return true;
    },
  );
  assert.ok(got.length >= 3);
  got.forEach((f, i) => assert.equal(f.index, i));
});

test('breaking out of the loop stops ffmpeg', async () => {
  const source = await VideoFileFrameSource.open('testsrc2=size=160x120:rate=30', {
    inputArgs: ['-f', 'lavfi'],
  });
  const frames = await collect(source, 5);
  assert.equal(frames.length, 5);
  assert.equal(liveFfmpegCount(), 0);
});
