/**
 * The tracking stage as the pipeline uses it: a worker thread running PhotometricTracker.
 *
 *   const tracker = TrackerClient.start({ intrinsics });
 *   const r = await tracker.track({ index, timestamp, rgb, depth });   // depth in mm, may be null
 *   r.pose   // camera-to-world 4x4 (mm), world = first keyframe's camera; null while lost
 *   await tracker.close();
 *
 * Frames must be sent in index order; one call at a time is enough to keep the worker busy (the
 * caller owns back-pressure and the drop policy). Image buffers are copied (structured clone, ~0.1 ms
 * for 384x288), not transferred, so the caller keeps them for fusion and the UI.
 * Keyframe schedule: track without depth; when r.needsKeyframe, estimate that frame's depth and call
 * `addKeyframe({ index, depth })` before the next frame.
 */
import { WorkerClient, workerEntry } from '../rpc.js';
import type { TrackingHandlers } from './tracking.worker.js';
import type { KeyframeInput, KeyframeResult, TrackInput, TrackResult, TrackerOptions } from './types.js';

export type {
  KeyframeInput,
  KeyframeResult,
  TrackInput,
  TrackResult,
  TrackerOptions,
  TrackMeasures,
  TrackingState,
} from './types.js';

export class TrackerClient {
  private constructor(private readonly worker: WorkerClient<TrackingHandlers>) {}

  static start(options: TrackerOptions): TrackerClient {
    return new TrackerClient(
      WorkerClient.start<TrackingHandlers>(workerEntry('tracking/tracking'), options, 'tracking'),
    );
  }

  /** Resolves when the worker runs (it starts in the background); closes it and rejects if it cannot start. */
  ready(): Promise<void> {
    return this.worker.ready();
  }

  track(input: TrackInput): Promise<TrackResult> {
    return this.worker.call('track', input);
  }

  /** Depth for the frame whose track() result said needsKeyframe (the keyframe schedule). */
  addKeyframe(input: KeyframeInput): Promise<KeyframeResult> {
    return this.worker.call('addKeyframe', input);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
