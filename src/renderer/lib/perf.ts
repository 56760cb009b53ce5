/**
 * What the UI measures about itself: frame-to-paint latency (engine emitted -> painted on screen),
 * animation-frame pacing and frames superseded before they could be painted. The status bar shows a
 * summary; `npm run bench:ui` reads the raw samples through window.navwsPerf.
 */
import type { FrameBundle } from '../../shared/api/binary.js';

const MAX_SAMPLES = 20000;
const RECENT_SAMPLES = 120;

class UiPerf {
  /** ms from producedAtMs to the paint (the end of the animation-frame callback that drew it). */
  readonly latencies: number[] = [];
  /** ms between consecutive animation frames while frames are being shown. */
  readonly rafIntervals: number[] = [];
  /** ms of main-thread work per video paint, 3D render, frame decode and mesh update (where the frame budget goes). */
  readonly paintWork: number[] = [];
  readonly sceneWork: number[] = [];
  readonly decodeWork: number[] = [];
  readonly meshWork: number[] = [];
  painted_ = 0;
  supersededCount = 0;
  private lastRaf: number | null = null;
  /** Paint time and latency of the latest paints, for recentLatency(). */
  private readonly recent: { at: number; ms: number }[] = [];
  private rafLoop = false;

  painted(frame: FrameBundle): void {
    this.painted_++;
    const now = performance.now();
    const latency = performance.timeOrigin + now - frame.producedAtMs;
    if (this.latencies.length >= MAX_SAMPLES) this.latencies.splice(0, MAX_SAMPLES / 2);
    this.latencies.push(latency);
    this.recent.push({ at: now, ms: latency });
    if (this.recent.length > RECENT_SAMPLES) this.recent.shift();
  }

  work(kind: 'paint' | 'scene' | 'decode' | 'mesh', ms: number): void {
    const list = {
      paint: this.paintWork,
      scene: this.sceneWork,
      decode: this.decodeWork,
      mesh: this.meshWork,
    }[kind];
    if (list.length >= MAX_SAMPLES) list.splice(0, MAX_SAMPLES / 2);
    list.push(ms);
  }

  superseded(): void {
    this.supersededCount++;
  }

  /** Starts recording animation-frame intervals (bench and status bar). */
  startPacing(): void {
    if (this.rafLoop) return;
    this.rafLoop = true;
    const tick = (t: number): void => {
      if (!this.rafLoop) return;
      if (this.lastRaf !== null && this.rafIntervals.length < MAX_SAMPLES)
        this.rafIntervals.push(t - this.lastRaf);
      this.lastRaf = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  stopPacing(): void {
    this.rafLoop = false;
    this.lastRaf = null;
  }

  reset(): void {
    this.latencies.length = 0;
    this.rafIntervals.length = 0;
    this.paintWork.length = 0;
    this.sceneWork.length = 0;
    this.decodeWork.length = 0;
    this.meshWork.length = 0;
    this.painted_ = 0;
    this.supersededCount = 0;
    this.recent.length = 0;
  }

  /**
   * Mean latency of the paints of the last `windowMs`, ms; null when nothing was painted in that time
   * (no stream), so a stalled or finished stream never reads as late.
   */
  recentLatency(windowMs = 1000): number | null {
    const since = performance.now() - windowMs;
    let sum = 0;
    let n = 0;
    for (const r of this.recent) {
      if (r.at < since) continue;
      sum += r.ms;
      n++;
    }
    return n > 0 ? sum / n : null;
  }
}

export const uiPerf = new UiPerf();

declare global {
  interface Window {
    navwsPerf?: UiPerf;
  }
}
// The page exposes it to the benchmark; the module also loads outside a page (the host client's tests).
if (typeof window !== 'undefined') window.navwsPerf = uiPerf;
