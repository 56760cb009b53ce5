/**
 * The depth + pose networks on onnxruntime-node, for one sequence at a time. Lives inside the depth
 * worker (an onnxruntime session must stay on the thread that created it).
 *
 * Per frame (`estimate`): the frame is resampled into the planes of the pose pair's "current" half (which
 * is also the depth graph's image input: a view, not a copy), the depth graph runs with the SAB memory
 * the previous frame returned, its depth (mm, network size) is resized to the frame size, and the pose
 * graph estimates T_prev_cur from the [previous, current] pair. The current half then moves into the
 * previous half for the next frame.
 *
 * The keyframe schedule (src/engine/pipeline/reconstruct.ts) splits the two: `motion` runs the pose
 * graph alone on every frame (2.4 ms here: the tracker's initial guess), `depth` runs the depth graph
 * (15 ms) only on the frames tracking turns into keyframes; its SAB memory then attends over past
 * keyframes. `depth` resamples into its own planes, so it never disturbs the pose pair.
 */
import * as ort from 'onnxruntime-node';
import { type PinholeIntrinsics, validateIntrinsics } from '../../shared/camera.js';
import { type DepthImage, type RgbImage, assertRgbImage, sharedFloats } from '../../shared/frames.js';
import { type Mat4, type Vec3, rigidFromRt } from '../../shared/math/mat4.js';
import { so3Exp } from '../../shared/math/so3.js';
import {
  type ModelEntry,
  type ModelManifest,
  type SessionIo,
  checkSessionIo,
  loadManifest,
  verifyModelFile,
} from './manifest.js';
import { type ProviderName, type ProviderRequest, providerCandidates } from './providers.js';
import { RgbToPlanar, maskBlackBorder, resizeBilinear } from './resample.js';

export interface DepthEngineOptions {
  modelDir: string;
  provider?: ProviderRequest;
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
  /** Busy-wait between operators (default false: the other stages need the cores; thread-budget.ts). */
  spinning?: boolean;
  /**
   * Network input size; default: the size manifest.json declares (what the model was validated at).
   * The graphs accept other sizes (height and width are symbolic), e.g. for speed comparisons.
   */
  inputSize?: { width: number; height: number };
}

export interface DepthEngineInfo {
  executionProvider: ProviderName;
  /** Why a requested GPU provider was not used (empty when none failed). */
  warnings: string[];
  inputWidth: number;
  inputHeight: number;
  depthRangeMm: [number, number];
}

export interface DepthResult {
  depth: DepthImage;
  /** T_prev_cur (pose of the current camera in the previous camera's frame, mm); null for the first frame. */
  relativePose: Mat4 | null;
}

function sessionIo(s: ort.InferenceSession): SessionIo {
  const shapes = new Map<string, readonly (number | string)[]>();
  for (const m of s.inputMetadata) if (m.isTensor) shapes.set(m.name, m.shape);
  return { inputNames: s.inputNames, outputNames: s.outputNames, inputShapes: shapes };
}

function specShape(entry: ModelEntry, name: string): number[] {
  const spec = entry.inputs.find((t) => t.name === name);
  if (!spec) throw new Error(`${entry.file}: manifest declares no input '${name}'`);
  return spec.shape;
}

async function createSession(
  file: string,
  provider: ProviderName,
  threads: number,
  spinning: boolean,
): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(file, {
      executionProviders: [provider],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // Session config keys (onnxruntime_session_options_config_keys.h): a spinning intra-op thread
      // burns a core between operators and between frames, taking it from tracking and fusion.
      extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
    });
  } catch (err) {
    throw new Error(
      `${file}: onnxruntime cannot load the model with the ${provider} provider (${(err as Error).message})`,
      { cause: err },
    );
  }
}

