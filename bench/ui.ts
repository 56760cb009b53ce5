/**
 * `npm run bench:ui`: can the UI take 384x288 video + depth + pose at 30 fps while the 3D mesh grows,
 * with under one frame (33.3 ms) of added latency and no dropped UI frames?
 *
 * The real browser host and renderer run in headless Chromium (WebGL through SwiftShader, 1920x1080).
 * Frames are the bundled sample's (samples/phantom: video, depth and ground-truth pose, decoded before
 * the run so the engine's own cost is not measured here); they are sent at exactly 30 fps through the
 * real socket and binary frame format, and the sample's surface is added block by block as the run goes,
 * as fusion would. Measured in the page: latency from the frame's emission to the end of the animation
 * frame that painted it, animation-frame intervals (pacing) and frames superseded before being painted.
 *
 * Baseline, measured in the same run: the same page idle (no frames) for as long, for animation-frame
 * pacing and for the rate at which the machine itself misses refreshes.
 * Usage: npm run bench:ui [-- --seconds 10]
 */
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { parseArgs } from 'node:util';
import { type FrameBundle, type MeshBlocksUpdate, type MeshBlock } from '../src/shared/api/binary.js';
import { ListenerSet, type NavApi, type Unsubscribe } from '../src/shared/api/nav-api.js';
import type { BinaryParams, Method, NavEvent, Params, Result } from '../src/shared/api/schemas.js';
import type { DepthImage, RgbImage } from '../src/shared/frames.js';
import type { Mat4 } from '../src/shared/math/mat4.js';
import type { TriangleMesh } from '../src/shared/mesh.js';
import { openDataset, readDatasetDepth, readDatasetRgb } from '../src/engine/dataset/dataset.js';
import { readPly } from '../src/engine/formats/ply.js';
import { EngineService } from '../src/engine/service/engine-service.js';
import { startBrowserHost } from '../src/server/browser-host.js';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  browserSkipReason,
  rendererDir,
  samplesRoot,
  sampleSkipReason,
} from '../e2e/harness.js';

const FRAME_MS = 1000 / 30;

