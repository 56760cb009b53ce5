/**
 * Worker thread owning one TSDF volume. Started by FusionClient with the FusionOptions as init data;
 * meshes and raycast images travel back as transferred buffers.
 */
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type { Mat4 } from '../../shared/math/mat4.js';
import { serveWorker, withTransfer, workerInit } from '../rpc.js';
import { type FusionFrame, type FusionOptions, TsdfVolume } from './tsdf-volume.js';

const volume = new TsdfVolume(workerInit<FusionOptions>() ?? {});

function meshBuffers(mesh: {
  positions: Float32Array;
  normals: Float32Array;
  colors: Uint8Array;
  indices: Uint32Array;
}) {
  return [
    mesh.positions.buffer,
    mesh.normals.buffer,
    mesh.colors.buffer,
    mesh.indices.buffer,
  ] as ArrayBuffer[];
}

export const fusionHandlers = {
  integrate: (frame: FusionFrame) => volume.integrate(frame),
  extractMesh: () => {
    const mesh = volume.extractMesh();
    return withTransfer(mesh, meshBuffers(mesh));
  },
  extractChangedBlocks: () => {
    const changes = volume.extractChangedBlocks();
    // All block meshes are views into the same few buffers; move each buffer once.
    const buffers = new Set(changes.changedBlocks.flatMap((b) => meshBuffers(b.mesh)));
    return withTransfer(changes, [...buffers]);
  },
  raycast: ({ pose, intrinsics }: { pose: Mat4; intrinsics: PinholeIntrinsics }) => {
    const r = volume.raycast(pose, intrinsics);
    return withTransfer(r, [r.depth.data.buffer, r.normals.buffer, r.colors.data.buffer] as ArrayBuffer[]);
  },
  memory: () => volume.memory(),
  reset: () => volume.reset(),
};

export type FusionHandlers = typeof fusionHandlers;

serveWorker(fusionHandlers);
