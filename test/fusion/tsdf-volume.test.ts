import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PinholeIntrinsics } from '../../src/shared/camera.js';
import { type Vec3, dot3, identity4, norm3, sub3 } from '../../src/shared/math/mat4.js';
import { TsdfVolume } from '../../src/workers/fusion/tsdf-volume.js';
import { type Shape, distanceToScene, lookAt, meshTopology, renderScene, viewsAround } from './analytic.js';

const K: PinholeIntrinsics = { width: 160, height: 120, fx: 140, fy: 140, cx: 79.5, cy: 59.5 };
const SPHERE_CENTRE: Vec3 = [0, 0, 0];
const SPHERE: Shape[] = [{ kind: 'sphere', centre: SPHERE_CENTRE, radius: 10 }];

function fuseSphere(voxelSize: number, views = 24): TsdfVolume {
  const vol = new TsdfVolume({ voxelSize, truncation: 4 * voxelSize });
  for (const pose of viewsAround(SPHERE_CENTRE, 40, views)) {
    const { depth, rgb } = renderScene(SPHERE, pose, K);
    vol.integrate({ depth, rgb, pose, intrinsics: K });
  }
  return vol;
}

test('closed sphere fused from all around is watertight with Euler characteristic 2', () => {
  const vol = fuseSphere(1);
  const mesh = vol.extractMesh();
  const topo = meshTopology(mesh.indices);
  assert.ok(topo.faces > 1000, `expected a dense sphere mesh, got ${topo.faces} triangles`);
  assert.equal(topo.boundaryEdges, 0, 'a closed surface has no boundary edges (cracks)');
  assert.equal(topo.nonManifoldEdges, 0, 'every edge is shared by exactly two triangles');
  assert.equal(topo.inconsistentEdges, 0, 'neighbouring triangles wind consistently');
  assert.equal(topo.vertices, mesh.positions.length / 3, 'no unreferenced vertices');
  assert.equal(topo.euler, 2);
});

test('sphere vertices lie within half a voxel of the true surface; normals and winding face outwards', () => {
  for (const voxel of [1, 0.5]) {
    const vol = fuseSphere(voxel);
    const mesh = vol.extractMesh();
    const n = mesh.positions.length / 3;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const p: Vec3 = [mesh.positions[3 * i]!, mesh.positions[3 * i + 1]!, mesh.positions[3 * i + 2]!];
      worst = Math.max(worst, distanceToScene(SPHERE, p));
      const radial = sub3(p, SPHERE_CENTRE);
      const nrm: Vec3 = [mesh.normals[3 * i]!, mesh.normals[3 * i + 1]!, mesh.normals[3 * i + 2]!];
      assert.ok(dot3(nrm, radial) / norm3(radial) > 0.9, `normal of vertex ${i} does not point outwards`);
    }
    assert.ok(
      worst < voxel / 2,
      `worst vertex distance ${worst.toFixed(3)} mm >= half a voxel (${voxel / 2} mm)`,
    );
    let outward = 0;
    const tris = mesh.indices.length / 3;
    for (let t = 0; t < tris; t++) {
      const [a, b, c] = [0, 1, 2].map((j) => {
        const i = mesh.indices[3 * t + j]!;
        return [mesh.positions[3 * i]!, mesh.positions[3 * i + 1]!, mesh.positions[3 * i + 2]!] as Vec3;
      }) as [Vec3, Vec3, Vec3];
      const e1 = sub3(b, a);
      const e2 = sub3(c, a);
      const fn: Vec3 = [
        e1[1] * e2[2] - e1[2] * e2[1],
        e1[2] * e2[0] - e1[0] * e2[2],
        e1[0] * e2[1] - e1[1] * e2[0],
      ];
      if (dot3(fn, sub3(a, SPHERE_CENTRE)) > 0) outward++;
    }
    assert.ok(
      outward / tris > 0.99,
      `only ${outward} of ${tris} triangles wind counter-clockwise seen from outside`,
    );
  }
});

test('plane seen from several oblique poses: vertices within half a voxel', () => {
  const plane: Shape[] = [{ kind: 'plane', normal: [0, 0, -1], offset: -50 }];
  const vol = new TsdfVolume({ voxelSize: 1, truncation: 4, maxDepth: 120 });
  const eyes: Vec3[] = [
    [0, 0, 0],
    [10, 5, 5],
    [-12, 4, 8],
    [5, -10, -5],
  ];
  for (const eye of eyes) {
    const pose = lookAt(eye, [eye[0] * 0.3, eye[1] * 0.3, 50]);
    const { depth, rgb } = renderScene(plane, pose, K, 120);
    const stats = vol.integrate({ depth, rgb, pose, intrinsics: K });
    assert.ok(stats.touchedBlocks > 0 && stats.validPixels > 0, 'the plane frame is fused');
  }
  const mesh = vol.extractMesh();
  const n = mesh.positions.length / 3;
  assert.ok(n > 1000, `expected a large plane mesh, got ${n} vertices`);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    worst = Math.max(worst, Math.abs(mesh.positions[3 * i + 2]! - 50));
  }
  assert.ok(worst < 0.5, `worst vertex distance ${worst.toFixed(3)} mm from the plane`);
});

