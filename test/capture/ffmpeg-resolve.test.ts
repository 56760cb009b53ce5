import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  FfmpegFeatureError,
  FfmpegNotFoundError,
  ffmpegStaticPath,
  parseEncoders,
  parseMajorVersion,
  parseProtocols,
  requireFfmpeg,
  resolveFfmpeg,
} from '../../src/engine/capture/ffmpeg.js';
import { tempDir } from './helpers.js';

/** Packages out of the way: only FFMPEG_PATH and PATH decide. */
const NO_PACKAGES = { staticPath: null, installerPath: null } as const;

test('ffmpeg resolves from PATH when no package provides one and FFMPEG_PATH is unset', async () => {
  const found = await resolveFfmpeg({ ...NO_PACKAGES, env: { PATH: process.env.PATH } });
  assert.equal(found.origin, 'PATH');
  assert.match(found.versionLine, /^ffmpeg version/);
  // Every build the product meets has these; their absence would mean the probe parsed nothing.
  assert.ok(found.capabilities.protocols.has('file'), 'file protocol probed');
  assert.ok(found.capabilities.encoders.has('rawvideo'), 'rawvideo encoder probed');
});

test('order: FFMPEG_PATH, then ffmpeg-static, then @ffmpeg-installer, then PATH', async () => {
  const onPath = await resolveFfmpeg({ ...NO_PACKAGES, env: { PATH: process.env.PATH } });
  const { dir, cleanup } = await tempDir('ffpath');
  try {
    // Real executables that answer like ffmpeg does (shell wrappers around the real one).
    const wrapper = async (name: string): Promise<string> => {
      const file = path.join(dir, name);
      await writeFile(file, `#!/bin/sh\nexec ${onPath.path} "$@"\n`);
      await chmod(file, 0o755);
      return file;
    };
    const user = await wrapper('user-ffmpeg');
    const fromStatic = await wrapper('static-ffmpeg');
    const fromInstaller = await wrapper('installer-ffmpeg');
    const env = { PATH: process.env.PATH };
    const all = { staticPath: fromStatic, installerPath: fromInstaller };
    const viaEnv = await resolveFfmpeg({ ...all, env: { ...env, FFMPEG_PATH: user } });
    assert.deepEqual([viaEnv.origin, viaEnv.path], ['FFMPEG_PATH', user]);
    const viaStatic = await resolveFfmpeg({ ...all, env });
    assert.deepEqual([viaStatic.origin, viaStatic.path], ['ffmpeg-static', fromStatic]);
    const viaInstaller = await resolveFfmpeg({ staticPath: null, installerPath: fromInstaller, env });
    assert.deepEqual([viaInstaller.origin, viaInstaller.path], ['@ffmpeg-installer', fromInstaller]);
    // A broken user choice is reported, and the next candidate is used.
    const pastBroken = await resolveFfmpeg({ ...all, env: { ...env, FFMPEG_PATH: path.join(dir, 'nope') } });
    assert.equal(pastBroken.origin, 'ffmpeg-static');
  } finally {
    await cleanup();
  }
});

test('when no candidate works the error names all four and why', async () => {
  const { dir, cleanup } = await tempDir('ffnone');
  try {
    const broken = path.join(dir, 'not-ffmpeg');
    await writeFile(broken, '#!/bin/sh\nexit 3\n');
    await chmod(broken, 0o755);
    const notExecutable = path.join(dir, 'ffmpeg-no-x');
    await writeFile(notExecutable, '#!/bin/sh\nexit 0\n');
    await assert.rejects(
      resolveFfmpeg({
        staticPath: null,
        installerPath: notExecutable,
        env: { PATH: dir, FFMPEG_PATH: broken },
      }),
      (err: unknown) => {
        assert.ok(err instanceof FfmpegNotFoundError);
        assert.deepEqual(
          err.attempts.map((a) => a.origin),
          ['FFMPEG_PATH', 'ffmpeg-static', '@ffmpeg-installer', 'PATH'],
        );
        assert.match(err.message, /FFMPEG_PATH: .*not-ffmpeg/);
        assert.match(err.message, /ffmpeg-static: package not installed/);
        assert.match(err.message, /@ffmpeg-installer: .*ffmpeg-no-x is not executable/);
        assert.match(err.message, /PATH: ffmpeg not found/);
        return true;
      },
    );
  } finally {
    await cleanup();
  }
});

test('version, protocol and encoder listings of ffmpeg 4.1 and 5.1 are parsed', async () => {
  const p = await ffmpegStaticPath();
  assert.ok(p === null || typeof p === 'string');
  assert.equal(parseMajorVersion('ffmpeg version 5.1.9-0+deb12u1 Copyright'), 5);
  assert.equal(parseMajorVersion('ffmpeg version n6.1.1 Copyright'), 6);
  assert.equal(parseMajorVersion('ffmpeg version N-47683-g0e8eb07980-static https://'), null);
  const protocols = parseProtocols(
    'Supported file protocols:\nInput:\n  file\n  srt\n  udp\nOutput:\n  file\n  icecast\n  md5\n',
  );
  assert.deepEqual([...protocols].sort(), ['file', 'srt', 'udp']);
  const encoders = parseEncoders(
    'Encoders:\n V..... = Video\n ------\n V....D libx264              libx264 H.264 / AVC\n' +
      ' VFS..D ffv1                 FFmpeg video codec #1\n A....D aac                  AAC\n',
  );
  assert.deepEqual([...encoders].sort(), ['aac', 'ffv1', 'libx264']);
});

test('a missing feature is named with the binary that lacks it', async () => {
  const found = await resolveFfmpeg({ ...NO_PACKAGES, env: { PATH: process.env.PATH } });
  const without = { ...found, capabilities: { ...found.capabilities, protocols: new Set(['file', 'udp']) } };
  requireFfmpeg(without, { protocols: ['udp'] }, 'capture from udp://127.0.0.1:5000');
  assert.throws(
    () => requireFfmpeg(without, { protocols: ['srt'] }, 'capture from srt://127.0.0.1:5000'),
    (err: unknown) => {
      assert.ok(err instanceof FfmpegFeatureError);
      assert.match(err.message, /^capture from srt:\/\/127\.0\.0\.1:5000 needs ffmpeg's 'srt' protocol/);
      assert.match(err.message, /PATH: ffmpeg, 5?\S*/);
      assert.match(err.message, /FFMPEG_PATH/);
      return true;
    },
  );
});