export class DepthEngine {
  private readonly toPlanar: RgbToPlanar;
  /** [previous RGB planes, current RGB planes]: the pose graph's input; its second half feeds the depth graph. */
  private readonly pair: Float32Array;
  private readonly pairTensor: ort.Tensor;
  private readonly imageTensor: ort.Tensor;
  /** The depth graph's input when it runs alone (keyframes), apart from the pose pair. */
  private readonly keyframePlanes: Float32Array;
  private readonly keyframeTensor: ort.Tensor;
  private readonly emptyMemory: ort.Tensor;
  private memory: ort.Tensor;
  private hasPrevious = false;

  private constructor(
    private readonly depthSession: ort.InferenceSession,
    private readonly poseSession: ort.InferenceSession,
    readonly info: DepthEngineInfo,
    memoryShape: number[],
  ) {
    const { inputWidth: w, inputHeight: h } = info;
    this.toPlanar = new RgbToPlanar(w, h);
    this.pair = new Float32Array(6 * w * h);
    this.pairTensor = new ort.Tensor('float32', this.pair, [1, 6, h, w]);
    this.imageTensor = new ort.Tensor('float32', this.pair.subarray(3 * w * h), [1, 3, h, w]);
    this.keyframePlanes = new Float32Array(3 * w * h);
    this.keyframeTensor = new ort.Tensor('float32', this.keyframePlanes, [1, 3, h, w]);
    const slots = memoryShape.reduce((a, b) => a * b, 1);
    this.emptyMemory = new ort.Tensor('float32', new Float32Array(slots), memoryShape);
    this.memory = this.emptyMemory;
  }

  static async create(opts: DepthEngineOptions): Promise<DepthEngine> {
    const manifest: ModelManifest = await loadManifest(opts.modelDir);
    const depthEntry = manifest.models.depth;
    const poseEntry = manifest.models.pose;
    const [depthFile, poseFile] = await Promise.all([
      verifyModelFile(opts.modelDir, depthEntry),
      verifyModelFile(opts.modelDir, poseEntry),
    ]);
    const threads = opts.threads ?? 1;
    const spinning = opts.spinning ?? false;
    const warnings: string[] = [];
    let sessions: [ort.InferenceSession, ort.InferenceSession] | null = null;
    let active: ProviderName = 'cpu';
    for (const provider of providerCandidates(opts.provider ?? 'auto')) {
      try {
        const d = await createSession(depthFile, provider, threads, spinning);
        const p = await createSession(poseFile, provider, threads, spinning);
        sessions = [d, p];
        active = provider;
        break;
      } catch (err) {
        if (provider === 'cpu') throw err;
        warnings.push(
          `${provider} execution provider failed, falling back to CPU: ${(err as Error).message}`,
        );
      }
    }
    if (!sessions) throw new Error(`${depthFile}: no execution provider could load the model`);
    const [depthSession, poseSession] = sessions;
    checkSessionIo(sessionIo(depthSession), depthEntry, depthFile);
    checkSessionIo(sessionIo(poseSession), poseEntry, poseFile);
    const image = specShape(depthEntry, 'image');
    const pair = specShape(poseEntry, 'pair');
    if (image.length !== 4 || image[0] !== 1 || image[1] !== 3) {
      throw new Error(`${depthFile}: input 'image' must be [1,3,H,W], manifest says [${image.join(',')}]`);
    }
    if (pair.length !== 4 || pair[1] !== 6 || pair[2] !== image[2] || pair[3] !== image[3]) {
      throw new Error(
        `${poseFile}: input 'pair' must be [1,6,${image[2]},${image[3]}], manifest says [${pair.join(',')}]`,
      );
    }
    const size = opts.inputSize ?? { width: image[3]!, height: image[2]! };
    if (!(
      Number.isInteger(size.width) &&
      Number.isInteger(size.height) &&
      size.width >= 32 &&
      size.height >= 32
    )) {
      throw new RangeError(`depth inputSize must be integers >= 32, got ${size.width}x${size.height}`);
    }
    const info: DepthEngineInfo = {
      executionProvider: active,
      warnings,
      inputWidth: size.width,
      inputHeight: size.height,
      depthRangeMm: [depthEntry.depth_range_mm[0], depthEntry.depth_range_mm[1]],
    };
    return new DepthEngine(depthSession, poseSession, info, specShape(depthEntry, 'memory_in'));
  }