/** Triangles as sorted vertex-position triples, so meshes with different vertex numbering compare. */
function triangleSet(mesh: { positions: Float32Array; indices: Uint32Array }): string[] {
  const out: string[] = [];
  for (let t = 0; t < mesh.indices.length; t += 3) {
    const verts = [0, 1, 2].map((j) => {
      const i = mesh.indices[t + j]!;
      return `${mesh.positions[3 * i]},${mesh.positions[3 * i + 1]},${mesh.positions[3 * i + 2]}`;
    });
    // Rotate (not sort) so the winding is part of the identity.
    const first = verts.indexOf([...verts].sort()[0]!);
    out.push([0, 1, 2].map((j) => verts[(first + j) % 3]).join('|'));
  }
  return out.sort();
}

test('incremental extraction re-meshes only changed blocks and adds up to the full mesh', () => {
  const vol = new TsdfVolume({ voxelSize: 1, truncation: 4 });
  const held = new Map<string, { positions: Float32Array; indices: Uint32Array }>();
  const poses = viewsAround(SPHERE_CENTRE, 40, 24);
  let changedAfterOne = 0;
  for (let i = 0; i < poses.length; i++) {
    const { depth, rgb } = renderScene(SPHERE, poses[i]!, K);
    vol.integrate({ depth, rgb, pose: poses[i]!, intrinsics: K });
    if (i % 5 === 4 || i === poses.length - 1) {
      const update = vol.extractChangedBlocks();
      for (const b of update.changedBlocks) {
        assert.match(b.key, /^-?\d+,-?\d+,-?\d+$/);
        held.set(b.key, b.mesh);
      }
      for (const key of update.removedBlocks) held.delete(key);
      if (i === poses.length - 1) changedAfterOne = update.changedBlocks.length;
    }
  }
  assert.equal(vol.extractChangedBlocks().changedBlocks.length, 0, 'nothing changed since the last call');
  const union = { positions: new Float32Array(0), indices: new Uint32Array(0) };
  const parts = [...held.values()];
  let vOff = 0;
  union.positions = new Float32Array(parts.reduce((s, m) => s + m.positions.length, 0));
  union.indices = new Uint32Array(parts.reduce((s, m) => s + m.indices.length, 0));
  let iOff = 0;
  for (const m of parts) {
    union.positions.set(m.positions, vOff * 3);
    for (let j = 0; j < m.indices.length; j++) union.indices[iOff + j] = m.indices[j]! + vOff;
    vOff += m.positions.length / 3;
    iOff += m.indices.length;
  }
  const full = vol.extractMesh();
  assert.deepEqual(triangleSet(union), triangleSet(full));
  assert.ok(changedAfterOne < held.size, 'a single frame re-meshes only part of the blocks');

  // Block meshes welded by exact position form the same closed surface: no cracks between blocks.
  const weld = new Map<string, number>();
  const welded = new Uint32Array(union.indices.length);
  for (let j = 0; j < union.indices.length; j++) {
    const i = union.indices[j]!;
    const key = `${union.positions[3 * i]},${union.positions[3 * i + 1]},${union.positions[3 * i + 2]}`;
    if (!weld.has(key)) weld.set(key, weld.size);
    welded[j] = weld.get(key)!;
  }
  const topo = meshTopology(welded);
  assert.equal(topo.boundaryEdges, 0);
  assert.equal(topo.nonManifoldEdges, 0);
  assert.equal(topo.euler, 2);
});

