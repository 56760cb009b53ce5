import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PinholeIntrinsics } from '../../src/shared/camera.js';
import type { Vec3 } from '../../src/shared/math/mat4.js';
import { FusionClient } from '../../src/workers/fusion/client.js';
import { type Shape, distanceToScene, renderScene, viewsAround } from './analytic.js';

const K: PinholeIntrinsics = { width: 128, height: 96, fx: 110, fy: 110, cx: 63.5, cy: 47.5 };
const CENTRE: Vec3 = [0, 0, 50];
const SCENE: Shape[] = [{ kind: 'sphere', centre: CENTRE, radius: 8 }];

test('FusionClient fuses, meshes and raycasts in a worker thread', async () => {
  const fusion = FusionClient.start({ voxelSize: 1, threads: 2 });
  try {
    const poses = viewsAround(CENTRE, 35, 8);
    for (const pose of poses) {
      const { depth, rgb } = renderScene(SCENE, pose, K);
      const stats = await fusion.integrate({ depth, rgb, pose, intrinsics: K }, { transfer: true });
      assert.ok(stats.touchedBlocks > 0, 'the frame touched blocks');
      assert.equal(depth.data.length, 0, 'the depth buffer moved to the worker');
    }
    const live = await fusion.extractMesh({ incremental: true });
    assert.ok(live.changedBlocks.length > 0, 'incremental meshes arrive');
    assert.deepEqual(live.removedBlocks, []);
    const mesh = await fusion.extractMesh();
    const n = mesh.positions.length / 3;
    assert.ok(
      n > 200 && mesh.normals.length === 3 * n && mesh.colors.length === 3 * n,
      `mesh of ${n} vertices`,
    );
    const dist: number[] = [];
    for (let i = 0; i < n; i++) {
      dist.push(
        distanceToScene(SCENE, [
          mesh.positions[3 * i]!,
          mesh.positions[3 * i + 1]!,
          mesh.positions[3 * i + 2]!,
        ]),
      );
    }
    dist.sort((a, b) => a - b);
    assert.ok(dist[n >> 1]! < 0.15, `median vertex distance ${dist[n >> 1]} mm`);
    assert.ok(dist[n - 1]! < 1, `worst vertex distance ${dist[n - 1]} mm`);
    const pose = poses[3]!;
    const view = await fusion.raycast(pose, K);
    const truth = renderScene(SCENE, pose, K);
    const centre = 47 * K.width + 63;
    const errors: number[] = [];
    for (let i = 0; i < truth.depth.data.length; i++) {
      if (truth.depth.data[i]! > 0 && view.depth.data[i]! > 0)
        errors.push(Math.abs(view.depth.data[i]! - truth.depth.data[i]!));
    }
    errors.sort((a, b) => a - b);
    assert.ok(errors.length > 0.95 * truth.depth.data.filter((d) => d > 0).length, 'raycast sees the sphere');
    assert.ok(
      errors[errors.length >> 1]! < 0.1,
      `median raycast depth error ${errors[errors.length >> 1]} mm`,
    );
    assert.ok(view.normals[3 * centre + 2]! < -0.95, 'the sphere faces the camera');
    assert.ok(view.colors.data[3 * centre]! > 0, 'colour is fused');
    const mem = await fusion.memory();
    assert.ok(
      mem.blocks > 0 && mem.bytes >= mem.blocks * mem.bytesPerBlock,
      'memory accounts for the blocks',
    );

    await assert.rejects(
      fusion.integrate({
        depth: { width: K.width, height: K.height, data: new Float32Array(5) },
        pose,
        intrinsics: K,
      }),
      /depth.*expected 12288/,
    );
    await assert.rejects(
      fusion.raycast(
        Float64Array.from(pose, () => Number.NaN),
        K,
      ),
      /non-finite/,
    );
    assert.ok((await fusion.memory()).blocks === mem.blocks, 'the worker survives bad input');
  } finally {
    await fusion.close();
  }
});

test('FusionClient rejects with the reason when the options are invalid', async () => {
  const fusion = FusionClient.start({ voxelSize: -1 });
  try {
    await assert.rejects(fusion.memory(), /voxelSize must be a positive finite number/);
  } finally {
    await fusion.close();
  }
});
