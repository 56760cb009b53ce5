/**
 * Typed wrapper over the native TSDF volume (addon.fusion.TsdfVolume). Synchronous and CPU-heavy: use
 * it inside a worker thread (fusion.worker.ts does) or through FusionClient (client.ts).
 *
 * Units and frames: millimetres; `pose` is camera-to-world (row-major 4x4, OpenCV camera axes); depth
 * is z along the optical axis, 0 = unknown (NaN, infinite or negative depth is rejected); pixel centres at integer coordinates.
 * Voxel (i, j, k) is centred at (i, j, k) * voxelSize in the world frame.
 */
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import type { Mat4 } from '../../shared/math/mat4.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import type { Millimetres } from '../../shared/units.js';
import { loadNativeAddon } from '../native-addon.js';

export interface FusionOptions {
  /** Voxel edge, mm (default 1: endoscopic scenes at 20-150 mm; 0.5 for finer detail). */
  voxelSize?: Millimetres;
  /** Truncation distance, mm (default 4 voxels: above the noise of network depth at working distance). */
  truncation?: Millimetres;
  /** Cap of the running-average weight (default 64): older observations fade so slow tissue motion is followed. */
  maxWeight?: number;
  /** Depth outside [minDepth, maxDepth] (mm) is ignored (defaults 1 and 500). */
  minDepth?: Millimetres;
  maxDepth?: Millimetres;
  /**
   * Memory limit for voxel blocks and the hash table (`volumeBytes`, default 2 GiB). When reached, new blocks are
   * refused (frames still update existing blocks) and `memoryLimitReached` turns true; nothing is evicted.
   */
  maxMemoryBytes?: number;
  /** Native threads, including the calling one (default 0 = all cores). */
  threads?: number;
  /**
   * Weight each observation by the cosine between the viewing ray and the surface normal estimated from
   * the depth image (default true): grazing rays and depth discontinuities carry the largest errors.
   */
  angleWeighting?: boolean;
}

export const DEFAULT_FUSION_OPTIONS = {
  voxelSize: 1,
  truncationVoxels: 4,
  maxWeight: 64,
  minDepth: 1,
  maxDepth: 500,
  maxMemoryBytes: 2 * 1024 ** 3,
} as const;

/** One RGB-D frame to fuse. */
export interface FusionFrame {
  /** Depth along the optical axis, mm: 0 = no measurement; NaN, infinite or negative values are rejected (throws). */
  depth: DepthImage;
  /** Colour of the same size as the depth; optional (voxels keep their colour without it). */
  rgb?: RgbImage;
  /** Per-pixel weight, same size as the depth; <= 0 drops the pixel. Default weight 1. */
  confidence?: Float32Array;
  /** Camera-to-world, mm. */
  pose: Mat4;
  /** Camera of this frame; width/height must match the depth image. */
  intrinsics: PinholeIntrinsics;
}

export interface IntegrateStats {
  /** Pixels with depth inside [minDepth, maxDepth]. */
  validPixels: number;
  /** Blocks in the truncation band of this frame (the ones it updated). */
  touchedBlocks: number;
  newBlocks: number;
  /** Blocks not allocated because of the memory limit. */
  refusedBlocks: number;
  totalBlocks: number;
  /** Wall time (ms) of the phases: pixel weights with the band's blocks, allocation, voxel updates. */
  phases: { prepareMs: number; allocateMs: number; updateMs: number };
  /** Everything the volume holds (blocks, hash table, per-frame buffers, mesh scratch). */
  memoryBytes: number;
  /** Voxel blocks and hash table: the part maxMemoryBytes limits. */
  volumeBytes: number;
  memoryLimitReached: boolean;
}

/** Every field of TriangleMesh is present for fused meshes (normals and colours per vertex). */
export type FusedMesh = Required<TriangleMesh>;

/**
 * Blocks re-meshed since the previous incremental extraction; keys are "bx,by,bz" block coordinates.
 * Each block mesh is standalone (indices local to it; vertices on block borders repeated). Its arrays
 * are views into a few shared buffers: copy a block's arrays if you keep them and drop the others.
 */
export interface MeshBlockChanges {
  changedBlocks: { key: string; mesh: FusedMesh }[];
  removedBlocks: string[];
}

export interface RaycastImages {
  /** mm along the optical axis, 0 where the ray found no surface. */
  depth: DepthImage;
  /** Unit surface normals in the camera frame, 3 per pixel, (0, 0, 0) where no surface. */
  normals: Float32Array;
  colors: RgbImage;
}

export interface FusionMemory {
  /** Everything the volume holds (blocks, hash table, per-frame buffers, mesh scratch). */
  bytes: number;
  /** Voxel blocks and hash table: the part maxMemoryBytes limits. */
  volumeBytes: number;
  blocks: number;
  bytesPerBlock: number;
  limitBytes: number;
  limitReached: boolean;
  integrations: number;
}

