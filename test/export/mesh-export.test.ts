import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TriangleMesh } from '../../src/shared/mesh.js';
import { readPly } from '../../src/engine/formats/ply.js';
import {
  GLTF_ROOT_NODE,
  computeVertexNormals,
  decimateByClustering,
  decimateToTriangles,
  decodeGlb,
  decodeObj,
  decodeStl,
  exportMesh,
  readGltf,
  taubinSmooth,
} from '../../src/engine/export/index.js';
import { tempDir } from '../capture/helpers.js';

/** A UV sphere (mm) in front of the camera, with colours and normals. */
function sphere(
  radius = 20,
  rings = 24,
  segments = 32,
  centre: [number, number, number] = [0, 0, 80],
): TriangleMesh {
  const pos: number[] = [];
  const col: number[] = [];
  for (let r = 0; r <= rings; r++) {
    const th = (Math.PI * r) / rings;
    for (let s = 0; s < segments; s++) {
      const ph = (2 * Math.PI * s) / segments;
      pos.push(
        centre[0] + radius * Math.sin(th) * Math.cos(ph),
        centre[1] + radius * Math.cos(th),
        centre[2] + radius * Math.sin(th) * Math.sin(ph),
      );
      col.push((r * 10) & 255, (s * 8) & 255, 200);
    }
  }
  const idx: number[] = [];
  for (let r = 0; r < rings; r++) {
    for (let s = 0; s < segments; s++) {
      const a = r * segments + s;
      const b = r * segments + ((s + 1) % segments);
      idx.push(a, a + segments, b, b, a + segments, b + segments);
    }
  }
  const positions = Float32Array.from(pos);
  const indices = Uint32Array.from(idx);
  // Poles repeat vertices; the degenerate triangles there are fine for format round trips.
  return {
    positions,
    indices,
    colors: Uint8Array.from(col),
    normals: computeVertexNormals(positions, indices),
  };
}

function trianglesAsPoints(mesh: TriangleMesh): number[][] {
  const out: number[][] = [];
  for (let t = 0; t < mesh.indices.length; t += 3) {
    const tri: number[] = [];
    for (let k = 0; k < 3; k++) {
      const v = mesh.indices[t + k]!;
      tri.push(mesh.positions[3 * v]!, mesh.positions[3 * v + 1]!, mesh.positions[3 * v + 2]!);
    }
    out.push(tri);
  }
  return out;
}

test('every format reads back to the source mesh (mm, colours, winding)', async () => {
  const { dir, cleanup } = await tempDir('export');
  try {
    const mesh = sphere();
    const phases = new Set<string>();
    const onProgress = (phase: string, f: number): void => {
      assert.ok(f >= 0 && f <= 1);
      phases.add(phase);
    };

    const ply = await exportMesh(mesh, path.join(dir, 'm.ply'), { onProgress });
    assert.deepEqual(ply.files, [path.join(dir, 'm.ply')]);
    const plyBack = await readPly(path.join(dir, 'm.ply'));
    assert.deepEqual(plyBack.positions, mesh.positions);
    assert.deepEqual(plyBack.indices, mesh.indices);
    assert.deepEqual(plyBack.colors, mesh.colors);

    const obj = await exportMesh(mesh, path.join(dir, 'm.obj'), { onProgress });
    assert.equal(obj.files.length, 2);
    assert.match(await readFile(path.join(dir, 'm.mtl'), 'utf8'), /newmtl navws_vertex_colour/);
    const objText = await readFile(path.join(dir, 'm.obj'), 'utf8');
    assert.match(objText, /^mtllib m\.mtl$/m);
    const objBack = decodeObj(objText);
    assert.deepEqual(objBack.positions, mesh.positions, 'OBJ text keeps float32 positions exactly');
    assert.deepEqual(objBack.indices, mesh.indices);
    assert.deepEqual(objBack.colors, mesh.colors);
    assert.deepEqual(objBack.normals, mesh.normals);

    await exportMesh(mesh, path.join(dir, 'm.stl'), { onProgress });
    const stl = decodeStl(await readFile(path.join(dir, 'm.stl')));
    assert.deepEqual(trianglesAsPoints(stl), trianglesAsPoints(mesh));
    assert.match((await readFile(path.join(dir, 'm.stl'))).subarray(0, 80).toString('ascii'), /units: mm/);

    await exportMesh(mesh, path.join(dir, 'm.glb'), { onProgress });
    const glb = await decodeGlb(await readFile(path.join(dir, 'm.glb')));
    assert.deepEqual(glb.mesh.positions, mesh.positions);
    assert.deepEqual(glb.mesh.indices, mesh.indices);
    assert.deepEqual(glb.mesh.colors, mesh.colors);
    assert.deepEqual(glb.rootScale, [0.001, 0.001, 0.001]);
    assert.deepEqual(glb.rootRotation, [1, 0, 0, 0]);

    const gltf = await exportMesh(mesh, path.join(dir, 'sub', 'm.gltf'), { onProgress });
    assert.deepEqual(gltf.files, [path.join(dir, 'sub', 'm.gltf'), path.join(dir, 'sub', 'm.bin')]);
    const json = JSON.parse(await readFile(path.join(dir, 'sub', 'm.gltf'), 'utf8')) as {
      nodes: { name: string }[];
      buffers: { uri: string }[];
    };
    assert.ok(json.nodes.some((n) => n.name === GLTF_ROOT_NODE));
    assert.equal(json.buffers[0]!.uri, 'm.bin');
    const gl = await readGltf(path.join(dir, 'sub', 'm.gltf'));
    assert.deepEqual(gl.mesh.positions, mesh.positions);
    assert.ok(phases.has('encode') && phases.has('write'));
  } finally {
    await cleanup();
  }
});

