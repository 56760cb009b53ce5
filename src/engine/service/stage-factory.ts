/**
 * Chooses the depth, tracking and fusion stages for a run. The product stages (depth network,
 * photometric tracking, native TSDF fusion) are plugged in here as they land; a dataset that carries
 * ground-truth depth and poses (such as the bundled phantom) can be replayed through the lead's
 * evaluation stages, which the status bar names ('depth:gt', 'tracking:gt') so nobody mistakes them for
 * estimates.
 */
import type { DepthStage, FusionStage, PoseStage } from '../pipeline/stages.js';
import { GroundTruthDepthStage, GroundTruthPoseStage } from '../pipeline/ground-truth-stages.js';
import { NavApiError } from '../../shared/api/nav-api.js';
import type { OpenedSource } from './sources.js';

export interface RunStages {
  depth: DepthStage;
  poses: PoseStage;
  fusion: FusionStage | null;
  /** Human-readable notes for the log (which stages were chosen and why). */
  notes: string[];
}

export type StageFactory = (source: OpenedSource) => Promise<RunStages>;

export const defaultStageFactory: StageFactory = async (source) => {
  const ds = source.dataset;
  if (!ds || ds.depthFiles.length === 0 || !ds.groundTruth) {
    throw new NavApiError(
      'unavailable',
      `${source.description}: the depth network and tracking stages are not available in this build; ` +
        'only datasets with depth/ and groundtruth.txt can be replayed',
    );
  }
  return {
    depth: new GroundTruthDepthStage(ds),
    poses: new GroundTruthPoseStage(ds),
    fusion: null,
    notes: [
      'depth and poses: dataset ground truth (evaluation stages)',
      'fusion: not available in this build',
    ],
  };
};
