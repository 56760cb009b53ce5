/** Per-stage timing for report.json and the status bar: count, mean and 95th percentile in ms. */
export interface TimingSummary {
  count: number;
  meanMs: number;
  p95Ms: number;
}

export class StageTimer {
  private readonly samples: number[] = [];

  add(ms: number): void {
    this.samples.push(ms);
  }

  /** Times `fn` and records its duration even when it throws. */
  async time<T>(fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.add(performance.now() - start);
    }
  }

  summary(): TimingSummary {
    const n = this.samples.length;
    if (n === 0) return { count: 0, meanMs: 0, p95Ms: 0 };
    const sorted = [...this.samples].sort((a, b) => a - b);
    const mean = sorted.reduce((s, x) => s + x, 0) / n;
    // Nearest-rank percentile: the smallest sample with at least 95% of samples at or below it.
    const p95 = sorted[Math.min(n - 1, Math.ceil(0.95 * n) - 1)]!;
    return { count: n, meanMs: round3(mean), p95Ms: round3(p95) };
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
