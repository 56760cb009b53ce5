/**
 * What a running reconstruction reports, in frame order. Hosts (CLI progress, the browser host, the
 * Electron engine process) subscribe to these; video, depth and pose of one instant travel together.
 */
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import type { Mat4 } from '../../shared/math/mat4.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import type { Seconds } from '../../shared/units.js';
import type { DepthScaleSource } from './stages.js';

export type TrackingState = 'initialising' | 'tracking' | 'lost' | 'relocalised';

export interface FrameEvent {
  type: 'frame';
  index: number;
  timestamp: Seconds;
  rgb: RgbImage;
  /**
   * Depth to show with this frame (mm), null before any. Under the keyframe schedule the network runs
   * on keyframes only, so between them this is the latest keyframe's depth: `depthFrame` says which.
   */
  depth: DepthImage | null;
  /** Index of the frame `depth` was estimated for (this frame's own index, or its keyframe's). */
  depthFrame: number | null;
  /** Camera-to-world (mm); null while tracking is lost. */
  pose: Mat4 | null;
  trackingState: TrackingState;
  isKeyframe: boolean;
  /** Scale source of `depth` (e.g. 'stereo': metric), when the depth stage states it. */
  scaleSource?: DepthScaleSource;
}

export interface MeshEvent {
  type: 'mesh';
  /** Blocks whose triangles changed since the last event replace their previous triangles. */
  changedBlocks: { key: string; mesh: TriangleMesh }[];
  /** Keys of blocks that no longer hold triangles. */
  removedBlocks: string[];
  totalVertices: number;
  /** The newest keyframe fused into this update (its frame index). */
  frameIndex: number;
}

export interface StageStats {
  name: string;
  processed: number;
  dropped: number;
  meanMs: number;
  p95Ms: number;
}

export interface StatsEvent {
  type: 'stats';
  framesIn: number;
  framesProcessed: number;
  framesDropped: number;
  keyframes: number;
  stages: StageStats[];
  executionProvider: string | null;
}

export type PipelineEvent =
  FrameEvent | MeshEvent | StatsEvent | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };
