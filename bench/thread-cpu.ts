/**
 * CPU time per thread of this process (Linux /proc/self/task), so a benchmark can say which stage
 * spent the cores: worker threads, onnxruntime's and the native pool's threads all share one process
 * and one name ("node"), so threads are attributed by when they appeared (`ThreadLedger.claim`).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export function threadCpuSeconds(): Map<number, number> {
  const out = new Map<number, number>();
  if (!existsSync('/proc/self/task')) return out;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start at field 3; utime, stime are 14, 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Names groups of threads by the moment they were created, then reports CPU per group over a window. */
export class ThreadLedger {
  private readonly owner = new Map<number, string>();
  private start = new Map<number, number>();

  constructor() {
    // The main thread runs the orchestration; the others alive now are Node's (GC, libuv, V8 platform).
    for (const tid of threadCpuSeconds().keys())
      this.owner.set(tid, tid === process.pid ? 'main thread' : 'node runtime');
  }

  /** Every thread that appeared since the last claim belongs to `group`. */
  claim(group: string): void {
    for (const tid of threadCpuSeconds().keys()) if (!this.owner.has(tid)) this.owner.set(tid, group);
  }

  begin(): void {
    this.start = threadCpuSeconds();
  }

  /**
   * CPU seconds per group since begin(). Threads born after the last claim belong to `unclaimed` from
   * now on: pools created lazily at a kernel's first use (and kept for the process) are named once.
   */
  end(unclaimed: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const [tid, cpu] of threadCpuSeconds()) {
      if (!this.owner.has(tid)) this.owner.set(tid, unclaimed);
      const group = this.owner.get(tid)!;
      out.set(group, (out.get(group) ?? 0) + cpu - (this.start.get(tid) ?? 0));
    }
    return out;
  }
}
