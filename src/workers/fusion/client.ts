/**
 * FusionClient: TSDF fusion and marching cubes in a worker thread (native kernels, multithreaded).
 *
 * Units: millimetres everywhere. Poses are camera-to-world 4x4 (row-major, OpenCV camera axes: x right,
 * y down, z forward); depth is z along the optical axis, 0 / negative / non-finite = unknown pixel.
 * Meshes are in the world frame, counter-clockwise seen from the side the camera saw, with per-vertex
 * unit normals and RGB colours.
 *
 *   const fusion = FusionClient.start({ voxelSize: 0.5 });        // truncation defaults to 4 voxels
 *   const stats = await fusion.integrate({ depth, rgb, pose, intrinsics });
 *   const live = await fusion.extractMesh({ incremental: true });  // { changedBlocks, removedBlocks }
 *   const mesh = await fusion.extractMesh({ incremental: false }); // one indexed mesh, shared vertices
 *   const view = await fusion.raycast(pose, intrinsics);           // depth + normals + colours
 *   await fusion.close();
 *
 * Incremental extraction returns the blocks re-meshed since the previous incremental call, keyed by
 * block coordinate "bx,by,bz": replace the held mesh of each changed key, drop each removed key. The
 * full extraction does not disturb that bookkeeping. Calls are answered in order; `pendingCalls` lets a
 * pipeline apply back-pressure. Invalid input rejects with an Error naming the problem; the worker and
 * the volume stay usable.
 *
 * Memory: `memory()` reports bytes in use; when `maxMemoryBytes` is reached new blocks are refused
 * (existing ones keep being updated) and stats.memoryLimitReached turns true. Nothing is evicted.
 */
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type { Mat4 } from '../../shared/math/mat4.js';
import { WorkerClient, workerEntry } from '../rpc.js';
import type { FusionHandlers } from './fusion.worker.js';
import type {
  FusedMesh,
  FusionFrame,
  FusionMemory,
  FusionOptions,
  IntegrateStats,
  MeshBlockChanges,
  RaycastImages,
} from './tsdf-volume.js';

export type {
  FusedMesh,
  FusionFrame,
  FusionMemory,
  FusionOptions,
  IntegrateStats,
  MeshBlockChanges,
  RaycastImages,
} from './tsdf-volume.js';
export { DEFAULT_FUSION_OPTIONS, resolveFusionOptions } from './tsdf-volume.js';

/** Buffers of a view that covers its whole ArrayBuffer (only those can be moved without side effects). */
function ownBuffer(view: ArrayBufferView | undefined): ArrayBuffer[] {
  if (!view || !(view.buffer instanceof ArrayBuffer)) return [];
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? [view.buffer] : [];
}

export class FusionClient {
  private constructor(private readonly worker: WorkerClient<FusionHandlers>) {}

  /** Starts the worker and creates its volume (options are validated there; a bad value rejects the first call). */
  static start(opts: FusionOptions = {}): FusionClient {
    return new FusionClient(WorkerClient.start<FusionHandlers>(workerEntry('fusion/fusion'), opts, 'fusion'));
  }

  /** Resolves when the worker and its volume exist; closes it and rejects (e.g. bad options) otherwise. */
  ready(): Promise<void> {
    return this.worker.ready();
  }

  get pendingCalls(): number {
    return this.worker.pendingCalls;
  }

  /**
   * Fuses one RGB-D frame. With `transfer: true` the depth, colour and confidence buffers are moved to
   * the worker (no copy; the caller's arrays become unusable) when each view spans its whole buffer.
   */
  integrate(frame: FusionFrame, { transfer = false }: { transfer?: boolean } = {}): Promise<IntegrateStats> {
    const buffers = transfer
      ? [...ownBuffer(frame.depth.data), ...ownBuffer(frame.rgb?.data), ...ownBuffer(frame.confidence)]
      : [];
    return this.worker.call('integrate', frame, buffers);
  }

  extractMesh(opts: { incremental: true }): Promise<MeshBlockChanges>;
  extractMesh(opts?: { incremental?: false }): Promise<FusedMesh>;
  extractMesh(opts: { incremental?: boolean } = {}): Promise<MeshBlockChanges | FusedMesh> {
    return opts.incremental
      ? this.worker.call('extractChangedBlocks', undefined)
      : this.worker.call('extractMesh', undefined);
  }

  /** Depth (mm), camera-frame normals and colour of the fused surface seen from `pose`. */
  raycast(pose: Mat4, intrinsics: PinholeIntrinsics): Promise<RaycastImages> {
    return this.worker.call('raycast', { pose, intrinsics });
  }

  memory(): Promise<FusionMemory> {
    return this.worker.call('memory', undefined);
  }

  /** Empties the volume (callers holding incremental block meshes should drop them). */
  reset(): Promise<void> {
    return this.worker.call('reset', undefined);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
