/**
 * Reads what a video input contains from ffmpeg's own banner (`ffmpeg -i <input>`), so that no
 * ffprobe binary is needed (ffmpeg-static ships ffmpeg only).
 */
import { FfmpegProcess } from './ffmpeg-process.js';

export interface VideoStreamInfo {
  width: number;
  height: number;
  /** Frames per second as ffmpeg reports it (e.g. 59.94), null when unknown. */
  fps: number | null;
  codec: string;
  pixelFormat: string;
  /** Container duration in seconds, null for live or unknown. */
  durationSeconds: number | null;
  /** Start time of the container in seconds (timestamps are reported relative to it). */
  startSeconds: number;
}

/** A 59.94-style display rate mapped back to its exact NTSC rational (60000/1001) when it is one. */
export function exactFrameRate(fps: number): number {
  for (const base of [24, 30, 48, 60, 120]) {
    const ntsc = (base * 1000) / 1001;
    if (Math.abs(fps - ntsc) < 0.006) return ntsc;
  }
  return fps;
}

export function parseFfmpegDuration(text: string): number | null {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** Parses the first video stream of input #0 from ffmpeg's banner lines; null when none is listed. */
export function parseInputBanner(lines: readonly string[]): VideoStreamInfo | null {
  let duration: number | null = null;
  let start = 0;
  let inInput = false;
  for (const line of lines) {
    if (/^Input #0\b/.test(line)) inInput = true;
    else if (/^Output #\d/.test(line)) inInput = false;
    if (!inInput) continue;
    const d = /^\s+Duration: ([^,]+), start: (-?[\d.]+)/.exec(line);
    if (d) {
      duration = parseFfmpegDuration(d[1]!);
      start = Number(d[2]);
      continue;
    }
    const s = /^\s+Stream #0:\d+.*?: Video: (.+)$/.exec(line);
    if (!s) continue;
    const desc = s[1]!;
    const codec = desc.split(/[ ,]/)[0]!;
    const afterCodec = desc.slice(desc.indexOf(',') + 1).trim();
    const pixelFormat = /^([a-z0-9_]+)/i.exec(afterCodec)?.[1] ?? 'unknown';
    const size = /(?:^|[ ,])(\d{1,5})x(\d{1,5})(?=[ ,[]|$)/.exec(desc);
    if (!size) continue;
    const rate = /, ([\d.]+)(k?) fps/.exec(desc) ?? /, ([\d.]+)(k?) tbr/.exec(desc);
    const fps = rate ? Number(rate[1]) * (rate[2] === 'k' ? 1000 : 1) : null;
    return {
      width: Number(size[1]),
      height: Number(size[2]),
      fps: fps !== null && fps > 0 ? exactFrameRate(fps) : null,
      codec,
      pixelFormat,
      durationSeconds: duration,
      startSeconds: start,
    };
  }
  return null;
}

/**
 * Probes a file or URL. `inputArgs` go before `-i` (e.g. `-f lavfi`). Fails with ffmpeg's own
 * reason (e.g. "Invalid data found when processing input") naming the input.
 */
export async function probeVideo(input: string, inputArgs: readonly string[] = []): Promise<VideoStreamInfo> {
  const proc = await FfmpegProcess.spawn(
    ['-hide_banner', '-nostdin', '-loglevel', 'level+info', ...inputArgs, '-i', input],
    { keepLines: 400 },
  );
  proc.stdout.resume();
  const exit = await proc.exited;
  const lines = proc.stderrTail(400);
  const info = parseInputBanner(lines);
  if (info) return info;
  const hasInput = lines.some((l) => /^Input #0\b/.test(l));
  const reason = hasInput ? 'it contains no video stream' : proc.reason();
  throw new Error(`${input}: cannot read as video (${reason}; ${proc.describeExit(exit)})`);
}
