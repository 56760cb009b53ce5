/**
 * OpenIGTLink benchmark (`npm run bench:igtl -- [--stages product|gt] [--rounds 2] [--saturate-s 3]`).
 *
 * 1. The pipeline on the bundled clip (samples/phantom, 60 frames, offline: every frame processed as
 *    fast as the stages allow) with the OpenIGTLink stream: off (the named baseline, measured in the
 *    same run), on with 0 clients, with 1 and with 4 clients, each a libOpenIGTLink reference peer
 *    process (test/igtl/peer) receiving TRANSFORM, IMAGE (384x288 RGB), POLYDATA and STATUS.
 *    Prints pipeline fps and its ratio to the baseline, messages/s sent, and the latency from the frame
 *    entering the pipeline (capture) to its TRANSFORM handed to the kernel, p50/p95, over all clients.
 *    Configurations are interleaved over rounds so machine drift does not favour one of them.
 * 2. Saturation: the server alone, publishing frames (TRANSFORM + IMAGE) as fast as the event loop
 *    allows for a few seconds to 1 and 4 clients: the messages/s it sustains and what it dropped.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DatasetFrameSource } from '../src/engine/capture/dataset-source.js';
import { DEFAULT_IGTL_SETTINGS, IgtlPublisher } from '../src/engine/igtl/publisher.js';
import { IgtlServer } from '../src/engine/igtl/server.js';
import { IgtlSession } from '../src/engine/igtl/session.js';
import { GroundTruthDepthStage, GroundTruthPoseStage } from '../src/engine/pipeline/ground-truth-stages.js';
import {
  DEFAULT_FUSION_SETTINGS,
  createFusionStage,
  createNetworkDepthStage,
  createTrackingStage,
} from '../src/engine/pipeline/product-stages.js';
import { LIVE_MESH_UPDATE_INTERVAL_MS, runReconstruction } from '../src/engine/pipeline/reconstruct.js';
import type { DepthStage, PoseStage } from '../src/engine/pipeline/stages.js';
import type { VideoFrame } from '../src/shared/frames.js';
import { se3Exp } from '../src/shared/math/se3.js';
import { type RunningPeer, referencePeer, startPeer } from '../test/igtl/peer.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values: args } = parseArgs({
  options: {
    stages: { type: 'string', default: 'product' },
    rounds: { type: 'string', default: '2' },
    'saturate-s': { type: 'string', default: '3' },
    dataset: { type: 'string', default: path.join(root, 'samples', 'phantom') },
  },
});
const rounds = Number(args.rounds);
const peerBuild = referencePeer();
if ('missing' in peerBuild) {
  console.error(`bench:igtl needs the reference peer: ${peerBuild.missing}`);
  process.exit(1);
}
const peerBinary = peerBuild.binary;

const median = (a: number[]): number => pct(a, 0.5);
const pct = (a: number[], p: number): number => {
  if (a.length === 0) return NaN;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

/** The dataset's frames, noting when each enters the pipeline; `live` paces them at the clip's rate. */
async function* timed(
  source: DatasetFrameSource,
  entered: Map<number, number>,
  live: boolean,
): AsyncGenerator<VideoFrame> {
  const start = performance.now();
  for await (const f of source.frames()) {
    const wait = start + f.timestamp * 1000 - performance.now();
    if (live && wait > 1) await new Promise((r) => setTimeout(r, wait));
    entered.set(f.index, performance.now());
    yield f;
  }
}

async function connectPeers(port: number, n: number, server: IgtlServer): Promise<RunningPeer[]> {
  const peers = Array.from({ length: n }, () => startPeer(peerBinary, port));
  await Promise.all(peers.map((p) => p.connected));
  await server.waitForClients(n);
  return peers;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); 0 elsewhere. */
function procCpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

interface PipelineResult {
  fps: number;
  frames: number;
  messages: number;
  messagesPerS: number;
  latency: number[];
  /** Frame event (the pipeline reporting the frame) -> TRANSFORM sent: the stream's own delay. */
  streamLatency: number[];
  dropped: number;
  /** CPU seconds per second of the reference peers, together (they share this machine's cores). */
  peerCpu: number;
  /** Engine-thread time the stream took per processed frame (publish calls + encoding + writes), ms. */
  streamMsPerFrame: number;
  /** Event-loop delay p99 over the run, ms (a blocked engine thread would delay every stage's hand-off). */
  loopDelayP99: number;
  /** CPU time of this whole process (all its threads: stages, stream, surface worker) per frame, ms. */
  cpuMsPerFrame: number;
}