/** The engine service for everything but the live streams, which this feed drives at an exact rate. */
class FeedApi implements NavApi {
  readonly host = 'browser' as const;
  readonly frames = new ListenerSet<FrameBundle>();
  readonly meshes = new ListenerSet<MeshBlocksUpdate>();
  constructor(private readonly inner: NavApi & { close(): Promise<void> }) {}
  call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    return this.inner.call(method, params);
  }
  reviewFrame(p: BinaryParams<'review.frame'>): Promise<FrameBundle> {
    return this.inner.reviewFrame(p);
  }
  reviewMesh(p: BinaryParams<'review.mesh'>): Promise<MeshBlocksUpdate> {
    return this.inner.reviewMesh(p);
  }
  onEvent(l: (e: NavEvent) => void): Unsubscribe {
    return this.inner.onEvent(l);
  }
  onFrame(l: (f: FrameBundle) => void): Unsubscribe {
    return this.frames.add(l);
  }
  onMesh(l: (u: MeshBlocksUpdate) => void): Unsubscribe {
    return this.meshes.add(l);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Splits a surface into 8 mm grid blocks (by triangle centroid), the way fusion delivers it. */
function splitIntoBlocks(mesh: TriangleMesh, cellMm = 8): MeshBlock[] {
  const groups = new Map<string, number[]>();
  for (let t = 0; t < mesh.indices.length; t += 3) {
    const c = [0, 1, 2].map((axis) => {
      let s = 0;
      for (let k = 0; k < 3; k++) s += mesh.positions[mesh.indices[t + k]! * 3 + axis]!;
      return Math.floor(s / 3 / cellMm);
    });
    const key = c.join(',');
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(t);
  }
  return [...groups].map(([key, tris]) => {
    const remap = new Map<number, number>();
    const positions: number[] = [];
    const colors: number[] = [];
    const indices: number[] = [];
    for (const t of tris) {
      for (let k = 0; k < 3; k++) {
        const v = mesh.indices[t + k]!;
        let n = remap.get(v);
        if (n === undefined) {
          n = remap.size;
          remap.set(v, n);
          positions.push(mesh.positions[v * 3]!, mesh.positions[v * 3 + 1]!, mesh.positions[v * 3 + 2]!);
          if (mesh.colors) colors.push(mesh.colors[v * 3]!, mesh.colors[v * 3 + 1]!, mesh.colors[v * 3 + 2]!);
        }
        indices.push(n);
      }
    }
    const block: TriangleMesh = { positions: new Float32Array(positions), indices: new Uint32Array(indices) };
    if (mesh.colors) block.colors = new Uint8Array(colors);
    return { key, mesh: block };
  });
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const f1 = (x: number): string => x.toFixed(1).padStart(6);

interface PerfDump {
  latencies: number[];
  rafIntervals: number[];
  painted: number;
  superseded: number;
  paintWork: number[];
  sceneWork: number[];
  decodeWork: number[];
  meshWork: number[];
}

interface Sample {
  rgb: RgbImage[];
  depth: DepthImage[];
  poses: Mat4[];
  blocks: MeshBlock[];
}

interface Measured {
  idle: PerfDump;
  load: PerfDump;
  sent: number;
  sentBlocks: number;
  pageErrors: string[];
}

/** One configuration: idle baseline, then 30 fps frames with the mesh growing. */
async function measure(
  feed: FeedApi,
  url: string,
  extraArgs: string[],
  removeArgs: string[],
  seconds: number,
  sample: Sample,
): Promise<Measured> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS.filter((a) => !removeArgs.includes(a)), ...extraArgs],
  });
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('frame-ancestors')) pageErrors.push(m.text());
  });
  type Perf = {
    latencies: number[];
    rafIntervals: number[];
    painted_: number;
    supersededCount: number;
    paintWork: number[];
    sceneWork: number[];
    decodeWork: number[];
    meshWork: number[];
    reset(): void;
    startPacing(): void;
  };
  try {
    await page.goto(url);
    await page.getByTestId('tab-live').click();
    await page.waitForTimeout(500);
    const collect = (): Promise<PerfDump> =>
      page.evaluate(() => {
        const p = (globalThis as unknown as { navwsPerf: Perf }).navwsPerf;
        return {
          latencies: [...p.latencies],
          rafIntervals: [...p.rafIntervals],
          painted: p.painted_,
          superseded: p.supersededCount,
          paintWork: [...p.paintWork],
          sceneWork: [...p.sceneWork],
          decodeWork: [...p.decodeWork],
          meshWork: [...p.meshWork],
        };
      });
    const resetAndPace = (): Promise<void> =>
      page.evaluate(() => {
        const p = (globalThis as unknown as { navwsPerf: Perf }).navwsPerf;
        p.reset();
        p.startPacing();
      });

    // Baseline: the same page, idle, as long as the load phase (so the drop rates compare).
    await resetAndPace();
    await page.waitForTimeout(seconds * 1000);
    const idle = await collect();

    // Load: 30 fps frames, the mesh growing block by block over the run; the first update resets the
    // previous configuration's surface.
    await resetAndPace();
    const n = sample.rgb.length;
    const total = Math.round(seconds * 30);
    const perUpdate = Math.max(1, Math.ceil(sample.blocks.length / (total / 10)));
    let sent = 0;
    let sentBlocks = 0;
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const i = sent % n;
        feed.frames.emit({
          frameId: sent,
          timeS: sent / 30,
          producedAtMs: performance.timeOrigin + performance.now(),
          rgb: sample.rgb[i]!,
          depth: sample.depth[i]!,
          depthFrameId: sent,
          pose: sample.poses[i]!,
          trackingState: 'tracking',
          isKeyframe: sent % 10 === 0,
        });
        if (sent % 10 === 0 && sentBlocks < sample.blocks.length) {
          const changed = sample.blocks.slice(sentBlocks, sentBlocks + perUpdate);
          sentBlocks += changed.length;
          feed.meshes.emit({ reset: sent === 0, changed, removed: [], totalVertices: 0 });
        }
        sent++;
        if (sent >= total) return resolve();
        setTimeout(tick, Math.max(0, start + sent * FRAME_MS - performance.now()));
      };
      tick();
    });
    await page.waitForTimeout(300);
    return { idle, load: await collect(), sent, sentBlocks, pageErrors };
  } finally {
    await browser.close();
  }
}

