import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  frameRateArg,
  knownPixelFormats,
  listCaptureDevices,
  parseAvfoundationDevices,
  parseAvfoundationModes,
  parseDshowDevices,
  parseDshowOptions,
  parseV4l2Formats,
} from '../../src/engine/capture/devices.js';

// Lines as ffmpeg prints them (component prefix included), one sample per API and format generation.

test('v4l2 format listing: raw and compressed modes with discrete sizes', () => {
  const modes = parseV4l2Formats([
    '[video4linux2,v4l2 @ 0x55d5c8] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 1280x720 1920x1080',
    '[video4linux2,v4l2 @ 0x55d5c8] Compressed:       mjpeg :          Motion-JPEG : 1920x1080',
    '[video4linux2,v4l2 @ 0x55d5c8] Raw       :        nv12 :         Y/CbCr 4:2:0 : {32-4096, 2}x{32-2304, 2}',
  ]);
  assert.equal(modes.length, 4);
  assert.deepEqual(modes[2], {
    width: 1920,
    height: 1080,
    pixelFormat: 'yuyv422',
    codec: null,
    minFps: null,
    maxFps: null,
  });
  assert.deepEqual(modes[3], {
    width: 1920,
    height: 1080,
    pixelFormat: null,
    codec: 'mjpeg',
    minFps: null,
    maxFps: null,
  });
});

test('DirectShow device and option listings (old and new ffmpeg), including 59.94 fps modes', () => {
  const newStyle = parseDshowDevices([
    '[dshow @ 000001e1] "USB3 Capture HD" (video)',
    '[dshow @ 000001e1]   Alternative name "@device_pnp_\\\\?\\usb#vid_534d"',
    '[dshow @ 000001e1] "Microphone (USB3 Capture HD)" (audio)',
  ]);
  assert.deepEqual(newStyle, ['USB3 Capture HD']);
  const oldStyle = parseDshowDevices([
    '[dshow @ 0x1] DirectShow video devices (some may be both video and audio devices)',
    '[dshow @ 0x1]  "Integrated Camera"',
    '[dshow @ 0x1]     Alternative name "@device_pnp_x"',
    '[dshow @ 0x1] DirectShow audio devices',
    '[dshow @ 0x1]  "Microphone"',
  ]);
  assert.deepEqual(oldStyle, ['Integrated Camera']);
  const modes = parseDshowOptions([
    '[dshow @ 0x1] DirectShow video device options (from video devices)',
    '[dshow @ 0x1]  Pin "Capture" (alternative pin name "0")',
    '[dshow @ 0x1]   vcodec=mjpeg  min s=1920x1080 fps=59.9402 max s=1920x1080 fps=59.9402 (tv, bt470bg/bt709/unknown, topleft)',
    '[dshow @ 0x1]   pixel_format=yuyv422  min s=640x480 fps=5 max s=640x480 fps=30.0003',
    '[dshow @ 0x1]   pixel_format=nv12  min s=1920x1080 fps=60 max s=1920x1080 fps=60',
  ]);
  assert.equal(modes.length, 3);
  assert.equal(modes[0]!.codec, 'mjpeg');
  assert.equal(modes[0]!.maxFps, 60000 / 1001);
  assert.equal(modes[1]!.pixelFormat, 'yuyv422');
  assert.equal(modes[1]!.minFps, 5);
  assert.equal(modes[1]!.maxFps, 30);
  assert.equal(modes[2]!.maxFps, 60);
});

test('AVFoundation devices and supported modes', () => {
  assert.deepEqual(
    parseAvfoundationDevices([
      '[AVFoundation indev @ 0x7f9] AVFoundation video devices:',
      '[AVFoundation indev @ 0x7f9] [0] FaceTime HD Camera',
      '[AVFoundation indev @ 0x7f9] [1] Capture screen 0',
      '[AVFoundation indev @ 0x7f9] AVFoundation audio devices:',
      '[AVFoundation indev @ 0x7f9] [0] MacBook Pro Microphone',
    ]),
    [
      { id: '0', name: 'FaceTime HD Camera' },
      { id: '1', name: 'Capture screen 0' },
    ],
  );
  const modes = parseAvfoundationModes([
    '[avfoundation @ 0x7f] Supported modes:',
    '[avfoundation @ 0x7f]   1920x1080@[1.000000 59.940060]fps',
    '[avfoundation @ 0x7f]   1280x720@[1.000000 30.000000]fps',
  ]);
  assert.equal(modes[0]!.maxFps, 60000 / 1001);
  assert.equal(modes[1]!.maxFps, 30);
});

test('frame rates become exact ffmpeg rationals', () => {
  assert.equal(frameRateArg(59.94), '60000/1001');
  assert.equal(frameRateArg(29.97), '30000/1001');
  assert.equal(frameRateArg(23.976), '24000/1001');
  assert.equal(frameRateArg(60), '60');
  assert.equal(frameRateArg(25), '25');
});

test('device listing runs on this machine (lists what exists, none here is fine) and pixel formats are known', async () => {
  const devices = await listCaptureDevices();
  assert.ok(Array.isArray(devices));
  for (const d of devices) assert.ok(d.modes.length > 0, `${d.name} lists modes`);
  const formats = await knownPixelFormats();
  assert.ok(formats.has('yuyv422') && formats.has('rgb24') && formats.has('nv12'));
});
