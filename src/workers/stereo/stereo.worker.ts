/** Worker thread hosting one semi-global matcher for one stereo profile; started by StereoClient (client.ts). */
import type { RgbImage } from '../../shared/frames.js';
import { serveWorker, withTransfer, workerInit } from '../rpc.js';
import { type RectifiedGeometry, SgmMatcher, type SgmOptions } from './sgm.js';

export interface StereoWorkerInit {
  geometry: RectifiedGeometry;
  options: SgmOptions;
  /** Depths outside this range (mm) are unknown. */
  depthRangeMm: [number, number];
}

const init = workerInit<StereoWorkerInit>();
const k = init.geometry.intrinsics;
const matcher = new SgmMatcher(k.width, k.height, init.options);

export const handlers = {
  estimate(arg: { left: RgbImage; right: RgbImage }) {
    const t0 = performance.now();
    const r = matcher.depth(arg.left, arg.right, init.geometry, {
      minDepth: init.depthRangeMm[0],
      maxDepth: init.depthRangeMm[1],
    });
    const result = {
      depth: r.depth,
      confidence: r.confidence,
      valid: r.stats.valid,
      ms: performance.now() - t0,
    };
    return withTransfer(result, [r.depth.data.buffer as ArrayBuffer, r.confidence.buffer as ArrayBuffer]);
  },
};

export type StereoHandlers = typeof handlers;

serveWorker(handlers);