function report(name: string, m: Measured, blockCount: number, target: boolean): void {
  const { idle, load } = m;
  const vsync = pct(idle.rafIntervals, 50);
  const dropped = (xs: number[]): number => xs.filter((x) => x > vsync * 1.5).length;
  const row = (label: string, xs: number[]): string =>
    `${label.padEnd(27)}${f1(mean(xs))}  ${f1(pct(xs, 50))}  ${f1(pct(xs, 95))}  ${f1(xs.length ? Math.max(...xs) : NaN)}`;
  console.log('');
  console.log(`== ${name}`);
  console.log(`baseline animation-frame interval (idle page, same run): median ${vsync.toFixed(1)} ms`);
  console.log('                              mean     p50     p95     max   (ms)');
  console.log(row('latency emitted->painted', load.latencies));
  console.log(row('rAF interval, idle (base)', idle.rafIntervals));
  console.log(row('rAF interval, under load', load.rafIntervals));
  console.log(row('frame decode (main)', load.decodeWork));
  console.log(row('video paint work (main)', load.paintWork));
  console.log(row('3D render work (main)', load.sceneWork));
  console.log(row('mesh block update (main)', load.meshWork));
  console.log(
    `latency p50 / frame interval: ${(pct(load.latencies, 50) / FRAME_MS).toFixed(2)}x, p95: ${(pct(load.latencies, 95) / FRAME_MS).toFixed(2)}x  (target < 1.00x)`,
  );
  console.log(
    `frames: sent ${m.sent}, painted ${load.painted}, superseded before paint ${load.superseded}, not delivered (host back-pressure) ${m.sent - load.painted - load.superseded}`,
  );
  // Where the long intervals fall: the first second of a run includes the software GPU's first use of
  // each shader and pipeline state.
  let t = 0;
  let startUp = 0;
  for (const x of load.rafIntervals) {
    t += x;
    if (x > vsync * 1.5 && t < 1000) startUp++;
  }
  const loadDropped = dropped(load.rafIntervals);
  const idleDropped = dropped(idle.rafIntervals);
  const rate = (k: number, n: number): string => `${((100 * k) / Math.max(1, n)).toFixed(2)}%`;
  console.log(
    `dropped UI frames (rAF interval > 1.5x baseline median): idle ${idleDropped} of ${idle.rafIntervals.length} (${rate(idleDropped, idle.rafIntervals.length)}), under load ${loadDropped} of ${load.rafIntervals.length} (${rate(loadDropped, load.rafIntervals.length)}; ${startUp} in the first second)`,
  );
  console.log(`mesh blocks delivered: ${m.sentBlocks} of ${blockCount}`);
  if (m.pageErrors.length) console.log(`page errors: ${m.pageErrors.slice(0, 5).join(' | ')}`);
  if (target) {
    const latencyOk = pct(load.latencies, 95) < FRAME_MS;
    console.log(
      `targets: ${latencyOk ? 'PASS' : 'FAIL'} latency p95 < 1 frame; ${loadDropped === 0 ? 'PASS' : 'FAIL'} no dropped UI frames (${loadDropped}); ${load.superseded === 0 ? 'PASS' : 'FAIL'} every frame painted (${load.superseded} superseded)`,
    );
    // The machine's own missed refreshes (the idle page's, same duration) set what this run can resolve.
    console.log(
      `missed refreshes under load vs the idle page: ${loadDropped} vs ${idleDropped} (${rate(loadDropped, load.rafIntervals.length)} vs ${rate(idleDropped, idle.rafIntervals.length)}): ${loadDropped <= idleDropped ? 'not above' : 'above'} the machine's own rate`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' } } });
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600))
    throw new Error(`--seconds must be in (0, 600], got ${values.seconds}`);
  const skip = browserSkipReason() ?? sampleSkipReason();
  if (skip) {
    console.log(`bench:ui skipped: ${skip}`);
    return;
  }
  const ds = await openDataset(path.join(samplesRoot, 'phantom'));
  const n = ds.frameCount ?? 0;
  const sample: Sample = {
    rgb: await Promise.all(Array.from({ length: n }, (_, i) => readDatasetRgb(ds, i))),
    depth: await Promise.all(Array.from({ length: n }, (_, i) => readDatasetDepth(ds, i))),
    poses: ds.groundTruth!.map((p) => p.pose),
    blocks: splitIntoBlocks(await readPly(ds.meshFile!)),
  };
  const casesRoot = mkdtempSync(path.join(os.tmpdir(), 'navws-bench-ui-'));
  const feed = new FeedApi(await EngineService.open({ host: 'browser', casesRoot, samplesRoot }));
  const host = await startBrowserHost({ api: feed, staticRoot: rendererDir, port: 0 });
  try {
    console.log(
      `bench:ui — ${ds.intrinsics.width}x${ds.intrinsics.height} video + depth + pose at 30 fps for ${seconds} s through the browser host, ` +
        `mesh of ${sample.blocks.length} blocks growing; headless Chromium 1920x1080, WebGL on SwiftShader (no GPU)`,
    );
    console.log(
      `machine: ${os.cpus().length} cores, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (software rendering: every figure scales with free CPU)`,
    );
    console.log(`frame interval (target budget): ${FRAME_MS.toFixed(1)} ms`);
    const configs: { name: string; add: string[]; remove: string[]; target: boolean }[] = [
      // What Chromium (and Electron) do without a usable GPU, and how the e2e tests run: WebGL on
      // SwiftShader, compositing in software.
      {
        name: 'software compositing, WebGL on SwiftShader (no hardware GPU): the target configuration',
        add: [],
        remove: [],
        target: true,
      },
      // Forcing the compositor onto SwiftShader too rasterises every composited 1080p frame on the CPU:
      // informative only, no browser does this on its own.
      {
        name: 'GPU compositing forced onto SwiftShader (informative)',
        add: [],
        remove: ['--disable-gpu-compositing'],
        target: false,
      },
    ];
    for (const c of configs)
      report(
        c.name,
        await measure(feed, host.url, c.add, c.remove, seconds, sample),
        sample.blocks.length,
        c.target,
      );
  } finally {
    await host.close();
    await feed.close();
    rmSync(casesRoot, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`bench:ui failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
