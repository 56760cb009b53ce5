/**
 * Depth of one stereo profile's frames: rectification (when the profile is not rectified; tables made
 * once), semi-global matching, and the depth carried back onto the source left camera. Runs inside the
 * stereo worker (stereo.worker.ts); benchmarks and tests use it directly.
 */
import type { StereoCalibration } from '../../engine/dataset/stereo-calibration.js';
import { disparityRange } from '../../engine/dataset/stereo-calibration.js';
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import { DepthToSource, type RemapTable, rectifyMap, remapRgb } from './rectify.js';
import { type RectifiedGeometry, SgmMatcher, type SgmOptions } from './sgm.js';

export interface StereoDepthResult {
  /** mm along the source left camera's axis, at the frames' size; 0 = unknown. */
  depth: DepthImage;
  confidence: Float32Array;
  valid: number;
}

export class StereoDepthEngine {
  private readonly matcher: SgmMatcher;
  private readonly geometry: RectifiedGeometry;
  private readonly maps: { left: RemapTable; right: RemapTable; back: DepthToSource } | null;

  constructor(
    readonly calibration: StereoCalibration,
    options: SgmOptions,
  ) {
    const c = calibration;
    this.geometry = { intrinsics: c.matching, baselineMm: c.baselineMm, disparityOffset: c.disparityOffset };
    this.matcher = new SgmMatcher(c.matching.width, c.matching.height, { ...options, ...disparityRange(c) });
    const r = c.rectification;
    this.maps = r
      ? {
          left: rectifyMap(r.left, r.rectify.r1, r.rectify.k),
          right: rectifyMap(r.right, r.rectify.r2, r.rectify.k),
          back: new DepthToSource(r.left, r.rectify),
        }
      : null;
  }

  estimate(left: RgbImage, right: RgbImage): StereoDepthResult {
    if (left.width !== right.width || left.height !== right.height) {
      throw new RangeError(
        `stereo pair: left view is ${left.width}x${left.height} but right view is ${right.width}x${right.height}`,
      );
    }
    const m = this.maps;
    const r = this.matcher.depth(
      m ? remapRgb(left, m.left) : left,
      m ? remapRgb(right, m.right) : right,
      this.geometry,
      {
        minDepth: this.calibration.depthRangeMm[0],
        maxDepth: this.calibration.depthRangeMm[1],
      },
    );
    return {
      depth: m ? m.back.apply(r.depth) : r.depth,
      confidence: m ? m.back.applyPlain(r.confidence) : r.confidence,
      valid: r.stats.valid,
    };
  }
}
