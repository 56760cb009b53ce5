/**
 * Keyframe-based photometric camera tracking (method section 3.2). Each frame is aligned to the active
 * keyframe by the native coarse-to-fine Gauss-Newton (kernels.ts); this class decides the initial guess
 * (constant velocity or the pose head's hint), whether the result is trustworthy, when to take a new
 * keyframe, and how to recover when tracking is lost. It is synchronous and runs inside the tracking
 * worker (tracking.worker.ts); use TrackerClient from the pipeline.
 */
import { validateIntrinsics } from '../../shared/camera.js';
import { assertDepthImage, assertRgbImage } from '../../shared/frames.js';
import {
  type Mat4,
  identity4,
  invertRigid,
  isFiniteMatrix,
  isRigid,
  multiply4,
} from '../../shared/math/mat4.js';
import {
  type Twist,
  nearestRigid,
  rotationAngle,
  se3Exp,
  se3Log,
  translationLength,
} from '../../shared/math/se3.js';
import { type AlignOutput, type NativeFrame, type TrackingKernels, loadTrackingKernels } from './kernels.js';
import type {
  KeyframeInput,
  KeyframePolicy,
  KeyframeResult,
  LostPolicy,
  TrackInput,
  TrackMeasures,
  TrackResult,
  TrackerOptions,
  TrackingState,
} from './types.js';

export const DEFAULT_KEYFRAME_POLICY: KeyframePolicy = {
  minOverlap: 0.7,
  maxTranslationRatio: 0.08,
  maxRotation: 0.12,
  maxErrorGrowth: 1.8,
};

export const DEFAULT_LOST_POLICY: LostPolicy = {
  minValidPoints: 150,
  minOverlap: 0.12,
  minInlierRatio: 0.45,
  maxRms: 40,
  maxStepTranslationRatio: 0.6,
  maxStepRotation: 0.6,
  relocaliseKeyframes: 5,
};

/** Frames asking for a keyframe that addKeyframe can still complete. */
const PENDING_KEYFRAMES = 3;

/** Keyframes kept for relocalisation; older ones are released. */
const KEPT_KEYFRAMES = 12;

interface Keyframe {
  index: number;
  frame: NativeFrame;
  /** Camera-to-world. */
  pose: Mat4;
  medianDepth: number;
  points: number;
  /** RMS error of the first frame tracked against it: the baseline for the error-growth criterion. */
  baselineRms: number | null;
}

interface Attempt {
  keyframe: Keyframe;
  out: AlignOutput;
  /** Camera-to-world of the tracked frame. */
  pose: Mat4;
}

function scaleTwist(xi: Twist, s: number): Twist {
  return xi.map((x) => x * s) as Twist;
}

export class PhotometricTracker {
  readonly keyframePolicy: KeyframePolicy;
  readonly lostPolicy: LostPolicy;
  private readonly kernels: TrackingKernels;
  private keyframes: Keyframe[] = [];
  private active: Keyframe | null = null;
  private last: { index: number; pose: Mat4 } | null = null;
  /** Motion per frame index, as a twist of T_previous_current. */
  private velocity: Twist | null = null;
  private gain = 1;
  private bias = 0;
  private state: TrackingState = 'initialising';
  /**
   * Recent frames that asked for a keyframe without depth, newest last: what addKeyframe completes.
   * Its depth may arrive after the next frame was tracked (the pipeline overlaps the depth network with
   * tracking), so a few are kept.
   */
  private pending: { index: number; rgb: TrackInput['rgb']; pose: Mat4 }[] = [];

  constructor(
    private readonly options: TrackerOptions,
    kernels?: TrackingKernels,
  ) {
    validateIntrinsics(options.intrinsics, 'tracker intrinsics');
    const levels = options.levels ?? 4;
    if (!Number.isInteger(levels) || levels < 1 || levels > 8)
      throw new RangeError(`tracker: levels must be 1..8, got ${levels}`);
    const finest = options.finestLevel ?? 0;
    if (!Number.isInteger(finest) || finest < 0 || finest >= levels) {
      throw new RangeError(`tracker: finestLevel must be in [0, ${levels - 1}], got ${finest}`);
    }
    if (
      options.maxPoints !== undefined &&
      !(Number.isInteger(options.maxPoints) && options.maxPoints >= 16)
    ) {
      throw new RangeError(`tracker: maxPoints must be an integer >= 16, got ${options.maxPoints}`);
    }
    if (
      options.depthWeight !== undefined &&
      !(options.depthWeight >= 0 && Number.isFinite(options.depthWeight))
    ) {
      throw new RangeError(`tracker: depthWeight must be a finite number >= 0, got ${options.depthWeight}`);
    }
    this.kernels = kernels ?? loadTrackingKernels();
    this.keyframePolicy = { ...DEFAULT_KEYFRAME_POLICY, ...options.keyframe };
    this.lostPolicy = { ...DEFAULT_LOST_POLICY, ...options.lost };
  }

