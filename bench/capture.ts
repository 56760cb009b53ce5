/**
 * Capture benchmark (`npm run bench:capture [-- --seconds N] [--codec h264|mjpeg|ffv1]`): sustained
 * intake from ffmpeg's lavfi testsrc2 at 1920x1080, 60000/1001 fps (real-time paced, standing in for
 * a capture card), scaled to 384x288 for processing while the full stream is recorded (fragmented
 * MP4). Baselines, measured in the same run: the source's own frame rate (paced), and ffmpeg
 * generating the source alone as fast as it can (unpaced, next to the unpaced full capture: the
 * capture's headroom on this machine). Targets: processing intake at the source rate, no recording
 * drops, p95 latency (ffmpeg's processing output -> pipeline input) under one frame interval.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { getFfmpeg } from '../src/engine/capture/ffmpeg.js';
import { LiveCapture, type RecordingCodec, monotonicWallMs } from '../src/engine/capture/live-capture.js';
import { VideoFileFrameSource } from '../src/engine/capture/video-file-source.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const seconds = Number(arg('seconds', '10'));
const codec = arg('codec', 'h264') as RecordingCodec;
const SOURCE_FPS = 60000 / 1001;
const run = promisify(execFile);
const interval = 1000 / SOURCE_FPS;

/** CPU seconds (user + system) a process has used, from /proc (Linux); null elsewhere. */
function procCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const GRAPH = 'testsrc2=size=1920x1080:rate=60000/1001';
const CAPACITY_FRAMES = Number(arg('capacity-frames', '240'));

/** Frames per second ffmpeg sustains generating the source alone, unpaced (what the machine can do). */
async function sourceAloneFps(): Promise<number> {
  const ffmpeg = await getFfmpeg();
  const t = monotonicWallMs();
  await run(ffmpeg.path, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    GRAPH,
    '-frames:v',
    String(CAPACITY_FRAMES),
    '-f',
    'null',
    '-',
  ]);
  return CAPACITY_FRAMES / ((monotonicWallMs() - t) / 1000);
}

/** Frames per second the whole capture (source, scale, pipe, recording) sustains unpaced. */
async function captureCapacityFps(dir: string): Promise<number> {
  const cap = await LiveCapture.start({
    source: { kind: 'lavfi', graph: GRAPH, realtime: false },
    processingSize: { width: 384, height: 288 },
    recording: { file: path.join(dir, 'capacity.mp4'), codec },
  });
  let first = NaN;
  let n = 0;
  for await (const _ of cap.frames()) {
    if (n === 0) first = monotonicWallMs();
    if (++n === CAPACITY_FRAMES) {
      const fps = (n - 1) / ((monotonicWallMs() - first) / 1000);
      await cap.stop();
      return fps;
    }
  }
  throw new Error('capacity run ended early');
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'navws-bench-capture-'));
try {
  const aloneFps = await sourceAloneFps();
  const capacityFps = await captureCapacityFps(dir);
  const file = path.join(dir, 'bench.mp4');
  const cap = await LiveCapture.start({
    source: { kind: 'lavfi', graph: GRAPH },
    processingSize: { width: 384, height: 288 },
    recording: { file, codec },
    queueCapacity: 2,
  });
  const cpu0 = process.cpuUsage();
  const ff0 = procCpuSeconds(cap.pid);
  const t0 = monotonicWallMs();
  let ffCpu: number | null = null;
  setTimeout(() => {
    const ff1 = procCpuSeconds(cap.pid);
    ffCpu = ff0 !== null && ff1 !== null ? ff1 - ff0 : null;
    void cap.stop();
  }, seconds * 1000).unref();
  const latency: number[] = [];
  let first = NaN;
  let last = NaN;
  for await (const frame of cap.frames()) {
    const now = monotonicWallMs();
    latency.push(now - frame.emittedWallMs);
    if (Number.isNaN(first)) first = now;
    last = now;
  }
  const wall = (monotonicWallMs() - t0) / 1000;
  const nodeCpu = process.cpuUsage(cpu0);
  const result = await cap.done;
  const stats = cap.getStats();
  let recorded = 0;
  for await (const _ of await VideoFileFrameSource.open(file, { size: { width: 32, height: 18 } }))
    recorded++;
  latency.sort((a, b) => a - b);
  const span = (last - first) / 1000;
  const deliveredFps = (stats.framesDelivered - 1) / span;
  const intakeFps = (stats.framesReceived - 1) / span;
  const nodeShare = (nodeCpu.user + nodeCpu.system) / 1e6 / wall;
  const ffShare = ffCpu !== null ? ffCpu / seconds : NaN;
  const cores = os.cpus().length;
  const load = os.loadavg()[0]!;

  const rows: [string, string, string][] = [
    ['unpaced: source alone (baseline)', `${aloneFps.toFixed(1)} fps`, '1.000'],
    ['unpaced: full capture', `${capacityFps.toFixed(1)} fps`, (capacityFps / aloneFps).toFixed(3)],
    ['paced: source rate (baseline)', `${SOURCE_FPS.toFixed(3)} fps`, '1.000'],
    ['intake from ffmpeg', `${intakeFps.toFixed(2)} fps`, (intakeFps / SOURCE_FPS).toFixed(3)],
    ['delivered to processing', `${deliveredFps.toFixed(2)} fps`, (deliveredFps / SOURCE_FPS).toFixed(3)],
    ['processing drops', `${stats.framesDropped} of ${stats.framesReceived}`, ''],
    [
      'recorded frames',
      `${recorded} of ${stats.framesReceived} received`,
      `drops: ${stats.framesReceived - recorded}`,
    ],
    [
      'latency p50',
      `${percentile(latency, 0.5).toFixed(2)} ms`,
      `${(percentile(latency, 0.5) / interval).toFixed(2)} frame`,
    ],
    [
      'latency p95',
      `${percentile(latency, 0.95).toFixed(2)} ms`,
      `${(percentile(latency, 0.95) / interval).toFixed(2)} frame`,
    ],
    ['CPU node (intake)', `${(100 * nodeShare).toFixed(1)} % of one core`, ''],
    [
      'CPU ffmpeg (decode+scale+record)',
      `${(100 * ffShare).toFixed(1)} % of one core`,
      `${cores} cores, load avg ${load.toFixed(1)}`,
    ],
  ];
  console.log(
    `capture benchmark: lavfi testsrc2 1920x1080 @ 60000/1001 -> 384x288 rgb24, recording ${codec} fMP4; unpaced ${CAPACITY_FRAMES} frames, then paced ${seconds} s`,
  );
  console.log(`outcome: ${result.reason}${result.error ? ` (${result.error.message})` : ''}`);
  for (const [name, value, ratio] of rows) console.log(`${name.padEnd(34)} ${value.padEnd(30)} ${ratio}`);
  const ok =
    intakeFps / SOURCE_FPS > 0.98 &&
    stats.framesReceived === recorded &&
    percentile(latency, 0.95) < interval;
  console.log(
    `targets: intake >= 98% of source rate, no recording drops, p95 < ${interval.toFixed(2)} ms: ${ok ? 'MET' : 'NOT MET'}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
