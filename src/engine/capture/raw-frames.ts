/**
 * Turns ffmpeg's rawvideo byte stream (rgb24) into whole frames, whatever the pipe's chunking, and
 * pairs each frame with its timestamp from `showinfo` log lines.
 */
import { sharedBytes } from '../../shared/frames.js';

/** Splits a byte stream into fixed-size frames; each returned frame owns its buffer. */
export class RawFrameAssembler {
  private current: Uint8Array;
  private filled = 0;

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0)
      throw new RangeError(`frame size ${frameBytes} bytes`);
    this.current = sharedBytes(frameBytes);
  }

  /** Bytes of an incomplete frame held back; non-zero at end of stream means a truncated frame. */
  get pendingBytes(): number {
    return this.filled;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.frameBytes - this.filled, chunk.length - offset);
      this.current.set(chunk.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.frameBytes) {
        out.push(this.current);
        this.current = sharedBytes(this.frameBytes);
        this.filled = 0;
      }
    }
    return out;
  }
}

export interface ShowinfoEntry {
  /** Frame number as counted by the showinfo filter (0-based per run). */
  n: number;
  /** Presentation time in seconds, null when the frame had no pts. */
  ptsTime: number | null;
}

const SHOWINFO = /\] n:\s*(\d+)\s+pts:\s*(\S+)\s+pts_time:(\S+)/;

/** Parses one `showinfo` log line; null for any other line. */
export function parseShowinfoLine(line: string): ShowinfoEntry | null {
  if (!line.includes('showinfo')) return null;
  const m = SHOWINFO.exec(line);
  if (!m) return null;
  const t = Number(m[3]);
  return { n: Number(m[1]), ptsTime: m[2] === 'NOPTS' || !Number.isFinite(t) ? null : t };
}

/**
 * Timestamps arrive on stderr and pixels on stdout: two pipes with no ordering between them. This
 * table lets the frame side wait for the matching line, and answers null once stderr has ended.
 */
export class TimestampTable {
  private readonly times = new Map<number, number | null>();
  private readonly waiters = new Map<number, (t: number | null) => void>();
  private ended = false;

  add(entry: ShowinfoEntry): void {
    this.times.set(entry.n, entry.ptsTime);
    this.waiters.get(entry.n)?.(entry.ptsTime);
    this.waiters.delete(entry.n);
  }

  end(): void {
    this.ended = true;
    for (const resolve of this.waiters.values()) resolve(null);
    this.waiters.clear();
  }

  /** The pts of frame n (removing it from the table), waiting for its line if needed. */
  take(n: number): number | null | Promise<number | null> {
    if (this.times.has(n)) {
      const t = this.times.get(n)!;
      this.times.delete(n);
      return t;
    }
    if (this.ended) return null;
    return new Promise((resolve) => {
      this.waiters.set(n, (t) => {
        this.times.delete(n);
        resolve(t);
      });
    });
  }
}