  /** Forgets the SAB memory and the previous frame (a new sequence starts). */
  reset(): void {
    this.memory = this.emptyMemory;
    this.hasPrevious = false;
  }

  /** Current SAB memory (for tests and diagnostics). */
  get memoryState(): Float32Array {
    return this.memory.data as Float32Array;
  }

  /** Depth and the pose head's T_prev_cur of one frame (every frame of a sequence, in order). */
  async estimate(rgb: RgbImage, intrinsics: PinholeIntrinsics): Promise<DepthResult> {
    this.check(rgb, intrinsics);
    this.toPlanar.write(rgb, this.pair, this.plane3);
    const depth = await this.runDepth(this.imageTensor, rgb);
    const relativePose = await this.advancePair();
    return { depth, relativePose };
  }

  /** The pose head alone: T_prev_cur of this frame against the previous one given to estimate/motion. */
  async motion(rgb: RgbImage, intrinsics: PinholeIntrinsics): Promise<Mat4 | null> {
    this.check(rgb, intrinsics);
    this.toPlanar.write(rgb, this.pair, this.plane3);
    return this.advancePair();
  }

  /** The depth graph alone (a keyframe's depth); the pose pair is left as it is. */
  async depth(rgb: RgbImage, intrinsics: PinholeIntrinsics): Promise<DepthImage> {
    this.check(rgb, intrinsics);
    this.toPlanar.write(rgb, this.keyframePlanes, 0);
    return this.runDepth(this.keyframeTensor, rgb);
  }

  private get plane3(): number {
    return 3 * this.info.inputWidth * this.info.inputHeight;
  }

  private check(rgb: RgbImage, intrinsics: PinholeIntrinsics): void {
    assertRgbImage(rgb, 'depth input frame');
    validateIntrinsics(intrinsics, 'depth input intrinsics');
    if (intrinsics.width !== rgb.width || intrinsics.height !== rgb.height) {
      throw new RangeError(
        `depth input: frame is ${rgb.width}x${rgb.height}, intrinsics describe ${intrinsics.width}x${intrinsics.height}`,
      );
    }
  }

  /** Runs the pose graph on [previous, current] (null for the first frame), then current -> previous. */
  private async advancePair(): Promise<Mat4 | null> {
    let relativePose: Mat4 | null = null;
    if (this.hasPrevious) {
      const pose = await this.poseSession.run({ pair: this.pairTensor });
      const aa = pose.axisangle!.data as Float32Array;
      const t = pose.translation!.data as Float32Array;
      relativePose = rigidFromRt(so3Exp([aa[0]!, aa[1]!, aa[2]!]), [t[0]!, t[1]!, t[2]!] as Vec3);
    }
    this.pair.copyWithin(0, this.plane3, 2 * this.plane3);
    this.hasPrevious = true;
    return relativePose;
  }

  private async runDepth(image: ort.Tensor, rgb: RgbImage): Promise<DepthImage> {
    const { inputWidth: w, inputHeight: h } = this.info;
    const out = await this.depthSession.run({ image, memory_in: this.memory });
    const depthOut = out.depth!.data as Float32Array;
    this.memory = out.memory_out!;

    const data = sharedFloats(rgb.width * rgb.height);
    resizeBilinear(depthOut, w, h, data, rgb.width, rgb.height);
    maskBlackBorder(data, rgb);
    // A pixel the network got wrong (NaN, infinite or negative: a damaged model, a numeric overflow)
    // becomes "no depth", so one bad pixel never stops fusion, which rejects such frames whole.
    for (let i = 0; i < data.length; i++) {
      const d = data[i]!;
      if (!(d >= 0) || d === Infinity) data[i] = 0;
    }
    return { width: rgb.width, height: rgb.height, data };
  }

  async close(): Promise<void> {
    await Promise.all([this.depthSession.release(), this.poseSession.release()]);
  }
}