test('raycast depth, normals and colour match the analytic sphere from a new viewpoint', () => {
  const vol = fuseSphere(0.5);
  const pose = lookAt([25, -20, 22], SPHERE_CENTRE);
  const truth = renderScene(SPHERE, pose, K);
  const r = vol.raycast(pose, K);
  let both = 0;
  let seen = 0;
  const errors: number[] = [];
  let goodNormals = 0;
  let colourErr = 0;
  let spurious = 0;
  for (let i = 0; i < K.width * K.height; i++) {
    if (truth.depth.data[i]! > 0) seen++;
    else if (r.depth.data[i]! > 0) spurious++;
    if (!(truth.depth.data[i]! > 0 && r.depth.data[i]! > 0)) continue;
    both++;
    errors.push(Math.abs(r.depth.data[i]! - truth.depth.data[i]!));
    // Analytic normal in the camera frame: R^T (p - c) / |p - c|.
    const u = i % K.width;
    const v = Math.floor(i / K.width);
    const z = truth.depth.data[i]!;
    const pc: Vec3 = [((u - K.cx) * z) / K.fx, ((v - K.cy) * z) / K.fy, z];
    const pw: Vec3 = [
      pose[0]! * pc[0] + pose[1]! * pc[1] + pose[2]! * pc[2] + pose[3]!,
      pose[4]! * pc[0] + pose[5]! * pc[1] + pose[6]! * pc[2] + pose[7]!,
      pose[8]! * pc[0] + pose[9]! * pc[1] + pose[10]! * pc[2] + pose[11]!,
    ];
    const nw = sub3(pw, SPHERE_CENTRE);
    const nc: Vec3 = [
      pose[0]! * nw[0] + pose[4]! * nw[1] + pose[8]! * nw[2],
      pose[1]! * nw[0] + pose[5]! * nw[1] + pose[9]! * nw[2],
      pose[2]! * nw[0] + pose[6]! * nw[1] + pose[10]! * nw[2],
    ];
    const ours: Vec3 = [r.normals[3 * i]!, r.normals[3 * i + 1]!, r.normals[3 * i + 2]!];
    if (dot3(ours, nc) / norm3(nc) > 0.95) goodNormals++;
    for (let c = 0; c < 3; c++) colourErr += Math.abs(r.colors.data[3 * i + c]! - truth.rgb.data[3 * i + c]!);
  }
  errors.sort((a, b) => a - b);
  assert.ok(spurious < 0.03 * seen, `${spurious} pixels hit a surface where there is none`);
  assert.ok(both / seen > 0.97, `raycast covers ${both} of ${seen} sphere pixels`);
  assert.ok(
    errors[Math.floor(errors.length / 2)]! < 0.05,
    `median depth error ${errors[errors.length >> 1]} mm`,
  );
  assert.ok(
    errors[Math.floor(errors.length * 0.95)]! < 0.25,
    `p95 depth error ${errors[Math.floor(errors.length * 0.95)]} mm`,
  );
  assert.ok(goodNormals / both > 0.95, `only ${goodNormals} of ${both} normals within 18 degrees`);
  assert.ok(colourErr / (3 * both) < 12, `mean colour error ${(colourErr / (3 * both)).toFixed(1)}`);
  // Nothing is hit where the analytic view sees background far from the silhouette.
  const empty = new TsdfVolume({ voxelSize: 1 }).raycast(pose, K);
  assert.ok(
    empty.depth.data.every((d) => d === 0),
    'an empty volume renders nothing',
  );
});

test('pixels without depth (0) or outside the depth range are ignored, not fused', () => {
  const pose = identity4();
  const plane: Shape[] = [{ kind: 'plane', normal: [0, 0, -1], offset: -30 }];
  const { depth, rgb } = renderScene(plane, pose, K);
  for (let i = 0; i < depth.data.length; i++) {
    const u = i % K.width;
    if (u < 80) depth.data[i] = 0;
    else if (u < 100) depth.data[i] = 1e6;
  }
  const vol = new TsdfVolume({ voxelSize: 1 });
  const stats = vol.integrate({ depth, rgb, pose, intrinsics: K });
  assert.equal(stats.validPixels, (K.width - 100) * K.height);
  const mesh = vol.extractMesh();
  for (let i = 0; i < mesh.positions.length / 3; i++) {
    // Pixel u = 100 sits at x = (100 - cx) / fx * 30 mm; nothing left of the valid strip (minus a block).
    assert.ok(
      mesh.positions[3 * i]! > ((100 - K.cx) / K.fx) * 30 - 8,
      `vertex ${i} comes from an invalid pixel`,
    );
  }
  assert.ok(mesh.indices.length > 0, 'the valid strip is meshed');
});

