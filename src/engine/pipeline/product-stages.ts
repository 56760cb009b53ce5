/**
 * The product path's stages: adapters from the pipeline's stage interfaces to the worker-thread
 * clients (ONNX depth or native stereo matching, native photometric tracking, native TSDF fusion).
 */
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type { DepthImage, VideoFrame } from '../../shared/frames.js';
import { type Mat4, multiply4 } from '../../shared/math/mat4.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import { DepthClient } from '../../workers/depth/client.js';
import { DEFAULT_FUSION_OPTIONS, type FusionOptions, FusionClient } from '../../workers/fusion/client.js';
import { StereoClient } from '../../workers/stereo/client.js';
import { TrackerClient, type TrackerOptions } from '../../workers/tracking/client.js';
import {
  type StereoCalibration,
  checkStereoMatchesCamera,
  readStereoCalibration,
} from '../dataset/stereo-calibration.js';
import type {
  DepthEstimate,
  DepthStage,
  FusionInput,
  FusionStage,
  MeshBlockUpdate,
  PoseStage,
  TrackInput,
  TrackOutput,
} from './stages.js';

export const DEFAULT_FUSION_SETTINGS = { voxelSize: DEFAULT_FUSION_OPTIONS.voxelSize } as const;

class NetworkDepthStage implements DepthStage {
  readonly name = 'depth:network';
  readonly scaleSource = 'network (unverified)' as const;
  constructor(
    private readonly client: DepthClient,
    private readonly intrinsics: PinholeIntrinsics,
  ) {}
  get executionProvider(): string {
    return this.client.executionProvider;
  }
  estimate(frame: VideoFrame): Promise<DepthEstimate> {
    return this.client.estimate({ rgb: frame.image, intrinsics: this.intrinsics });
  }
  estimateMotion(frame: VideoFrame): Promise<Mat4 | null> {
    return this.client.motion({ rgb: frame.image, intrinsics: this.intrinsics });
  }
  estimateDepth(frame: VideoFrame): Promise<DepthImage> {
    return this.client.depth({ rgb: frame.image, intrinsics: this.intrinsics });
  }
  close(): Promise<void> {
    return this.client.close();
  }
}

export async function createNetworkDepthStage(opts: {
  modelDir?: string | undefined;
  intrinsics: PinholeIntrinsics;
}): Promise<DepthStage> {
  const client = await DepthClient.start(opts.modelDir ? { modelDir: opts.modelDir } : {});
  return new NetworkDepthStage(client, opts.intrinsics);
}

/**
 * Metric depth from the rectified pair of each frame (frame.image = left, frame.right = right view). It
 * predicts no motion, so tracking starts from its constant-velocity prior, as with ground-truth depth.
 */
class StereoDepthStage implements DepthStage {
  readonly name = 'depth:stereo';
  readonly scaleSource = 'stereo' as const;
  readonly executionProvider = null;
  constructor(
    private readonly client: StereoClient,
    private readonly intrinsics: PinholeIntrinsics,
  ) {}
  async estimate(frame: VideoFrame): Promise<DepthEstimate> {
    if (!frame.right) {
      throw new Error(
        `frame ${frame.index}: no right view; --depth stereo needs a stereo source (a dataset with right/ and stereo.json)`,
      );
    }
    const l = frame.image;
    const r = frame.right;
    if (l.width !== r.width || l.height !== r.height) {
      throw new Error(
        `frame ${frame.index}: the stereo pair differs in size (left ${l.width}x${l.height}, right ${r.width}x${r.height})`,
      );
    }
    if (l.width !== this.intrinsics.width || l.height !== this.intrinsics.height) {
      throw new Error(
        `frame ${frame.index}: the pair is ${l.width}x${l.height} but the stereo profile is for ${this.intrinsics.width}x${this.intrinsics.height}`,
      );
    }
    const s = await this.client.estimate({ left: l, right: r });
    return { depth: s.depth, relativePose: null };
  }
  close(): Promise<void> {
    return this.client.close();
  }
}

/** Reads and checks a stereo profile against the reference camera of the source. */
export async function loadStereoProfile(
  file: string,
  intrinsics: PinholeIntrinsics,
): Promise<StereoCalibration> {
  const calibration = await readStereoCalibration(file);
  checkStereoMatchesCamera(calibration, intrinsics, file);
  return calibration;
}

/**
 * The stereo profile of a stereo dataset (stereo.json checked against the camera), and the right views
 * it says where to find: right/NNNNNN.png (layout 'separate') or packed into each frame.
 */