test('decimation meets a triangle budget and stays close to the surface', () => {
  const mesh = sphere(20, 60, 80);
  const before = mesh.indices.length / 3;
  const out = decimateToTriangles(mesh, 1500);
  const after = out.indices.length / 3;
  assert.ok(after <= 1500 && after > 300, `${before} -> ${after} triangles`);
  assert.ok(out.colors && out.colors.length === out.positions.length);
  // Every kept vertex lies near the sphere (quadric placement, not cluster centroids inside it).
  let worst = 0;
  for (let v = 0; v < out.positions.length / 3; v++) {
    const r = Math.hypot(out.positions[3 * v]!, out.positions[3 * v + 1]!, out.positions[3 * v + 2]! - 80);
    worst = Math.max(worst, Math.abs(r - 20));
  }
  assert.ok(worst < 0.6, `max radial error ${worst.toFixed(3)} mm`);
  const coarse = decimateByClustering(mesh, 5);
  assert.ok(coarse.indices.length < out.indices.length);
  assert.throws(() => decimateByClustering(mesh, 0), /cell size must be > 0/);
});

test('Taubin smoothing removes noise without shrinking the surface', () => {
  const n = 41;
  const pos: number[] = [];
  let seed = 7;
  const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.6;
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) pos.push(i, j, 50 + noise());
  const idx: number[] = [];
  for (let j = 0; j + 1 < n; j++) {
    for (let i = 0; i + 1 < n; i++) {
      const a = j * n + i;
      idx.push(a, a + 1, a + n, a + 1, a + n + 1, a + n);
    }
  }
  const mesh: TriangleMesh = { positions: Float32Array.from(pos), indices: Uint32Array.from(idx) };
  const rough = (m: TriangleMesh): number => {
    let s = 0;
    for (let v = 0; v < m.positions.length / 3; v++) s += (m.positions[3 * v + 2]! - 50) ** 2;
    return Math.sqrt(s / (m.positions.length / 3));
  };
  const smooth = taubinSmooth(mesh, { iterations: 20 });
  assert.ok(
    rough(smooth) < rough(mesh) * 0.5,
    `rms ${rough(mesh).toFixed(3)} -> ${rough(smooth).toFixed(3)} mm`,
  );
  // Interior extent preserved (no Laplacian shrink): the centre column stays centred and spread.
  let xmin = Infinity;
  let xmax = -Infinity;
  for (let v = 0; v < smooth.positions.length / 3; v++) {
    xmin = Math.min(xmin, smooth.positions[3 * v]!);
    xmax = Math.max(xmax, smooth.positions[3 * v]!);
  }
  assert.ok(Math.abs(xmax - xmin - (n - 1)) < 1e-3, 'boundary held fixed');
  assert.throws(() => taubinSmooth(mesh, { lambda: 0.5, mu: -0.4 }), /mu < -lambda/);
});

test('unknown formats and bad meshes fail with clear errors', async () => {
  const { dir, cleanup } = await tempDir('export-bad');
  try {
    await assert.rejects(exportMesh(sphere(), path.join(dir, 'm.fbx')), /unknown mesh format '\.fbx'/);
    const broken: TriangleMesh = { positions: new Float32Array(9), indices: Uint32Array.from([0, 1, 5]) };
    await assert.rejects(exportMesh(broken, path.join(dir, 'm.ply')), /refers to vertex 5 of 3/);
    assert.throws(() => decodeStl(new Uint8Array(100)), /must be \d+ bytes/);
    assert.throws(() => decodeObj('v 1 2\n'), /mesh\.obj:1: expected 3 numbers/);
  } finally {
    await cleanup();
  }
});
