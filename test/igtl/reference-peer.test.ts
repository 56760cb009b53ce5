import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poseInFrame, positionsInFrame } from '../../src/engine/igtl/coordinates.js';
import { IGTL_DEVICES, IgtlPublisher, DEFAULT_IGTL_SETTINGS } from '../../src/engine/igtl/publisher.js';
import { IgtlServer } from '../../src/engine/igtl/server.js';
import type { DepthImage, RgbImage } from '../../src/shared/frames.js';
import type { Mat4 } from '../../src/shared/math/mat4.js';
import { se3Exp } from '../../src/shared/math/se3.js';
import type { TriangleMesh } from '../../src/shared/mesh.js';
import { type PeerMessage, fnv1a, peerTime, referencePeer, startPeer } from './peer.js';

const peer = referencePeer();
const skip = 'missing' in peer ? peer.missing : false;

function frameImage(i: number): RgbImage {
  const width = 64;
  const height = 48;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < data.length; p++) data[p] = (p * 7 + i * 13) & 0xff;
  return { width, height, data };
}

function frameDepth(i: number): DepthImage {
  const data = new Float32Array(64 * 48);
  for (let p = 0; p < data.length; p++) data[p] = p % 11 === 0 ? 0 : 40 + (p % 97) * 0.25 + i;
  return { width: 64, height: 48, data };
}

function posePath(i: number): Mat4 {
  return se3Exp([0.5 * i, -0.2 * i, 1.5 * i, 0.01 * i, 0.02 * i, -0.015 * i]);
}

function gridMesh(n: number): TriangleMesh {
  const positions: number[] = [];
  const colors: number[] = [];
  const indices: number[] = [];
  for (let y = 0; y <= n; y++)
    for (let x = 0; x <= n; x++) {
      positions.push(x * 0.5 - 3, y * 0.25 + 1, 40 + 0.1 * x * y);
      colors.push(x * 10, y * 10, 200);
    }
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const a = y * (n + 1) + x;
      indices.push(a, a + 1, a + n + 1, a + 1, a + n + 2, a + n + 1);
    }
  return {
    positions: Float32Array.from(positions),
    colors: Uint8Array.from(colors),
    indices: Uint32Array.from(indices),
  };
}

function bounds(p: Float32Array): { min: number[]; max: number[] } {
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < p.length; i++) {
    min[i % 3] = Math.min(min[i % 3]!, p[i]!);
    max[i % 3] = Math.max(max[i % 3]!, p[i]!);
  }
  return { min, max };
}

function assertMatrixClose(got: number[], want: Mat4, tol: number, what: string): void {
  for (let i = 0; i < 16; i++)
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol, `${what}: element ${i} ${got[i]} vs ${want[i]}`);
}

