/**
 * A bounded queue between pipeline stages with an explicit overflow policy:
 *  - 'block':       the producer waits for space (back-pressure; offline sources that can pause).
 *  - 'drop-oldest': the producer never waits; the oldest queued item is discarded and counted
 *                   (live capture: processing always works on the newest frames).
 * Closing lets consumers drain what is queued, then `pop` returns undefined.
 */
export type OverflowPolicy = 'block' | 'drop-oldest';

export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private readonly waitingConsumers: ((item: T | undefined) => void)[] = [];
  private readonly waitingProducers: (() => void)[] = [];
  private closed = false;
  private pushedCount = 0;
  private droppedCount = 0;

  constructor(
    readonly capacity: number,
    readonly policy: OverflowPolicy,
    /** Called with each discarded item, e.g. to return its buffers to a pool. */
    private readonly onDrop: (item: T) => void = () => {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`queue capacity must be >= 1, got ${capacity}`);
  }

  get length(): number {
    return this.items.length;
  }
  get pushed(): number {
    return this.pushedCount;
  }
  get dropped(): number {
    return this.droppedCount;
  }
  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves once the item is queued (immediately unless the policy is 'block' and the queue is full). */
  async push(item: T): Promise<void> {
    if (this.closed) throw new Error('push on a closed queue');
    this.pushedCount++;
    const consumer = this.waitingConsumers.shift();
    if (consumer) {
      consumer(item);
      return;
    }
    if (this.items.length >= this.capacity) {
      if (this.policy === 'drop-oldest') {
        const old = this.items.shift()!;
        this.droppedCount++;
        this.onDrop(old);
      } else {
        await new Promise<void>((resolve) => this.waitingProducers.push(resolve));
        if (this.closed) return;
        // A consumer may have been waiting when space was made; hand the item over directly.
        const late = this.waitingConsumers.shift();
        if (late) {
          late(item);
          return;
        }
      }
    }
    this.items.push(item);
  }

  /** The next item, or undefined once the queue is closed and drained. */
  pop(): Promise<T | undefined> {
    const item = this.items.shift();
    if (item !== undefined) {
      this.waitingProducers.shift()?.();
      return Promise.resolve(item);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waitingConsumers.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const c of this.waitingConsumers.splice(0)) c(undefined);
    for (const p of this.waitingProducers.splice(0)) p();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = await this.pop();
      if (item === undefined) return;
      yield item;
    }
  }
}