async function pipelineRun(clients: number | null, live: boolean): Promise<PipelineResult> {
  const source = await DatasetFrameSource.open(args.dataset!);
  const k = source.dataset.intrinsics;
  let depth: DepthStage;
  let poses: PoseStage;
  if (args.stages === 'gt') {
    depth = new GroundTruthDepthStage(source.dataset);
    poses = new GroundTruthPoseStage(source.dataset);
  } else {
    depth = await createNetworkDepthStage({ intrinsics: k });
    poses = await createTrackingStage({ intrinsics: k });
  }
  const fusion = await createFusionStage({ ...DEFAULT_FUSION_SETTINGS });
  const session = clients === null ? null : await IgtlSession.open({ host: '127.0.0.1', port: 0 });
  const peers = session && clients ? await connectPeers(session.address.port, clients, session.server) : [];
  const entered = new Map<number, number>();
  const reported = new Map<number, number>();
  const latency: number[] = [];
  const streamLatency: number[] = [];
  session?.server.onSent((m) => {
    if (m.type !== 'TRANSFORM' || m.capturedAtMs === undefined) return;
    latency.push(m.sentAtMs - m.capturedAtMs);
    const at = reported.get(m.capturedAtMs);
    if (at !== undefined) streamLatency.push(m.sentAtMs - at);
  });
  const peerCpu0 = peers.reduce((s, p) => s + procCpuSeconds(p.process.pid), 0);
  let publishMs = 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  try {
    const t0 = performance.now();
    const result = await runReconstruction({
      source: timed(source, entered, live),
      intrinsics: k,
      depth,
      poses,
      fusion,
      live,
      meshUpdateIntervalMs: LIVE_MESH_UPDATE_INTERVAL_MS,
      onEvent: (e) => {
        if (!session) return;
        const t = performance.now();
        if (e.type === 'frame') {
          const capturedAtMs = entered.get(e.index);
          if (capturedAtMs !== undefined) reported.set(capturedAtMs, t);
          session.publisher.frame({ ...e, capturedAtMs });
        } else if (e.type === 'mesh')
          session.publisher.surface({ reset: false, changed: e.changedBlocks, removed: e.removedBlocks });
        publishMs += performance.now() - t;
      },
    });
    const wall = (performance.now() - t0) / 1000;
    const frames = result.report.framesProcessed;
    const peerCpu = (peers.reduce((s, p) => s + procCpuSeconds(p.process.pid), 0) - peerCpu0) / wall;
    loop.disable();
    const cpu = process.cpuUsage(cpu0);
    const loopDelayP99 = loop.percentile(99) / 1e6;
    await session?.close();
    const stats = session?.server.stats();
    await Promise.all(peers.map((p) => p.done));
    return {
      fps: frames / wall,
      frames,
      messages: stats?.messagesSent ?? 0,
      messagesPerS: (stats?.messagesSent ?? 0) / wall,
      latency,
      streamLatency,
      dropped: stats?.dropped ?? 0,
      peerCpu,
      streamMsPerFrame: (publishMs + (stats?.busyMs ?? 0)) / Math.max(1, frames),
      loopDelayP99,
      cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / Math.max(1, frames),
    };
  } finally {
    await Promise.all([depth.close(), poses.close(), fusion.close()]);
  }
}

async function saturate(clients: number, seconds: number) {
  const server = await IgtlServer.listen({ port: 0 });
  const publisher = new IgtlPublisher(server, { ...DEFAULT_IGTL_SETTINGS, imageMaxHz: 1e6 });
  const peers = await connectPeers(server.address.port, clients, server);
  const rgb = { width: 384, height: 288, data: new Uint8Array(384 * 288 * 3).fill(90) };
  const latency: number[] = [];
  server.onSent((m) => {
    if (m.type === 'TRANSFORM' && m.capturedAtMs !== undefined) latency.push(m.sentAtMs - m.capturedAtMs);
  });
  const t0 = performance.now();
  let frames = 0;
  while (performance.now() - t0 < seconds * 1000) {
    publisher.frame({
      index: frames,
      timestamp: frames / 30,
      rgb,
      depth: null,
      pose: se3Exp([frames * 0.01, 0, 0, 0, 0, 0]),
      trackingState: 'tracking',
      capturedAtMs: performance.now(),
    });
    frames++;
    // Yield to the event loop (and so to the sockets) between frames, as the pipeline does.
    await new Promise((r) => setImmediate(r));
  }
  const wall = (performance.now() - t0) / 1000;
  await publisher.close();
  await server.close();
  const stats = server.stats();
  const received = (await Promise.all(peers.map((p) => p.done))).map((m) => m.length);
  return { frames, wall, stats, received, latency };
}