  get trackingState(): TrackingState {
    return this.state;
  }

  get keyframeCount(): number {
    return this.keyframes.length;
  }

  private nativeFrame(rgb: TrackInput['rgb'], depth: TrackInput['depth']): NativeFrame {
    const k = this.options.intrinsics;
    return new this.kernels.Frame({
      rgb: rgb.data,
      width: k.width,
      height: k.height,
      depth: depth?.data ?? null,
      fx: k.fx,
      fy: k.fy,
      cx: k.cx,
      cy: k.cy,
      levels: this.options.levels ?? 4,
      maxPoints: this.options.maxPoints ?? 12000,
      saturation: this.options.saturation ?? 250,
      dark: this.options.dark ?? 12,
    });
  }

  track(input: TrackInput): TrackResult {
    const t0 = performance.now();
    this.validate(input);
    const frame = this.nativeFrame(input.rgb, input.depth);
    const finish = (
      r: Omit<TrackResult, 'index' | 'timestamp' | 'measures' | 'needsKeyframe'>,
      m: Partial<TrackMeasures>,
      wantsKeyframe = false,
    ): TrackResult => {
      this.state = r.state;
      if (wantsKeyframe) {
        this.pending.push({ index: input.index, rgb: input.rgb, pose: r.pose ?? identity4() });
        if (this.pending.length > PENDING_KEYFRAMES) this.pending.shift();
      }
      return {
        index: input.index,
        timestamp: input.timestamp,
        ...r,
        needsKeyframe: wantsKeyframe,
        measures: { ...emptyMeasures(), ...m, ms: performance.now() - t0 },
      };
    };

    if (!this.active) {
      // World = the first keyframe's camera; until a frame with usable depth arrives there is none.
      const kf = this.makeKeyframe(input.index, frame, identity4());
      if (!kf) {
        return finish(
          {
            pose: null,
            state: 'initialising',
            isKeyframe: false,
            keyframeIndex: null,
            reason: this.noKeyframeReason(input),
          },
          {},
          input.depth === null,
        );
      }
      this.last = { index: input.index, pose: kf.pose };
      return finish(
        { pose: kf.pose, state: 'initialising', isKeyframe: true, keyframeIndex: kf.index, reason: '' },
        { keyframePoints: kf.points, validPixels: kf.points },
      );
    }

    const attempt = this.state === 'lost' ? this.relocalise(frame) : this.trackActive(frame, input);
    if (!attempt.accepted) {
      const out = attempt.best?.out;
      return finish(
        { pose: null, state: 'lost', isKeyframe: false, keyframeIndex: null, reason: attempt.reason },
        out ? this.measuresOf(out, input) : {},
      );
    }
    const { keyframe, out, pose } = attempt.best!;
    const relocalised = this.state === 'lost';
    if (relocalised) {
      this.active = keyframe;
      this.velocity = null;
    } else if (this.last) {
      const frames = input.index - this.last.index;
      this.velocity =
        frames > 0 ? scaleTwist(se3Log(multiply4(invertRigid(this.last.pose), pose)), 1 / frames) : null;
    }
    this.last = { index: input.index, pose };
    this.gain = out.gain;
    this.bias = out.bias;
    keyframe.baselineRms ??= out.rms;

    let isKeyframe = false;
    const wantsKeyframe = !relocalised && this.needsKeyframe(keyframe, out, pose);
    if (wantsKeyframe && input.depth) isKeyframe = this.makeKeyframe(input.index, frame, pose) !== null;
    return finish(
      {
        pose,
        state: relocalised ? 'relocalised' : 'tracking',
        isKeyframe,
        keyframeIndex: keyframe.index,
        reason: '',
      },
      this.measuresOf(out, input),
      wantsKeyframe && !input.depth,
    );
  }

