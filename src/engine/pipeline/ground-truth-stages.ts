/**
 * Stages that read a dataset's ground truth instead of estimating (`--depth gt`, `--poses gt`): evaluation
 * tools that isolate one stage of the product path, never a substitute for it.
 */
import type { VideoFrame } from '../../shared/frames.js';
import { type Mat4, invertRigid, multiply4 } from '../../shared/math/mat4.js';
import { type DatasetInfo, readDatasetDepth } from '../dataset/dataset.js';
import type { DepthEstimate, DepthStage, PoseStage, TrackInput, TrackOutput } from './stages.js';

export class GroundTruthDepthStage implements DepthStage {
  readonly name = 'depth:gt';
  readonly scaleSource = 'ground truth' as const;
  readonly executionProvider = null;

  constructor(private readonly dataset: DatasetInfo) {
    if (dataset.depthFiles.length === 0)
      throw new Error(`${dataset.root}: --depth gt needs depth/NNNNNN.png ground truth`);
  }

  async estimate(frame: VideoFrame): Promise<DepthEstimate> {
    return { depth: await readDatasetDepth(this.dataset, frame.index), relativePose: null };
  }

  async close(): Promise<void> {}
}

export class GroundTruthPoseStage implements PoseStage {
  readonly name = 'tracking:gt';
  private readonly worldFromFirst: Mat4;

  constructor(private readonly dataset: DatasetInfo) {
    if (!dataset.groundTruth || dataset.groundTruth.length === 0) {
      throw new Error(`${dataset.root}: --poses gt needs groundtruth.txt`);
    }
    // Re-express every pose in the first camera's frame, the world frame of a reconstruction.
    this.worldFromFirst = invertRigid(dataset.groundTruth[0]!.pose);
  }

  async track({ frame }: TrackInput): Promise<TrackOutput> {
    const gt = this.dataset.groundTruth![frame.index];
    if (!gt) throw new Error(`${this.dataset.root}/groundtruth.txt: no pose for frame ${frame.index}`);
    // Every frame is fused: with exact poses there is no drift for keyframes to limit.
    return {
      pose: multiply4(this.worldFromFirst, gt.pose),
      state: 'tracking',
      isKeyframe: true,
      metrics: {},
    };
  }

  async close(): Promise<void> {}
}
