/**
 * The stages a frame passes through, in order: depth -> tracking -> fusion (-> mesh). Each product
 * implementation runs its heavy work in a worker thread (src/workers/*); the orchestrator in
 * reconstruct.ts only moves frames between them. The `gt` implementations read a dataset's ground
 * truth so that one stage can be evaluated alone.
 */
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type { DepthImage, DepthScaleSource, RgbImage, VideoFrame } from '../../shared/frames.js';
import type { Mat4 } from '../../shared/math/mat4.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import type { TrackingState } from './events.js';

export interface DepthEstimate {
  /** Depth of the frame (mm along the optical axis, 0 = unknown), same size as the frame. */
  depth: DepthImage;
  /** Camera motion from the previous frame to this one (T_prev_current), when the stage predicts it. */
  relativePose: Mat4 | null;
}

export type { DepthScaleSource } from '../../shared/frames.js';

export interface DepthStage {
  readonly name: string;
  /** The scale source of the depth this stage gives (absent: unknown). */
  readonly scaleSource?: DepthScaleSource;
  /** The inference execution provider in use (e.g. 'cpu', 'cuda'), null for non-network stages. */
  readonly executionProvider: string | null;
  /** Depth and motion prior of one frame; frames come in order. */
  estimate(frame: VideoFrame): Promise<DepthEstimate>;
  /**
   * The two halves of `estimate`, for the keyframe schedule (reconstruct.ts): the cheap motion prior on
   * every frame, the expensive depth only on the frames tracking makes keyframes. Absent on stages
   * whose depth costs nothing (ground truth), which then give depth to every frame.
   */
  estimateMotion?(frame: VideoFrame): Promise<Mat4 | null>;
  estimateDepth?(frame: VideoFrame): Promise<DepthImage>;
  close(): Promise<void>;
}

export interface TrackInput {
  frame: VideoFrame;
  depth: DepthImage | null;
  /** Camera motion prior from the depth stage (T_prev_current), if any. */
  relativePose: Mat4 | null;
}

export interface TrackOutput {
  /** Camera-to-world (mm), world = first camera; null while lost without an estimate. */
  pose: Mat4 | null;
  state: TrackingState;
  /** True when this frame becomes a keyframe and should be fused. */
  isKeyframe: boolean;
  /** The frame should become a keyframe but had no depth: give it to `addKeyframe` (keyframe schedule). */
  needsKeyframe?: boolean;
  /** Per-frame tracking measures (mean reprojection error px, triangulated points, iterations, ...). */
  metrics: Record<string, number>;
}

export interface PoseStage {
  readonly name: string;
  track(input: TrackInput): Promise<TrackOutput>;
  /**
   * Completes a frame whose track() said needsKeyframe, with its depth; returns the frame's final output.
   * Present on stages that track from keyframe depth alone (the photometric tracker).
   */
  addKeyframe?(frame: VideoFrame, depth: DepthImage, tracked: TrackOutput): Promise<TrackOutput>;
  close(): Promise<void>;
}

export interface FusionInput {
  rgb: RgbImage;
  depth: DepthImage;
  /** Camera-to-world (mm). */
  pose: Mat4;
  intrinsics: PinholeIntrinsics;
}

export interface MeshBlockUpdate {
  changedBlocks: { key: string; mesh: TriangleMesh }[];
  removedBlocks: string[];
}

export interface FusionStage {
  readonly name: string;
  /** The pipeline keeps up to two calls in flight; they must be applied in call order. */
  integrate(input: FusionInput): Promise<void>;
  /** Blocks re-meshed since the previous call (for live display). */
  extractChanged(): Promise<MeshBlockUpdate>;
  /** The whole surface as one indexed mesh (mm, world frame). */
  extractMesh(): Promise<TriangleMesh>;
  close(): Promise<void>;
}
