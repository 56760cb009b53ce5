/**
 * StereoClient: the semi-global matcher (native, multithreaded) in its own worker thread, one per run.
 *
 *   const stereo = StereoClient.start({ calibration });           // a rectified stereo profile
 *   const { depth, confidence } = await stereo.estimate({ left, right });
 *   await stereo.close();
 *
 * `depth` is mm along the left camera's optical axis at the frames' size; 0 = unknown (no match, failed
 * left-right or uniqueness check, speckle, outside the profile's depth range). Never a made-up value.
 */
import type { StereoCalibration } from '../../engine/dataset/stereo-calibration.js';
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import { WorkerClient, workerEntry } from '../rpc.js';
import type { SgmOptions } from './sgm.js';
import type { StereoHandlers, StereoWorkerInit } from './stereo.worker.js';

/**
 * Matcher settings of the product path, tuned on the Open-CAS liver pair (bench/stereo.ts): strong
 * smoothness (P1 60, P2 900 census bits) suits tissue, which is smooth at the scale of a pixel.
 */
export const DEFAULT_STEREO_MATCHER: SgmOptions = {
  paths: 8,
  p1: 60,
  p2: 900,
  p2Gradient: 0,
  uniqueness: 0,
  lrMaxDiff: 3,
  speckleWindow: 100,
  speckleRange: 1,
};

/**
 * A faster setting (one sweep of 5 paths over 7x7-box census costs, about 0.7x the time of the default)
 * at lower accuracy on the liver (bench/stereo.ts prints both).
 */
export const FAST_STEREO_MATCHER: SgmOptions = {
  ...DEFAULT_STEREO_MATCHER,
  paths: 5,
  costBox: 3,
  p1: 40,
  p2: 600,
};

export interface StereoEstimate {
  depth: DepthImage;
  /** [0, 1] per pixel, 0 where depth is unknown. */
  confidence: Float32Array;
  valid: number;
  ms: number;
}

export class StereoClient {
  private constructor(
    private readonly worker: WorkerClient<StereoHandlers>,
    readonly calibration: StereoCalibration,
  ) {}

  static start(opts: { calibration: StereoCalibration; matcher?: SgmOptions }): StereoClient {
    const c = opts.calibration;
    const init: StereoWorkerInit = {
      calibration: c,
      options: { ...DEFAULT_STEREO_MATCHER, ...opts.matcher },
    };
    return new StereoClient(
      WorkerClient.start<StereoHandlers>(workerEntry('stereo/stereo'), init, 'stereo'),
      c,
    );
  }

  estimate(input: { left: RgbImage; right: RgbImage }): Promise<StereoEstimate> {
    return this.worker.call('estimate', input);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
