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

// The engine keeps sequence state (the pose pair, the SAB memory) that each call reads and advances,
// and onnxruntime runs are asynchronous: calls are chained so they never interleave, in arrival order.
let chain: Promise<unknown> = Promise.resolve();
function serial<T>(fn: (engine: DepthEngine) => Promise<T>): Promise<T> {
  const next = chain.then(async () => fn(await ready));
  chain = next.catch(() => undefined);
  return next;
}

type FrameArg = { rgb: RgbImage; intrinsics: PinholeIntrinsics };

export const handlers = {
  async info() {
    return (await ready).info;
  },
  estimate(arg: FrameArg) {
    return serial(async (engine) => {
      const result = await engine.estimate(arg.rgb, arg.intrinsics);
      // The depth is on a SharedArrayBuffer (shared, never transferred); the pose is moved.
      return withTransfer(result, result.relativePose ? [result.relativePose.buffer as ArrayBuffer] : []);
    });
  },
  motion(arg: FrameArg) {
    return serial(async (engine) => {
      const pose = await engine.motion(arg.rgb, arg.intrinsics);
      return pose ? withTransfer(pose, [pose.buffer as ArrayBuffer]) : null;
    });
  },
  depth(arg: FrameArg) {
    return serial(async (engine) => {
      // On a SharedArrayBuffer: the caller gets the same memory, no copy and no transfer.
      return engine.depth(arg.rgb, arg.intrinsics);
    });
  },
  reset() {
    return serial(async (engine) => {
      engine.reset();
      return true;
    });
  },
  async memory() {
    return Float32Array.from((await ready).memoryState);
  },
};

export type DepthHandlers = typeof handlers;

serveWorker(handlers);