export async function stereoProfileOfDataset(
  ds: { root: string; stereoFile: string | null; rightFiles: readonly string[] },
  intrinsics: PinholeIntrinsics,
): Promise<StereoCalibration> {
  if (!ds.stereoFile) throw new Error(`${ds.root}: a stereo dataset needs stereo.json (docs/stereo.md)`);
  const calibration = await loadStereoProfile(ds.stereoFile, intrinsics);
  if (calibration.layout === 'separate' && ds.rightFiles.length === 0) {
    throw new Error(
      `${ds.stereoFile}: layout 'separate' needs the right views in right/NNNNNN.png (or declare the packed layout of the frames)`,
    );
  }
  return calibration;
}

export async function createStereoDepthStage(opts: {
  calibration: StereoCalibration;
  intrinsics: PinholeIntrinsics;
}): Promise<DepthStage> {
  checkStereoMatchesCamera(opts.calibration, opts.intrinsics, 'stereo profile', 'the source');
  return new StereoDepthStage(StereoClient.start({ calibration: opts.calibration }), opts.intrinsics);
}

class TrackingStage implements PoseStage {
  readonly name = 'tracking:photometric';
  private lastPose: Mat4 | null = null;
  private lastIndex = -1;
  constructor(private readonly client: TrackerClient) {}

  async track({ frame, depth, relativePose }: TrackInput): Promise<TrackOutput> {
    // The pose head's motion prior, chained onto the last tracked pose, replaces constant velocity.
    const poseHint = this.lastPose && relativePose ? multiply4(this.lastPose, relativePose) : null;
    const r = await this.client.track({
      index: frame.index,
      timestamp: frame.timestamp,
      rgb: frame.image,
      depth,
      poseHint,
    });
    this.lastPose = r.pose;
    this.lastIndex = frame.index;
    const m = r.measures;
    const metrics: Record<string, number> = {
      triangulatedPoints: m.triangulatedPoints,
      validPixels: m.validPixels,
      iterations: m.iterations,
      finalError: m.finalError,
      trackingMs: m.ms,
    };
    if (m.reprojectionErrorPx !== null) metrics.meanReprojectionErrorPx = m.reprojectionErrorPx;
    return {
      pose: r.pose,
      state: r.state,
      isKeyframe: r.isKeyframe,
      needsKeyframe: r.needsKeyframe,
      metrics,
    };
  }

  async addKeyframe(frame: VideoFrame, depth: DepthImage, tracked: TrackOutput): Promise<TrackOutput> {
    if (frame.index > this.lastIndex) {
      throw new Error(
        `tracking: keyframe depth for frame ${frame.index}, not tracked yet (last ${this.lastIndex})`,
      );
    }
    const r = await this.client.addKeyframe({ index: frame.index, depth });
    // The first keyframe fixes the world frame: its pose only exists from here on.
    if (r.pose && !this.lastPose) this.lastPose = r.pose;
    return {
      ...tracked,
      pose: r.pose,
      state: r.state,
      isKeyframe: r.isKeyframe,
      needsKeyframe: false,
      metrics: { ...tracked.metrics, keyframePoints: r.keyframePoints },
    };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export async function createTrackingStage(opts: {
  intrinsics: PinholeIntrinsics;
  /** Tracker settings other than the intrinsics (src/workers/tracking/types.ts); defaults otherwise. */
  tracker?: Omit<TrackerOptions, 'intrinsics'>;
}): Promise<PoseStage> {
  const client = TrackerClient.start({ ...opts.tracker, intrinsics: opts.intrinsics });
  // Started now, not at the first frame: a worker that cannot start fails here, and the run's first
  // frame does not wait ~50 ms for it.
  await client.ready();
  return new TrackingStage(client);
}

class TsdfFusionStage implements FusionStage {
  readonly name = 'fusion:tsdf';
  constructor(private readonly client: FusionClient) {}
  async integrate(input: FusionInput): Promise<void> {
    await this.client.integrate({
      depth: input.depth,
      rgb: input.rgb,
      pose: input.pose,
      intrinsics: input.intrinsics,
    });
  }
  extractChanged(): Promise<MeshBlockUpdate> {
    return this.client.extractMesh({ incremental: true });
  }
  extractMesh(): Promise<TriangleMesh> {
    return this.client.extractMesh({ incremental: false });
  }
  close(): Promise<void> {
    return this.client.close();
  }
}

export async function createFusionStage(opts: FusionOptions): Promise<FusionStage> {
  const client = FusionClient.start(opts);
  // As for tracking: the worker (and its volume, whose options it validates) is ready before the run.
  await client.ready();
  return new TsdfFusionStage(client);
}
