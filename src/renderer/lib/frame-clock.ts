/**
 * One animation-frame clock for every view that draws streamed data. The video paint and the 3D render
 * of an instant run in the same animation frame, so the compositor produces one frame for both instead
 * of one for each (on a software GPU every composited frame costs the whole window's pixels), and the
 * video, its depth and the camera pose reach the screen together.
 */
export type Painter = (now: number) => void;

class FrameClock {
  private readonly painters: Painter[] = [];
  private readonly wanted = new Set<Painter>();
  private handle: number | null = null;

  /** Registers a painter; painters run in registration order. Returns the unregister function. */
  add(painter: Painter): () => void {
    this.painters.push(painter);
    return () => {
      const i = this.painters.indexOf(painter);
      if (i >= 0) this.painters.splice(i, 1);
      this.wanted.delete(painter);
    };
  }

  /** Asks for `painter` to run on the next animation frame (once, however often it is asked). */
  request(painter: Painter): void {
    this.wanted.add(painter);
    this.handle ??= requestAnimationFrame(this.tick);
  }

  private readonly tick = (now: number): void => {
    this.handle = null;
    const due = this.painters.filter((p) => this.wanted.has(p));
    this.wanted.clear();
    for (const painter of due) painter(now);
  };
}

export const frameClock = new FrameClock();