test('bad input throws an Error with a message and leaves the volume usable', () => {
  const vol = new TsdfVolume({ voxelSize: 1 });
  const pose = identity4();
  const { depth, rgb } = renderScene(SPHERE, lookAt([0, 0, -40], SPHERE_CENTRE), K);
  const ok = { depth, rgb, pose: lookAt([0, 0, -40], SPHERE_CENTRE), intrinsics: K };
  const cases: [string, () => unknown, RegExp][] = [
    [
      'short depth buffer',
      () => vol.integrate({ ...ok, depth: { ...depth, data: depth.data.subarray(1) } }),
      /depth.*elements, expected 19200/,
    ],
    [
      'short rgb buffer',
      () => vol.integrate({ ...ok, rgb: { ...rgb, data: rgb.data.subarray(3) } }),
      /rgb.*expected 57600/,
    ],
    [
      'wrong confidence size',
      () => vol.integrate({ ...ok, confidence: new Float32Array(10) }),
      /confidence.*expected 19200/,
    ],
    [
      'depth size differs from intrinsics',
      () => vol.integrate({ ...ok, intrinsics: { ...K, width: 80 } }),
      /depth is 160x120/,
    ],
    [
      'non-finite pose',
      () => vol.integrate({ ...ok, pose: Float64Array.from(pose, (v, i) => (i === 3 ? Number.NaN : v)) }),
      /pose.*non-finite/,
    ],
    [
      'infinite pose',
      () => vol.integrate({ ...ok, pose: Float64Array.from(pose, (v, i) => (i === 0 ? Infinity : v)) }),
      /non-finite/,
    ],
    [
      'non-rigid pose',
      () => vol.integrate({ ...ok, pose: Float64Array.from(pose, (v, i) => (i === 0 ? 2 : v)) }),
      /orthonormal/,
    ],
    ['pose of 12 values', () => vol.integrate({ ...ok, pose: new Float64Array(12) }), /16 elements/],
    ...(
      [
        ['NaN depth', Number.NaN],
        ['negative depth', -5],
        ['infinite depth', Infinity],
      ] as const
    ).map(([name, bad]): [string, () => unknown, RegExp] => [
      name,
      () => {
        const data = depth.data.slice();
        data[7 * K.width + 3] = bad;
        data[9 * K.width + 5] = bad;
        return vol.integrate({ ...ok, depth: { ...depth, data } });
      },
      /depth has 2 NaN, infinite or negative value\(s\), the first at pixel \(3, 7\)/,
    ]),
    ['zero focal length', () => vol.integrate({ ...ok, intrinsics: { ...K, fx: 0 } }), /fx and fy/],
    [
      'NaN principal point',
      () => vol.integrate({ ...ok, intrinsics: { ...K, cy: Number.NaN } }),
      /cx and cy/,
    ],
    ['zero raycast intrinsics', () => vol.raycast(pose, { ...K, fy: 0 }), /fx and fy/],
    ['zero raycast size', () => vol.raycast(pose, { ...K, width: 0 }), /width/],
    [
      'non-finite raycast pose',
      () =>
        vol.raycast(
          Float64Array.from(pose, () => Number.NaN),
          K,
        ),
      /non-finite/,
    ],
    ['zero voxel size', () => new TsdfVolume({ voxelSize: 0 }), /voxelSize/],
    ['truncation below a voxel', () => new TsdfVolume({ voxelSize: 1, truncation: 0.5 }), /truncation/],
    ['negative depth range', () => new TsdfVolume({ minDepth: 10, maxDepth: 5 }), /minDepth/],
  ];
  for (const [name, fn, message] of cases) {
    assert.throws(fn, (err: unknown) => err instanceof Error && message.test(err.message), name);
  }
  // Wrong element types reach the native checks too.
  assert.throws(
    () =>
      vol.integrate({
        ...ok,
        depth: { ...depth, data: new Uint16Array(depth.data.length) as unknown as Float32Array },
      }),
    /'depth' must be a Float32Array/,
  );
  assert.equal(vol.memory().blocks, 0, 'a rejected frame fuses nothing');
  const stats = vol.integrate(ok);
  assert.ok(stats.touchedBlocks > 0, 'a valid frame still integrates after the errors');
});

test('memory is reported and the limit refuses new blocks without losing fused ones', () => {
  const probe = new TsdfVolume({ voxelSize: 1 });
  const empty = probe.memory();
  assert.equal(empty.blocks, 0);
  const limit = empty.volumeBytes + 20 * empty.bytesPerBlock;
  const vol = new TsdfVolume({ voxelSize: 1, maxMemoryBytes: limit });
  let refused = 0;
  for (const pose of viewsAround(SPHERE_CENTRE, 40, 6)) {
    const { depth, rgb } = renderScene(SPHERE, pose, K);
    const s = vol.integrate({ depth, rgb, pose, intrinsics: K });
    refused += s.refusedBlocks;
    assert.ok(
      s.volumeBytes <= limit && s.memoryBytes >= s.volumeBytes,
      `volume ${s.volumeBytes} B, limit ${limit} B`,
    );
  }
  const mem = vol.memory();
  assert.ok(refused > 0 && mem.limitReached, 'the limit was reached');
  assert.ok(mem.blocks > 0 && mem.blocks <= 20, `${mem.blocks} blocks under a 20-block limit`);
  assert.ok(mem.volumeBytes <= limit, `${mem.volumeBytes} bytes over the ${limit} byte limit`);
  assert.ok(vol.extractMesh().indices.length > 0, 'blocks fused before the limit keep their surface');
  vol.reset();
  assert.equal(vol.memory().blocks, 0);
  assert.equal(vol.memory().limitReached, false);
});