  /**
   * Makes a recent frame that asked for it (needsKeyframe) a keyframe, with its depth now estimated;
   * later frames may have been tracked meanwhile (against the previous keyframe). The first keyframe
   * defines the world frame, so that frame's pose becomes the identity.
   */
  addKeyframe(input: KeyframeInput): KeyframeResult {
    const p = this.pending.find((f) => f.index === input.index);
    if (!p) {
      throw new RangeError(
        `addKeyframe: frame ${input.index} is not a recent frame asking for a keyframe` +
          (this.pending.length ? ` (${this.pending.map((f) => f.index).join(', ')} are)` : ''),
      );
    }
    const k = this.options.intrinsics;
    assertDepthImage(input.depth, `addKeyframe: frame ${input.index} depth`);
    if (input.depth.width !== k.width || input.depth.height !== k.height) {
      throw new RangeError(
        `addKeyframe: frame ${input.index} depth is ${input.depth.width}x${input.depth.height}, intrinsics say ${k.width}x${k.height}`,
      );
    }
    // Requests up to this frame are answered by this keyframe.
    this.pending = this.pending.filter((f) => f.index > input.index);
    const first = this.active === null;
    const kf = this.makeKeyframe(input.index, this.nativeFrame(p.rgb, input.depth), p.pose);
    if (first && kf) this.last = { index: input.index, pose: kf.pose };
    const pose = first ? (kf?.pose ?? null) : p.pose;
    return {
      isKeyframe: kf !== null,
      pose,
      // Only accepted, non-relocalised frames ask for keyframes: that frame was 'tracking'.
      state: first ? 'initialising' : 'tracking',
      keyframeIndex: kf ? kf.index : (this.active?.index ?? null),
      reason: kf ? '' : first ? 'waiting for a first keyframe: too few textured pixels with valid depth' : '',
      keyframePoints: kf?.points ?? 0,
    };
  }

  private validate(input: TrackInput): void {
    const k = this.options.intrinsics;
    if (!Number.isInteger(input.index) || input.index < 0)
      throw new RangeError(`track: index ${input.index} is not a frame index`);
    if (!Number.isFinite(input.timestamp))
      throw new RangeError(`track: frame ${input.index} timestamp is not finite`);
    assertRgbImage(input.rgb, `track: frame ${input.index} rgb`);
    if (input.rgb.width !== k.width || input.rgb.height !== k.height) {
      throw new RangeError(
        `track: frame ${input.index} rgb is ${input.rgb.width}x${input.rgb.height}, intrinsics say ${k.width}x${k.height}`,
      );
    }
    if (input.depth) {
      assertDepthImage(input.depth, `track: frame ${input.index} depth`);
      if (input.depth.width !== k.width || input.depth.height !== k.height) {
        throw new RangeError(
          `track: frame ${input.index} depth is ${input.depth.width}x${input.depth.height}, intrinsics say ${k.width}x${k.height}`,
        );
      }
    }
    if (input.poseHint && !isRigid(input.poseHint, 1e-5)) {
      throw new RangeError(`track: frame ${input.index} poseHint is not a finite rigid transform`);
    }
    if (this.last && input.index <= this.last.index) {
      throw new RangeError(
        `track: frame ${input.index} arrives after frame ${this.last.index}; frames must come in order`,
      );
    }
  }

  private noKeyframeReason(input: TrackInput): string {
    return input.depth
      ? 'waiting for a first keyframe: too few textured pixels with valid depth'
      : 'waiting for a first keyframe: this frame has no depth';
  }

  private makeKeyframe(index: number, frame: NativeFrame, pose: Mat4): Keyframe | null {
    const info = frame.info();
    if (!info.hasDepth || (info.points[0] ?? 0) < this.lostPolicy.minValidPoints * 2) return null;
    const kf: Keyframe = {
      index,
      frame,
      pose,
      medianDepth: info.medianDepth,
      points: info.points[0]!,
      baselineRms: null,
    };
    this.keyframes.push(kf);
    if (this.keyframes.length > KEPT_KEYFRAMES) this.keyframes.shift();
    this.active = kf;
    this.gain = 1;
    this.bias = 0;
    return kf;
  }

  private align(kf: Keyframe, frame: NativeFrame, guess: Mat4, coarseIterations?: number): Attempt {
    const init = multiply4(invertRigid(guess), kf.pose);
    const out = this.kernels.align(kf.frame, frame, init, {
      finestLevel: this.options.finestLevel ?? 0,
      estimateAffine: this.options.estimateAffine ?? true,
      depthWeight: this.options.depthWeight ?? 1,
      gain: this.gain > 0 ? this.gain : 1,
      bias: this.bias,
      minPoints: 40,
      ...(coarseIterations ? { maxIterationsCoarse: coarseIterations } : {}),
    });
    // The kernels' float32 pose drifts off SO(3) by ~1e-5 over a sequence; keep the chain rigid.
    return { keyframe: kf, out, pose: nearestRigid(multiply4(kf.pose, invertRigid(nearestRigid(out.pose)))) };
  }

