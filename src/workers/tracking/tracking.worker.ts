/** Worker thread hosting one PhotometricTracker; started by TrackerClient (client.ts). */
import { serveWorker, workerInit } from '../rpc.js';
import { PhotometricTracker } from './tracker.js';
import type { KeyframeInput, KeyframeResult, TrackInput, TrackResult, TrackerOptions } from './types.js';

const tracker = new PhotometricTracker(workerInit<TrackerOptions>());

export const handlers = {
  track(input: TrackInput): TrackResult {
    return tracker.track(input);
  },
  addKeyframe(input: KeyframeInput): KeyframeResult {
    return tracker.addKeyframe(input);
  },
};

export type TrackingHandlers = typeof handlers;

serveWorker(handlers);
