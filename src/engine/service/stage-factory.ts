/**
 * Chooses the depth, tracking and fusion stages of a run: the product path (ONNX depth network or, for a
 * stereo source, native stereo matching; photometric tracking, native TSDF fusion;
 * src/engine/pipeline/product-stages.ts) unless the request
 * asks for a dataset's ground truth, the evaluation mode of `navws reconstruct --depth gt --poses gt`.
 * Stage names reach the status bar, so a ground-truth replay is never mistaken for an estimate.
 */
import { GroundTruthDepthStage, GroundTruthPoseStage } from '../pipeline/ground-truth-stages.js';
import {
  DEFAULT_FUSION_SETTINGS,
  createFusionStage,
  createNetworkDepthStage,
  createStereoDepthStage,
  createTrackingStage,
  stereoProfileOfDataset,
} from '../pipeline/product-stages.js';
import type { DepthStage, FusionStage, PoseStage } from '../pipeline/stages.js';
import { NavApiError } from '../../shared/api/nav-api.js';
import type { OpenedSource } from './sources.js';

export interface RunStages {
  depth: DepthStage;
  poses: PoseStage;
  fusion: FusionStage | null;
  /** Human-readable notes for the log (which stages were chosen). */
  notes: string[];
}

export interface StageChoice {
  depth: 'network' | 'stereo' | 'gt';
  poses: 'track' | 'gt';
}

export type StageFactory = (source: OpenedSource, choice: StageChoice) => Promise<RunStages>;

function needDataset(source: OpenedSource, what: string): NonNullable<OpenedSource['dataset']> {
  if (!source.dataset)
    throw new NavApiError('bad-request', `${source.description}: ${what} needs a dataset folder`);
  return source.dataset;
}

async function stereoProfileOf(source: OpenedSource) {
  const ds = needDataset(source, 'stereo depth');
  if (!ds.stereoFile) {
    throw new NavApiError(
      'bad-request',
      `${source.description}: stereo depth needs a stereo dataset (stereo.json with right/NNNNNN.png or packed frames, docs/stereo.md)`,
    );
  }
  try {
    return await stereoProfileOfDataset(ds, source.intrinsics);
  } catch (err) {
    throw new NavApiError('bad-request', (err as Error).message);
  }
}

async function closeAll(stages: { close(): Promise<void> }[]): Promise<void> {
  await Promise.allSettled(stages.map((s) => s.close()));
}

export const defaultStageFactory: StageFactory = async (source, choice) => {
  const started: { close(): Promise<void> }[] = [];
  try {
    let depth: DepthStage;
    try {
      if (choice.depth === 'gt') {
        depth = new GroundTruthDepthStage(needDataset(source, 'ground-truth depth'));
      } else if (choice.depth === 'stereo') {
        depth = await createStereoDepthStage({
          calibration: await stereoProfileOf(source),
          intrinsics: source.intrinsics,
        });
      } else {
        depth = await createNetworkDepthStage({ intrinsics: source.intrinsics });
      }
    } catch (err) {
      if (err instanceof NavApiError) throw err;
      throw new NavApiError('unavailable', `depth stage: ${(err as Error).message}`);
    }
    started.push(depth);
    let poses: PoseStage;
    try {
      poses =
        choice.poses === 'gt'
          ? new GroundTruthPoseStage(needDataset(source, 'ground-truth poses'))
          : await createTrackingStage({ intrinsics: source.intrinsics });
    } catch (err) {
      if (err instanceof NavApiError) throw err;
      throw new NavApiError('unavailable', `tracking stage: ${(err as Error).message}`);
    }
    started.push(poses);
    const fusion = await createFusionStage({ ...DEFAULT_FUSION_SETTINGS });
    started.push(fusion);
    return {
      depth,
      poses,
      fusion,
      notes: [
        `stages: ${depth.name} -> ${poses.name} -> ${fusion.name} (voxel ${DEFAULT_FUSION_SETTINGS.voxelSize} mm)`,
      ],
    };
  } catch (err) {
    await closeAll(started);
    throw err;
  }
};
