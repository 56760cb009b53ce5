/**
 * Depth worker: owns one DepthEngine (one onnxruntime session pair) for one pipeline session.
 * Started by DepthClient; the init value is the engine options.
 */
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type { RgbImage } from '../../shared/frames.js';
import { serveWorker, withTransfer, workerInit } from '../rpc.js';
import { DepthEngine, type DepthEngineOptions } from './depth-engine.js';

const ready = DepthEngine.create(workerInit<DepthEngineOptions>());
// The failure is reported through `info`; keep it from surfacing as an unhandled rejection first.
ready.catch(() => undefined);

export const handlers = {
  async info() {
    return (await ready).info;
  },
  async estimate(arg: { rgb: RgbImage; intrinsics: PinholeIntrinsics }) {
    const result = await (await ready).estimate(arg.rgb, arg.intrinsics);
    const transfer = [result.depth.data.buffer as ArrayBuffer];
    if (result.relativePose) transfer.push(result.relativePose.buffer as ArrayBuffer);
    return withTransfer(result, transfer);
  },
  async reset() {
    (await ready).reset();
    return true;
  },
  async memory() {
    return Float32Array.from((await ready).memoryState);
  },
};

export type DepthHandlers = typeof handlers;

serveWorker(handlers);
