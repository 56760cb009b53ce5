/**
 * What the UI measures about itself: frame-to-paint latency (engine emitted -> painted on screen),
 * animation-frame pacing and frames superseded before they could be painted. The status bar shows a
 * summary; `npm run bench:ui` reads the raw samples through window.navwsPerf.
 */
import type { FrameBundle } from '../../shared/api/binary.js';

const MAX_SAMPLES = 20000;

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
  private rafLoop = false;

  painted(frame: FrameBundle): void {
    this.painted_++;
    const latency = performance.timeOrigin + performance.now() - frame.producedAtMs;
    if (this.latencies.length >= MAX_SAMPLES) this.latencies.splice(0, MAX_SAMPLES / 2);
    this.latencies.push(latency);
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
  }

  /** Mean latency of the last n paints, ms. */
  recentLatency(n = 30): number | null {
    const tail = this.latencies.slice(-n);
    return tail.length ? tail.reduce((s, x) => s + x, 0) / tail.length : null;
  }
}

export const uiPerf = new UiPerf();

declare global {
  interface Window {
    navwsPerf?: UiPerf;
  }
}
window.navwsPerf = uiPerf;
