/**
 * DepthClient: the depth + pose networks in their own worker thread, one per pipeline session.
 *
 *   const depth = await DepthClient.start({});            // models/ of the repository, best provider
 *   const { depth: d, relativePose } = await depth.estimate({ rgb, intrinsics });
 *   depth.reset();                                         // new sequence: forget the SAB memory
 *   await depth.close();
 *
 * `depth` is in mm along the optical axis at the frame's size (0 = unknown, e.g. the black border).
 * `relativePose` is T_prev_cur: the pose of the current camera in the previous camera's frame (it maps
 * current-camera points into the previous camera). The camera-to-world prior for tracking is therefore
 * T_world_prev * T_prev_cur. It is null for the first frame after start or reset.
 */
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import type { Mat4 } from '../../shared/math/mat4.js';
import { WorkerClient, workerEntry } from '../rpc.js';
import { threadBudget } from '../thread-budget.js';
import type { DepthEngineInfo, DepthEngineOptions } from './depth-engine.js';
import type { DepthHandlers } from './depth.worker.js';
import { defaultModelDir } from './manifest.js';
import type { ProviderRequest } from './providers.js';

export interface DepthClientOptions {
  /** Folder with manifest.json and the .onnx files; default: the repository's models/. */
  modelDir?: string;
  /** 'auto' (default): CUDA on Linux when installed, DirectML on Windows, CoreML on macOS, else CPU. */
  provider?: ProviderRequest;
  /** onnxruntime intra-op threads (default: the process's thread budget, src/workers/thread-budget.ts). */
  threads?: number;
  /** Whether onnxruntime's threads busy-wait between operators (default: the thread budget's, off). */
  spinning?: boolean;
  /** Network input size instead of the manifest's (see DepthEngineOptions.inputSize). */
  inputSize?: { width: number; height: number };
}

export interface DepthEstimateResult {
  depth: DepthImage;
  relativePose: Mat4 | null;
}

export class DepthClient {
  private constructor(
    private readonly worker: WorkerClient<DepthHandlers>,
    readonly info: DepthEngineInfo,
  ) {}

  static async start(opts: DepthClientOptions = {}): Promise<DepthClient> {
    const budget = threadBudget();
    const init: DepthEngineOptions = {
      modelDir: opts.modelDir ?? defaultModelDir(),
      provider: opts.provider ?? 'auto',
      threads: opts.threads ?? budget.onnxThreads,
      spinning: opts.spinning ?? budget.onnxSpinning,
      ...(opts.inputSize ? { inputSize: opts.inputSize } : {}),
    };
    const worker = WorkerClient.start<DepthHandlers>(workerEntry('depth/depth'), init, 'depth');
    let info: DepthEngineInfo;
    try {
      info = await worker.call('info', undefined);
    } catch (err) {
      await worker.close();
      throw err;
    }
    for (const w of info.warnings) process.emitWarning(w, { code: 'NAVWS_DEPTH_PROVIDER' });
    return new DepthClient(worker, info);
  }

  /** The onnxruntime execution provider in use: 'cpu', 'cuda', 'dml' or 'coreml'. */
  get executionProvider(): string {
    return this.info.executionProvider;
  }

  /** Depth (mm, frame size) and the pose head's T_prev_cur for one frame; frames must come in order. */
  estimate(input: { rgb: RgbImage; intrinsics: PinholeIntrinsics }): Promise<DepthEstimateResult> {
    return this.worker.call('estimate', { rgb: input.rgb, intrinsics: input.intrinsics });
  }

  /** The pose head alone: T_prev_cur against the previous frame given to estimate/motion (null for the first). */
  motion(input: { rgb: RgbImage; intrinsics: PinholeIntrinsics }): Promise<Mat4 | null> {
    return this.worker.call('motion', { rgb: input.rgb, intrinsics: input.intrinsics });
  }

  /** The depth graph alone (a keyframe's depth, mm, frame size); the pose head's pair is not advanced. */
  depth(input: { rgb: RgbImage; intrinsics: PinholeIntrinsics }): Promise<DepthImage> {
    return this.worker.call('depth', { rgb: input.rgb, intrinsics: input.intrinsics });
  }

  /** Starts a new sequence: clears the SAB memory and the previous frame. */
  async reset(): Promise<void> {
    await this.worker.call('reset', undefined);
  }

  /** A copy of the SAB memory the next frame will see (diagnostics and tests). */
  memory(): Promise<Float32Array> {
    return this.worker.call('memory', undefined);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