interface NativeFrame {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  depth: Float32Array;
  rgb?: Uint8Array;
  confidence?: Float32Array;
  pose: Float64Array;
}
/** Meshes of several blocks in shared arrays; block i owns vertices [vertexOffsets[i], vertexOffsets[i+1]). */
interface PackedBlockMeshes {
  coords: Int32Array;
  vertexOffsets: Uint32Array;
  indexOffsets: Uint32Array;
  positions: Float32Array;
  normals: Float32Array;
  colors: Uint8Array;
  indices: Uint32Array;
  removed: Int32Array;
}
interface NativeVolume {
  integrate(frame: NativeFrame): IntegrateStats;
  extractMesh(): FusedMesh;
  extractMeshIncremental(): PackedBlockMeshes;
  raycast(
    pose: Float64Array,
    k: PinholeIntrinsics,
  ): { depth: Float32Array; normals: Float32Array; colors: Uint8Array };
  memory(): FusionMemory;
  reset(): void;
}
interface NativeFusionModule {
  TsdfVolume: new (opts: Required<FusionOptions>) => NativeVolume;
}

export function resolveFusionOptions(opts: FusionOptions = {}): Required<FusionOptions> {
  const voxelSize = opts.voxelSize ?? DEFAULT_FUSION_OPTIONS.voxelSize;
  return {
    voxelSize,
    truncation: opts.truncation ?? DEFAULT_FUSION_OPTIONS.truncationVoxels * voxelSize,
    maxWeight: opts.maxWeight ?? DEFAULT_FUSION_OPTIONS.maxWeight,
    minDepth: opts.minDepth ?? DEFAULT_FUSION_OPTIONS.minDepth,
    maxDepth: opts.maxDepth ?? DEFAULT_FUSION_OPTIONS.maxDepth,
    maxMemoryBytes: opts.maxMemoryBytes ?? DEFAULT_FUSION_OPTIONS.maxMemoryBytes,
    threads: opts.threads ?? 0,
    angleWeighting: opts.angleWeighting ?? true,
  };
}

function sameSize(what: string, img: { width: number; height: number }, k: PinholeIntrinsics): void {
  if (img.width !== k.width || img.height !== k.height) {
    throw new RangeError(
      `fusion: ${what} is ${img.width}x${img.height} but the intrinsics are ${k.width}x${k.height}`,
    );
  }
}

/** A sparse TSDF volume (8^3 voxel blocks in a hash map) in native memory. */
export class TsdfVolume {
  readonly options: Required<FusionOptions>;
  private readonly native: NativeVolume;

  constructor(opts: FusionOptions = {}) {
    this.options = resolveFusionOptions(opts);
    const addon = loadNativeAddon<{ fusion?: NativeFusionModule }>();
    if (!addon.fusion)
      throw new Error('native addon has no fusion module; rebuild it (npm run native:build)');
    this.native = new addon.fusion.TsdfVolume(this.options);
  }

  /** Fuses one frame. Throws on wrong buffer sizes, bad intrinsics or a non-finite / non-rigid pose. */
  integrate(frame: FusionFrame): IntegrateStats {
    const k = frame.intrinsics;
    sameSize('depth', frame.depth, k);
    if (frame.rgb) sameSize('rgb', frame.rgb, k);
    return this.native.integrate({
      width: k.width,
      height: k.height,
      fx: k.fx,
      fy: k.fy,
      cx: k.cx,
      cy: k.cy,
      depth: frame.depth.data,
      rgb: frame.rgb?.data,
      confidence: frame.confidence,
      pose: Float64Array.from(frame.pose),
    });
  }

  /** The whole surface as one indexed mesh; vertices are shared across block borders. */
  extractMesh(): FusedMesh {
    return this.native.extractMesh();
  }

  /** Meshes of the blocks changed since the previous call (the first call returns every block). */
  extractChangedBlocks(): MeshBlockChanges {
    const r = this.native.extractMeshIncremental();
    const key = (c: Int32Array, i: number): string => `${c[3 * i]},${c[3 * i + 1]},${c[3 * i + 2]}`;
    const changedBlocks: MeshBlockChanges['changedBlocks'] = [];
    for (let i = 0; i + 1 < r.vertexOffsets.length; i++) {
      const v0 = r.vertexOffsets[i]!;
      const v1 = r.vertexOffsets[i + 1]!;
      changedBlocks.push({
        key: key(r.coords, i),
        mesh: {
          positions: r.positions.subarray(3 * v0, 3 * v1),
          normals: r.normals.subarray(3 * v0, 3 * v1),
          colors: r.colors.subarray(3 * v0, 3 * v1),
          indices: r.indices.subarray(r.indexOffsets[i]!, r.indexOffsets[i + 1]!),
        },
      });
    }
    const removedBlocks = Array.from({ length: r.removed.length / 3 }, (_, i) => key(r.removed, i));
    return { changedBlocks, removedBlocks };
  }

  /** Renders depth, normals and colour of the fused surface seen from `pose` (camera-to-world). */
  raycast(pose: Mat4, intrinsics: PinholeIntrinsics): RaycastImages {
    const r = this.native.raycast(Float64Array.from(pose), intrinsics);
    const { width, height } = intrinsics;
    return {
      depth: { width, height, data: r.depth },
      normals: r.normals,
      colors: { width, height, data: r.colors },
    };
  }

  memory(): FusionMemory {
    return this.native.memory();
  }

  /** Drops every block; callers holding incremental block meshes should drop theirs too. */
  reset(): void {
    this.native.reset();
  }
}
