import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  FfmpegNotFoundError,
  ffmpegStaticPath,
  parseMajorVersion,
  resolveFfmpeg,
} from '../../src/engine/capture/ffmpeg.js';
import { tempDir } from './helpers.js';

test('ffmpeg resolves from PATH when ffmpeg-static is absent and FFMPEG_PATH is unset', async () => {
  const found = await resolveFfmpeg({ staticPath: null, env: { PATH: process.env.PATH } });
  assert.equal(found.origin, 'PATH');
  assert.match(found.versionLine, /^ffmpeg version/);
});

test('FFMPEG_PATH is used before PATH and ffmpeg-static before both', async () => {
  const onPath = await resolveFfmpeg({ staticPath: null, env: { PATH: process.env.PATH } });
  const { dir, cleanup } = await tempDir('ffpath');
  try {
    // A real executable that answers -version like ffmpeg does (a shell wrapper around the real one).
    const real = path.join(dir, 'ffmpeg-wrapper');
    await writeFile(real, `#!/bin/sh\nexec ${onPath.path === 'ffmpeg' ? 'ffmpeg' : onPath.path} "$@"\n`);
    await chmod(real, 0o755);
    const viaEnv = await resolveFfmpeg({
      staticPath: null,
      env: { PATH: process.env.PATH, FFMPEG_PATH: real },
    });
    assert.equal(viaEnv.origin, 'FFMPEG_PATH');
    assert.equal(viaEnv.path, real);
    const viaStatic = await resolveFfmpeg({
      staticPath: real,
      env: { PATH: process.env.PATH, FFMPEG_PATH: '/nope' },
    });
    assert.equal(viaStatic.origin, 'ffmpeg-static');
  } finally {
    await cleanup();
  }
});

test('when no candidate works the error names all three', async () => {
  const { dir, cleanup } = await tempDir('ffnone');
  try {
    const broken = path.join(dir, 'not-ffmpeg');
    await writeFile(broken, '#!/bin/sh\nexit 3\n');
    await chmod(broken, 0o755);
    await assert.rejects(
      resolveFfmpeg({ staticPath: null, env: { PATH: dir, FFMPEG_PATH: broken } }),
      (err: unknown) => {
        assert.ok(err instanceof FfmpegNotFoundError);
        assert.match(err.message, /ffmpeg-static: package not installed/);
        assert.match(err.message, /FFMPEG_PATH: .*not-ffmpeg/);
        assert.match(err.message, /PATH: ffmpeg not found/);
        assert.equal(err.attempts.length, 3);
        return true;
      },
    );
  } finally {
    await cleanup();
  }
});

test('the optional ffmpeg-static package is tolerated when absent', async () => {
  const p = await ffmpegStaticPath();
  assert.ok(p === null || typeof p === 'string');
  assert.equal(parseMajorVersion('ffmpeg version 5.1.9-0+deb12u1 Copyright'), 5);
  assert.equal(parseMajorVersion('ffmpeg version n6.1.1 Copyright'), 6);
  assert.equal(parseMajorVersion('ffmpeg version N-112345-gabc Copyright'), null);
});
