/**
 * One animation-frame clock for every view that draws streamed data. The video paint and the 3D render
 * of an instant run in the same animation frame, so the compositor produces one frame for both instead
 * of one for each (on a software GPU every composited frame costs the whole window's pixels), and the
 * video, its depth and the camera pose reach the screen together.
 */
export type Painter = (now: number) => void;

/** Painter order within an animation frame: a frame's video first, then what shows its pose. */
export const PAINT_ORDER = { video: 0, scene: 1 } as const;

class FrameClock {
  private readonly painters: { painter: Painter; order: number }[] = [];
  private readonly wanted = new Set<Painter>();
  private handle: number | null = null;
  private ticking = false;

  /** Registers a painter; lower `order` runs first. Returns the unregister function. */
  add(painter: Painter, order: number): () => void {
    this.painters.push({ painter, order });
    this.painters.sort((a, b) => a.order - b.order);
    return () => {
      const i = this.painters.findIndex((p) => p.painter === painter);
      if (i >= 0) this.painters.splice(i, 1);
      this.wanted.delete(painter);
    };
  }

  /**
   * Asks for `painter` to run on the next animation frame (once, however often it is asked). Asked by an
   * earlier painter during a frame, a later one runs in that same frame: the video's paint can hand its
   * frame's pose to the 3D view and both reach the screen together.
   */
  request(painter: Painter): void {
    this.wanted.add(painter);
    if (!this.ticking) this.handle ??= requestAnimationFrame(this.tick);
  }

  private readonly tick = (now: number): void => {
    this.handle = null;
    this.ticking = true;
    try {
      for (const { painter } of [...this.painters]) if (this.wanted.delete(painter)) painter(now);
    } finally {
      this.ticking = false;
    }
    if (this.wanted.size > 0) this.handle = requestAnimationFrame(this.tick);
  };
}

export const frameClock = new FrameClock();
