// Stereo in one stream: side-by-side, top-bottom and line-interleaved frames are split into the two
// views the stereo stage matches; a frame whose size does not fit the declared layout is refused by name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DatasetFrameSource } from '../../src/engine/capture/dataset-source.js';
import {
  type PackedStereoLayout,
  StereoLayoutError,
  packedFrameSize,
  splitPackedStereo,
} from '../../src/engine/capture/stereo-layout.js';
import { readRgbPng, writeRgbPng } from '../../src/engine/dataset/images.js';
import type { RgbImage } from '../../src/shared/frames.js';
import { writePhantomDataset } from '../../src/synth/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LAYOUTS: PackedStereoLayout[] = ['side-by-side', 'top-bottom', 'line-interleaved'];
let tmp = '';
let separate = '';

function image(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3).map((_, i) => (i * 31 + seed * 17) % 251);
  return { width, height, data };
}

/** The reference packing, written independently of the code under test. */
function pack(left: RgbImage, right: RgbImage, layout: PackedStereoLayout): RgbImage {
  const { width: w, height: h } = left;
  const size = packedFrameSize(layout, left);
  const out = new Uint8Array(size.width * size.height * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const v = (img: RgbImage) => img.data[3 * (y * w + x) + c]!;
        const at = (px: number, py: number) => 3 * (py * size.width + px) + c;
        if (layout === 'side-by-side') {
          out[at(x, y)] = v(left);
          out[at(x + w, y)] = v(right);
        } else if (layout === 'top-bottom') {
          out[at(x, y)] = v(left);
          out[at(x, y + h)] = v(right);
        } else {
          out[at(x, 2 * y)] = v(left);
          out[at(x, 2 * y + 1)] = v(right);
        }
      }
    }
  }
  return { ...size, data: out };
}

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'navws-stereo-layout-'));
  separate = path.join(tmp, 'separate');
  await writePhantomDataset(separate, { seed: 5, frames: 8 }, { stereoBaselineMm: 4 });
});
after(() => rm(tmp, { recursive: true, force: true }));

/** The separate dataset repacked: rgb/ holds both views per frame, no right/, stereo.json says how. */
async function packedDataset(layout: PackedStereoLayout, declared: string = layout): Promise<string> {
  const dir = path.join(tmp, `${layout}-as-${declared}`);
  await cp(separate, dir, { recursive: true });
  await rm(path.join(dir, 'right'), { recursive: true });
  for (const name of await readdir(path.join(separate, 'rgb'))) {
    const left = await readRgbPng(path.join(separate, 'rgb', name));
    const right = await readRgbPng(path.join(separate, 'right', name));
    await writeRgbPng(path.join(dir, 'rgb', name), pack(left, right, layout));
  }
  const profile = JSON.parse(await readFile(path.join(separate, 'stereo.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  await writeFile(path.join(dir, 'stereo.json'), JSON.stringify({ ...profile, layout: declared }));
  return dir;
}

test('packed frames split into exactly their two views, in every layout', () => {
  const left = image(7, 5, 1);
  const right = image(7, 5, 2);
  for (const layout of LAYOUTS) {
    const views = splitPackedStereo(pack(left, right, layout), layout, left, 'test');
    assert.deepEqual(views.left.data, left.data, `${layout} left`);
    assert.deepEqual(views.right.data, right.data, `${layout} right`);
  }
  assert.throws(
    () => splitPackedStereo(pack(left, right, 'side-by-side'), 'top-bottom', left, 'stream.mp4 frame 3'),
    (err: unknown) =>
      err instanceof StereoLayoutError &&
      /^stream\.mp4 frame 3: a top-bottom stereo frame of 7x5 views must be 7x10, got 14x5/.test(err.message),
  );
});

test('a packed stereo dataset gives the same frames as the one with separate views', async () => {
  const reference = await DatasetFrameSource.open(separate);
  const want = [];
  for await (const f of reference) want.push(f);
  for (const layout of LAYOUTS) {
    const source = await DatasetFrameSource.open(await packedDataset(layout));
    assert.equal(source.info.width, reference.info.width);
    assert.match(source.info.description, new RegExp(`${layout} stereo`));
    let n = 0;
    for await (const f of source) {
      assert.deepEqual(f.image.data, want[n]!.image.data, `${layout} frame ${n} left`);
      assert.deepEqual(f.right!.data, want[n]!.right!.data, `${layout} frame ${n} right`);
      n++;
    }
    assert.equal(n, want.length);
  }
});

test('navws reconstruct --depth stereo on a side-by-side stream; a layout that does not match is named', async () => {
  const navws = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'navws.ts'), ...args], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
    });
  const outA = path.join(tmp, 'out-separate');
  const outB = path.join(tmp, 'out-sbs');
  const a = navws('reconstruct', separate, '--depth', 'stereo', '--out', outA, '--quiet');
  assert.equal(a.status, 0, a.stderr);
  const b = navws(
    'reconstruct',
    await packedDataset('side-by-side'),
    '--depth',
    'stereo',
    '--out',
    outB,
    '--quiet',
  );
  assert.equal(b.status, 0, b.stderr);
  // The same views in, the same poses out.
  assert.equal(
    await readFile(path.join(outB, 'trajectory.txt'), 'utf8'),
    await readFile(path.join(outA, 'trajectory.txt'), 'utf8'),
  );
  const wrong = navws(
    'reconstruct',
    await packedDataset('side-by-side', 'top-bottom'),
    '--depth',
    'stereo',
    '--out',
    path.join(tmp, 'out-wrong'),
    '--quiet',
  );
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stderr, /a top-bottom stereo frame of \d+x\d+ views must be/);
});
