/** Worker thread hosting the stereo depth of one profile (stereo-depth.ts); started by StereoClient (client.ts). */
import type { StereoCalibration } from '../../engine/dataset/stereo-calibration.js';
import type { RgbImage } from '../../shared/frames.js';
import { serveWorker, withTransfer, workerInit } from '../rpc.js';
import type { SgmOptions } from './sgm.js';
import { StereoDepthEngine } from './stereo-depth.js';

export interface StereoWorkerInit {
  calibration: StereoCalibration;
  options: SgmOptions;
}

const init = workerInit<StereoWorkerInit>();
const engine = new StereoDepthEngine(init.calibration, init.options);

export const handlers = {
  estimate(arg: { left: RgbImage; right: RgbImage }) {
    const t0 = performance.now();
    const r = engine.estimate(arg.left, arg.right);
    const result = { ...r, ms: performance.now() - t0 };
    return withTransfer(result, [r.depth.data.buffer as ArrayBuffer, r.confidence.buffer as ArrayBuffer]);
  },
};

export type StereoHandlers = typeof handlers;

serveWorker(handlers);