  /** Why an alignment cannot be trusted, or '' when it can. */
  private rejection(a: Attempt, checkStep: boolean): string {
    const p = this.lostPolicy;
    const o = a.out;
    if (!o.ok) return o.reason;
    if (!isFiniteMatrix(a.pose) || !isRigid(a.pose, 1e-4)) return 'alignment produced an invalid pose';
    if (o.validPoints < p.minValidPoints) return `only ${o.validPoints} keyframe points visible`;
    if (o.validPoints < p.minOverlap * o.totalPoints)
      return `overlap with the keyframe ${(o.validPoints / o.totalPoints).toFixed(2)} too small`;
    if (o.inlierRatio < p.minInlierRatio) return `inlier ratio ${o.inlierRatio.toFixed(2)} too low`;
    if (o.rms > p.maxRms) return `photometric error ${o.rms.toFixed(1)} too high`;
    if (checkStep && this.last) {
      const step = multiply4(invertRigid(this.last.pose), a.pose);
      const depth = a.keyframe.medianDepth > 0 ? a.keyframe.medianDepth : 1;
      if (
        translationLength(step) > p.maxStepTranslationRatio * depth ||
        rotationAngle(step) > p.maxStepRotation
      ) {
        return 'implausible jump from the previous pose';
      }
    }
    return '';
  }

  private trackActive(
    frame: NativeFrame,
    input: TrackInput,
  ): { accepted: boolean; best: Attempt | null; reason: string } {
    const kf = this.active!;
    const last = this.last ?? { index: kf.index, pose: kf.pose };
    const guesses: Mat4[] = [];
    if (input.poseHint) guesses.push(input.poseHint);
    if (this.velocity)
      guesses.push(multiply4(last.pose, se3Exp(scaleTwist(this.velocity, input.index - last.index))));
    guesses.push(last.pose);
    let best: Attempt | null = null;
    let reason = '';
    for (const guess of guesses) {
      const a = this.align(kf, frame, guess);
      const why = this.rejection(a, true);
      if (!why) return { accepted: true, best: a, reason: '' };
      if (!best || (a.out.ok && a.out.cost < best.out.cost)) best = a;
      reason ||= why;
    }
    return { accepted: false, best, reason: `tracking lost: ${reason}` };
  }

  /** Tries the most recent keyframes, from the last good pose, with more coarse iterations. */
  private relocalise(frame: NativeFrame): { accepted: boolean; best: Attempt | null; reason: string } {
    const candidates = this.keyframes.slice(-this.lostPolicy.relocaliseKeyframes).reverse();
    const from = this.last?.pose ?? candidates[0]!.pose;
    let best: Attempt | null = null;
    let reason = '';
    for (const kf of candidates) {
      for (const guess of kf === candidates[0] ? [from] : [from, kf.pose]) {
        this.gain = 1;
        this.bias = 0;
        const a = this.align(kf, frame, guess, 60);
        const why = this.rejection(a, false);
        if (!why && (!best || a.out.cost < best.out.cost)) best = a;
        reason ||= why;
      }
      if (best) break;
    }
    return best
      ? { accepted: true, best, reason: '' }
      : { accepted: false, best: null, reason: `still lost: ${reason}` };
  }

  private needsKeyframe(kf: Keyframe, out: AlignOutput, pose: Mat4): boolean {
    const p = this.keyframePolicy;
    const rel = multiply4(invertRigid(kf.pose), pose);
    const depth = kf.medianDepth > 0 ? kf.medianDepth : 1;
    return (
      out.validPoints < p.minOverlap * out.totalPoints ||
      translationLength(rel) > p.maxTranslationRatio * depth ||
      rotationAngle(rel) > p.maxRotation ||
      (kf.baselineRms !== null && out.rms > p.maxErrorGrowth * Math.max(kf.baselineRms, 2))
    );
  }

  private measuresOf(out: AlignOutput, input: TrackInput): Partial<TrackMeasures> {
    return {
      reprojectionErrorPx: input.depth && out.checkedPoints > 0 ? out.reprojectionError : null,
      triangulatedPoints: input.depth ? out.consistentPoints : 0,
      validPixels: out.validPoints,
      keyframePoints: out.totalPoints,
      iterations: out.iterations,
      finalError: out.rms,
      inlierRatio: out.inlierRatio,
      gain: out.gain,
      bias: out.bias,
    };
  }
}

function emptyMeasures(): TrackMeasures {
  return {
    reprojectionErrorPx: null,
    triangulatedPoints: 0,
    validPixels: 0,
    keyframePoints: 0,
    iterations: 0,
    finalError: 0,
    inlierRatio: 0,
    gain: 1,
    bias: 0,
    ms: 0,
  };
}
