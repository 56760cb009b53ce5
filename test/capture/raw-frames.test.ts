import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawFrameAssembler, TimestampTable, parseShowinfoLine } from '../../src/engine/capture/raw-frames.js';
import { exactFrameRate, parseInputBanner } from '../../src/engine/capture/probe.js';

test('frames are assembled whole whatever the chunking', () => {
  const frameBytes = 7 * 5 * 3;
  const frames = 9;
  const stream = new Uint8Array(frameBytes * frames + 11);
  for (let i = 0; i < stream.length; i++) stream[i] = (i * 31 + (i >> 7)) & 255;
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 300) + 1;
  for (let trial = 0; trial < 20; trial++) {
    const asm = new RawFrameAssembler(frameBytes);
    const out: Uint8Array[] = [];
    for (let o = 0; o < stream.length;) {
      const len = trial === 0 ? 1 : rand();
      out.push(...asm.push(stream.subarray(o, o + len)));
      o += len;
    }
    assert.equal(out.length, frames);
    out.forEach((f, i) => assert.deepEqual(f, stream.subarray(i * frameBytes, (i + 1) * frameBytes)));
    assert.equal(asm.pendingBytes, 11);
    // Every frame owns its memory (frames can be transferred to workers independently).
    assert.notEqual(out[0]!.buffer, out[1]!.buffer);
  }
});

test('showinfo lines give frame numbers and pts; other lines are ignored', () => {
  assert.deepEqual(
    parseShowinfoLine(
      '[Parsed_showinfo_1 @ 0x55d] n:  12 pts:  15360 pts_time:0.4     duration:    512 pos: 113740 fmt:rgb24',
    ),
    { n: 12, ptsTime: 0.4 },
  );
  assert.deepEqual(parseShowinfoLine('[Parsed_showinfo_0 @ 0x1] n:   0 pts:NOPTS pts_time:NOPTS pos: -1'), {
    n: 0,
    ptsTime: null,
  });
  assert.equal(parseShowinfoLine('[Parsed_showinfo_0 @ 0x1] config in time_base: 1/15360'), null);
  assert.equal(parseShowinfoLine('frame=   60 fps=0.0'), null);
});

test('timestamps arriving after their frame are awaited; missing ones resolve to null at the end', async () => {
  const t = new TimestampTable();
  t.add({ n: 0, ptsTime: 0 });
  assert.equal(t.take(0), 0);
  const later = t.take(1);
  assert.ok(later instanceof Promise);
  t.add({ n: 1, ptsTime: 0.0333 });
  assert.equal(await later, 0.0333);
  const never = t.take(2);
  t.end();
  assert.equal(await never, null);
  assert.equal(t.take(3), null);
});

test('the ffmpeg banner is parsed for size, rate, codec and pixel format', () => {
  const info = parseInputBanner([
    "Input #0, lavfi, from 'testsrc2=size=1920x1080:rate=60000/1001':",
    '  Duration: N/A, start: 0.000000, bitrate: N/A',
    '  Stream #0:0: Video: wrapped_avframe, yuv420p, 1920x1080 [SAR 1:1 DAR 16:9], 59.94 fps, 59.94 tbr, 60000 tbn',
  ]);
  assert.ok(info);
  assert.equal(info.width, 1920);
  assert.equal(info.height, 1080);
  assert.equal(info.pixelFormat, 'yuv420p');
  assert.equal(info.codec, 'wrapped_avframe');
  assert.equal(info.fps, 60000 / 1001);
  assert.equal(info.durationSeconds, null);
  const mp4 = parseInputBanner([
    "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.mp4':",
    '  Duration: 00:00:02.00, start: 0.000000, bitrate: 870 kb/s',
    '  Stream #0:0[0x1](und): Video: h264 (High 4:4:4 Predictive) (avc1 / 0x31637661), gbrp(pc, gbr/unknown/unknown, progressive), 160x120 [SAR 1:1 DAR 4:3], 866 kb/s, 30 fps, 30 tbr, 15360 tbn (default)',
  ]);
  assert.equal(mp4?.pixelFormat, 'gbrp');
  assert.equal(mp4?.durationSeconds, 2);
  assert.equal(mp4?.fps, 30);
  assert.equal(exactFrameRate(29.97), 30000 / 1001);
  assert.equal(exactFrameRate(25), 25);
});