test(
  'libOpenIGTLink receives and decodes TRANSFORM, IMAGE (video, depth), POLYDATA and STATUS',
  { skip },
  async () => {
    const binary = (peer as { binary: string }).binary;
    const server = await IgtlServer.listen({ port: 0 });
    const publisher = new IgtlPublisher(
      server,
      {
        ...DEFAULT_IGTL_SETTINGS,
        sendDepth: true,
        imageMaxHz: 1000,
        meshMaxTriangles: 1_000_000,
        meshIntervalS: 0,
      },
      { epochS: 1_700_000_000 },
    );
    const client = startPeer(binary, server.address.port);
    await client.connected;
    await server.waitForClients(1);
    const frames = 5;
    for (let i = 0; i < frames; i++) {
      publisher.frame({
        index: i,
        timestamp: i / 30,
        rgb: frameImage(i),
        depth: frameDepth(i),
        pose: i === 3 ? null : posePath(i),
        trackingState: i === 0 ? 'initialising' : i === 3 ? 'lost' : 'tracking',
      });
      await new Promise((r) => setTimeout(r, 10));
    }
    const mesh = gridMesh(20);
    publisher.surface({ reset: true, changed: [{ key: 'b0', mesh }], removed: [] });
    await publisher.close();
    await server.close();
    const got = await client.done;

    assert.ok(
      got.every((m) => m.crc),
      'every message passes the library CRC check',
    );
    const transforms = got.filter((m) => m.type === 'TRANSFORM');
    assert.deepEqual(
      transforms.map((m) => Math.round((peerTime(m) - 1_700_000_000) * 30)),
      [0, 1, 2, 4],
      'one TRANSFORM per frame with a pose, stamped capture epoch + presentation time',
    );
    for (const m of transforms) {
      const i = Math.round((peerTime(m) - 1_700_000_000) * 30);
      assert.equal(m.device, IGTL_DEVICES.pose('ras'));
      assertMatrixClose(m.m as number[], poseInFrame(posePath(i), 'ras'), 1e-5, `TRANSFORM ${i}`);
    }
    const videos = got.filter((m) => m.type === 'IMAGE' && m.device === IGTL_DEVICES.video);
    assert.equal(videos.length, frames);
    videos.forEach((m, i) => {
      assert.deepEqual(m.size, [64, 48, 1]);
      assert.equal(m.components, 3);
      assert.equal(m.scalar, 3);
      assert.equal(m.coord, 1, 'RAS');
      assert.equal(m.hash, fnv1a(frameImage(i).data), `video frame ${i} pixels`);
      // Columns along the camera's x (-> patient left), rows along y (-> inferior), normal = viewing direction (posterior).
      // normals[r][c], column c the direction of index c: i (columns) along the camera's x -> patient left,
      // j (rows, top first) along y -> inferior, k along the viewing direction -> posterior.
      assert.deepEqual(m.normals, [-1, 0, 0, 0, 0, -1, 0, -1, 0]);
      assert.deepEqual(m.spacing, [1, 1, 1]);
    });
    const depths = got.filter((m) => m.type === 'IMAGE' && m.device === IGTL_DEVICES.depth);
    assert.equal(depths.length, frames);
    depths.forEach((m, i) => {
      assert.equal(m.scalar, 10, 'float32');
      assert.equal(m.endian, 1, 'big-endian');
      const d = frameDepth(i).data;
      const be = Buffer.alloc(4 * d.length);
      d.forEach((v, k) => be.writeFloatBE(v, 4 * k));
      assert.equal(m.hash, fnv1a(be), `depth ${i}`);
    });
    const statuses = got.filter((m) => m.type === 'STATUS');
    assert.deepEqual(
      statuses.map((m) => [m.code, m.error, m.message]),
      [
        [13, 'INITIALISING', 'tracking initialising'],
        [1, '', 'tracking'],
        [16, 'TRACKING_LOST', 'tracking lost'],
        [1, '', 'tracking'],
      ],
    );
    const polys = got.filter((m) => m.type === 'POLYDATA');
    assert.equal(polys.length, 1);
    const poly = polys[0]!;
    assert.equal(poly.device, IGTL_DEVICES.surface);
    assert.equal(poly.points, mesh.positions.length / 3);
    assert.equal(poly.polygons, mesh.indices.length / 3);
    assert.equal(poly.triangles, true);
    const b = bounds(positionsInFrame(mesh, 'ras'));
    assert.deepEqual(poly.min, b.min);
    assert.deepEqual(poly.max, b.max);
    const colours = poly.attributes as unknown as {
      name: string;
      type: number;
      components: number;
      size: number;
      first: number[];
    }[];
    assert.equal(colours.length, 1);
    assert.deepEqual(
      {
        name: colours[0]!.name,
        type: colours[0]!.type,
        components: colours[0]!.components,
        size: colours[0]!.size,
      },
      { name: 'Colors', type: 4, components: 4, size: mesh.positions.length / 3 },
    );
    const c0 = [...mesh.colors!.subarray(0, 3)].map((v) => v / 255);
    colours[0]!.first
      .slice(0, 3)
      .forEach((v, k) => assert.ok(Math.abs(v - c0[k]!) < 1e-6, 'RGBA of vertex 0'));
  },
);
