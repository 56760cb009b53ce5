/**
 * The README's first command on a machine without a system ffmpeg: with FFMPEG_PATH unset and PATH's
 * `ffmpeg` failing, the product must find the npm-installed binary and decode the bundled clip exactly
 * as the system ffmpeg does. The product's own resolution and decoder run in a child process whose
 * environment hides ffmpeg, so nothing of this process's cached resolution leaks in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, tempDir } from './helpers.js';

const run = promisify(execFile);
const CLIP = path.join(REPO_ROOT, 'samples', 'phantom', 'rgb.mp4');
const INSTALLED =
  existsSync(path.join(REPO_ROOT, 'node_modules', 'ffmpeg-static')) ||
  existsSync(
    path.join(REPO_ROOT, 'node_modules', '@ffmpeg-installer', `${process.platform}-${process.arch}`),
  );

interface Decoded {
  origin: string;
  versionLine: string;
  frames: { index: number; timestamp: number; sha256: string }[];
}

// Runs in the child: resolve as the product does, decode every frame, hash it.
const CHILD = `
import { createHash } from 'node:crypto';
import { getFfmpeg } from ${JSON.stringify(path.join(REPO_ROOT, 'src/engine/capture/ffmpeg.ts'))};
import { VideoFileFrameSource } from ${JSON.stringify(path.join(REPO_ROOT, 'src/engine/capture/video-file-source.ts'))};
const binary = await getFfmpeg();
const source = await VideoFileFrameSource.open(${JSON.stringify(CLIP)});
const frames = [];
for await (const f of source) frames.push({ index: f.index, timestamp: f.timestamp,
  sha256: createHash('sha256').update(f.image.data).digest('hex') });
process.stdout.write(JSON.stringify({ origin: binary.origin, versionLine: binary.versionLine, frames }));
`;

async function decodeWith(env: NodeJS.ProcessEnv): Promise<Decoded> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: REPO_ROOT,
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Decoded;
}

test(
  'without a system ffmpeg the npm-installed one is used and decodes the sample frame-exactly',
  {
    skip: INSTALLED
      ? false
      : 'neither ffmpeg-static nor @ffmpeg-installer is installed (npm ci installs them)',
    timeout: 120_000,
  },
  async (t) => {
    const { dir, cleanup } = await tempDir('noffmpeg');
    try {
      // What a fresh machine looks like to the product: an `ffmpeg` on PATH that does not work.
      await writeFile(path.join(dir, 'ffmpeg'), '#!/bin/sh\necho "ffmpeg: not installed" >&2\nexit 127\n');
      await chmod(path.join(dir, 'ffmpeg'), 0o755);
      const { FFMPEG_PATH: _unset, ...base } = process.env;
      const hidden = await decodeWith({ ...base, PATH: `${dir}${path.delimiter}${base.PATH ?? ''}` });
      assert.ok(
        hidden.origin === 'ffmpeg-static' || hidden.origin === '@ffmpeg-installer',
        `resolved from ${hidden.origin}`,
      );
      const gt = readFileSync(path.join(REPO_ROOT, 'samples/phantom/groundtruth.txt'), 'utf8');
      const poses = gt.split('\n').filter((l) => l.trim() && !l.startsWith('#')).length;
      assert.equal(hidden.frames.length, poses, 'one decoded frame per ground-truth pose');
      assert.deepEqual(
        hidden.frames.map((f) => f.index),
        hidden.frames.map((_, i) => i),
      );

      // The same clip through the system ffmpeg (the reference the sample's depth and poses were made with).
      const system = await run('sh', ['-c', 'command -v ffmpeg']).then(
        (r) => r.stdout.trim(),
        () => '',
      );
      if (!system) {
        t.diagnostic('no system ffmpeg here: frame count and order checked, bytes not compared');
        return;
      }
      const systemRun = await decodeWith({ ...base, FFMPEG_PATH: system });
      assert.equal(systemRun.origin, 'FFMPEG_PATH');
      assert.equal(systemRun.frames.length, hidden.frames.length);
      for (let i = 0; i < hidden.frames.length; i++) {
        assert.equal(hidden.frames[i]!.sha256, systemRun.frames[i]!.sha256, `frame ${i} pixels`);
        assert.ok(
          Math.abs(hidden.frames[i]!.timestamp - systemRun.frames[i]!.timestamp) < 1e-6,
          `frame ${i} time`,
        );
      }
      t.diagnostic(
        `${hidden.origin} (${hidden.versionLine.slice(0, 60)}) vs ${systemRun.versionLine.slice(0, 40)}: ${hidden.frames.length} frames identical`,
      );
    } finally {
      await cleanup();
    }
  },
);
