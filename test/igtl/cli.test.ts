import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DatasetFrameSource } from '../../src/engine/capture/dataset-source.js';
import { readTum } from '../../src/engine/dataset/trajectory.js';
import { readPly } from '../../src/engine/formats/ply.js';
import { poseInFrame, positionsInFrame } from '../../src/engine/igtl/coordinates.js';
import { IGTL_DEVICES } from '../../src/engine/igtl/publisher.js';
import type { Mat4 } from '../../src/shared/math/mat4.js';
import { type PeerMessage, fnv1a, peerTime, referencePeer, startPeer } from './peer.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sample = path.join(root, 'samples', 'phantom');
const peer = referencePeer();
const skip = 'missing' in peer ? peer.missing : false;
const FRAMES = 40;
let out = '';

before(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'navws-igtl-cli-'));
});
after(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

/** Runs navws with an OpenIGTLink server on a free port; connects the reference peer once it listens. */
async function navwsWithPeer(
  args: string[],
): Promise<{ status: number | null; stderr: string; messages: PeerMessage[] }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src', 'cli', 'navws.ts'), ...args],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  let receiver: ReturnType<typeof startPeer> | null = null;
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    const m = /OpenIGTLink server listening on [^\s:]+:(\d+)/.exec(stderr);
    if (m && !receiver) receiver = startPeer((peer as { binary: string }).binary, Number(m[1]));
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.ok(receiver, `navws never listened: ${stderr}`);
  const messages = await (receiver as ReturnType<typeof startPeer>).done;
  return { status, stderr, messages };
}

function matrixError(got: number[], want: Mat4): number {
  let e = 0;
  for (let i = 0; i < 16; i++) e = Math.max(e, Math.abs(got[i]! - want[i]!));
  return e;
}

async function checkAgainstRun(messages: PeerMessage[], what: string): Promise<void> {
  assert.ok(
    messages.every((m) => m.crc),
    `${what}: every message passes the library's CRC check`,
  );
  const trajectory = await readTum(path.join(out, 'trajectory.txt'));
  assert.equal(trajectory.length, FRAMES);
  const transforms = messages.filter((m) => m.type === 'TRANSFORM');
  assert.equal(transforms.length, trajectory.length, `${what}: one TRANSFORM per trajectory pose`);
  // Stamp = capture epoch + presentation time: the same offset for every pose.
  const offset = peerTime(transforms[0]!) - trajectory[0]!.timestamp;
  transforms.forEach((m, k) => {
    assert.equal(m.device, IGTL_DEVICES.pose('ras'));
    const p = trajectory[k]!;
    assert.ok(Math.abs(peerTime(m) - offset - p.timestamp) < 1e-5, `${what}: stamp of pose ${k}`);
    const err = matrixError(m.m as number[], poseInFrame(p.pose, 'ras'));
    assert.ok(err < 1e-4, `${what}: pose ${k} differs from trajectory.txt by ${err}`);
  });

  const mesh = await readPly(path.join(out, 'mesh.ply'));
  const polys = messages.filter((m) => m.type === 'POLYDATA');
  assert.ok(polys.length >= 1, `${what}: the surface arrived`);
  const last = polys[polys.length - 1]!;
  assert.equal(last.points, mesh.positions.length / 3, `${what}: vertex count of mesh.ply`);
  assert.equal(last.polygons, mesh.indices.length / 3, `${what}: triangle count of mesh.ply`);
  const p = positionsInFrame(mesh, 'ras');
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  p.forEach((v, i) => {
    min[i % 3] = Math.min(min[i % 3]!, v);
    max[i % 3] = Math.max(max[i % 3]!, v);
  });
  // The peer prints float32 values with 9 significant digits: round them back to float32.
  const f32 = (v: unknown) => (v as number[]).map((x) => Math.fround(x));
  assert.deepEqual([f32(last.min), f32(last.max)], [min, max], `${what}: bounds of mesh.ply (RAS)`);

  const images = messages.filter((m) => m.type === 'IMAGE' && m.device === IGTL_DEVICES.video);
  assert.ok(images.length >= 1, `${what}: video arrived`);
  const source = await DatasetFrameSource.open(sample);
  const hashes = new Map<number, string>();
  for await (const f of source.frames({ maxFrames: FRAMES })) hashes.set(f.index, fnv1a(f.image.data));
  for (const m of images) {
    const index = Math.round((peerTime(m) - offset) * 30);
    assert.deepEqual(m.size, [384, 288, 1]);
    assert.equal(m.hash, hashes.get(index), `${what}: IMAGE of frame ${index} equals the video frame`);
  }
}

test(
  'navws reconstruct --igtl streams the run to the reference peer: poses = trajectory.txt, surface = mesh.ply, images = the frames',
  { skip },
  async () => {
    const r = await navwsWithPeer([
      'reconstruct',
      sample,
      '--out',
      out,
      '--depth',
      'gt',
      '--poses',
      'gt',
      '--max-frames',
      String(FRAMES),
      '--igtl',
      '127.0.0.1:0',
      '--igtl-wait',
      '1',
      '--igtl-triangles',
      '10000000',
    ]);
    assert.equal(r.status, 0, r.stderr);
    await checkAgainstRun(r.messages, 'reconstruct');
  },
);

test('navws igtl-replay streams the recorded run with the same values', { skip }, async () => {
  const r = await navwsWithPeer([
    'igtl-replay',
    out,
    '--igtl',
    '127.0.0.1:0',
    '--igtl-wait',
    '1',
    '--speed',
    '8',
    '--igtl-triangles',
    '10000000',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`igtl-replay: ${FRAMES} frames \\(${FRAMES} with video\\)`));
  await checkAgainstRun(r.messages, 'replay');
});

test('bad --igtl flags end with a one-line usage error', async () => {
  const { spawnSync } = await import('node:child_process');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'navws.ts'), ...args], {
      cwd: root,
      encoding: 'utf8',
    });
  const cases: [string[], RegExp][] = [
    [
      ['reconstruct', sample, '--out', '/tmp/x', '--igtl', 'host:notaport'],
      /--igtl: OpenIGTLink address must be \[host:\]port/,
    ],
    [['reconstruct', sample, '--out', '/tmp/x', '--igtl-wait', '1'], /--igtl-wait needs --igtl/],
    [
      ['reconstruct', sample, '--out', '/tmp/x', '--igtl', '0', '--igtl-frame', 'xyz'],
      /--igtl-frame must be ras or lps/,
    ],
    [['igtl-replay', '/no/such/run'], /no such run folder/],
  ];
  for (const [args, reason] of cases) {
    const r = run(...args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr.trim().split('\n').pop()!, reason);
  }
});