const configs: (number | null)[] = [null, 0, 1, 4];
const label = (c: number | null): string =>
  c === null ? 'OpenIGTLink off (baseline)' : `on, ${c} client${c === 1 ? '' : 's'}`;
const modes = [
  { live: false, title: 'Offline (every frame, as fast as the stages allow): throughput' },
  { live: true, title: "Live (paced at the clip's 30 fps, drop-oldest as in the workstation): latency" },
];
console.log(
  `bench:igtl: pipeline on ${path.relative(root, args.dataset!) || args.dataset} (${args.stages} stages), ${rounds} round(s), configurations interleaved`,
);
// One unmeasured run first: model load, JIT and file caches would otherwise count against the first configuration.
await pipelineRun(null, false);
const ms = (a: number[]): string =>
  a.length ? `${pct(a, 0.5).toFixed(2)} / ${pct(a, 0.95).toFixed(2)} ms` : '-';
for (const mode of modes) {
  const results = new Map<number | null, PipelineResult[]>(configs.map((c) => [c, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of configs) {
      const res = await pipelineRun(c, mode.live);
      results.get(c)!.push(res);
      process.stderr.write(
        `  ${mode.live ? 'live' : 'offline'} round ${r + 1} ${label(c)}: ${res.fps.toFixed(1)} fps\n`,
      );
    }
  }
  const baseFps = median(results.get(null)!.map((r) => r.fps));
  const baseCpu = median(results.get(null)!.map((r) => r.cpuMsPerFrame));
  console.log(`\n${mode.title}`);
  console.log(
    "| Configuration | processed fps (median of rounds) | vs off | process CPU ms/frame | vs off | stream ms/frame on the engine thread | event-loop delay p99 | messages/s sent | capture -> TRANSFORM sent p50 / p95 | frame event -> TRANSFORM sent p50 / p95 | dropped (stream) | peers' CPU (cores) |",
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of configs) {
    const rs = results.get(c)!;
    const fps = median(rs.map((r) => r.fps));
    const mps = rs.reduce((s, r) => s + r.messagesPerS, 0) / rs.length;
    const cpu = rs.reduce((s, r) => s + r.peerCpu, 0) / rs.length;
    const streamMs = median(rs.map((r) => r.streamMsPerFrame));
    const cpuMs = median(rs.map((r) => r.cpuMsPerFrame));
    const loopP99 = median(rs.map((r) => r.loopDelayP99));
    console.log(
      `| ${label(c)} | ${fps.toFixed(1)} | ${(fps / baseFps).toFixed(3)} | ${cpuMs.toFixed(1)} | ${(cpuMs / baseCpu).toFixed(3)} | ${c === null ? '-' : streamMs.toFixed(3)} | ${loopP99.toFixed(1)} ms | ${c ? mps.toFixed(0) : '-'} | ${ms(rs.flatMap((r) => r.latency))} | ${ms(rs.flatMap((r) => r.streamLatency))} | ${rs.reduce((s, r) => s + r.dropped, 0)} | ${c ? cpu.toFixed(2) : '-'} |`,
    );
  }
}

const seconds = Number(args['saturate-s']);
console.log(
  `\nSaturation: the server alone, frames (TRANSFORM + 384x288 IMAGE) published back to back for ${seconds} s`,
);
console.log(
  '| Clients | frames published/s | messages/s sent (all clients) | MB/s sent | capture -> TRANSFORM sent p50 / p95 | dropped |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const c of [1, 4]) {
  const s = await saturate(c, seconds);
  console.log(
    `| ${c} | ${(s.frames / s.wall).toFixed(0)} | ${(s.stats.messagesSent / s.wall).toFixed(0)} | ${(s.stats.bytesSent / s.wall / 1e6).toFixed(0)} | ${pct(s.latency, 0.5).toFixed(2)} / ${pct(s.latency, 0.95).toFixed(2)} ms | ${s.stats.dropped} |`,
  );
}
