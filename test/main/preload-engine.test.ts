/**
 * The preload's NavApi against main's real bridge and supervisor and the real engine process
 * (src/engine/process/engine-main.ts forked under Node, hosting the real engine service). Only the
 * transport between preload and main is replaced, by structured cloning (what Electron IPC does).
 * Covers: requests and errors end to end, events through the preload's validation, an engine crash with
 * restart and case reopening without loss, and binary frames over a MessagePort.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { forkNodeEngineChild } from '../../src/main/engine-child-node.js';
import { EngineSupervisor } from '../../src/main/engine-supervisor.js';
import { EVENT_CHANNEL, STREAM_PORT_CHANNEL } from '../../src/main/ipc/channels.js';
import type { SenderInfo } from '../../src/main/ipc/router.js';
import { trustedSenderPolicy } from '../../src/main/ipc/sender.js';
import { NavBridge, type NavBridgeOptions } from '../../src/main/nav-bridge.js';
import {
  createElectronNavApi,
  type IpcRendererLike,
  type StreamPortLike,
} from '../../src/preload/electron-nav-api.js';
import { encodeFrame, type FrameBundle } from '../../src/shared/api/binary.js';
import { NavApiError } from '../../src/shared/api/nav-api.js';
import type { NavEvent, Params } from '../../src/shared/api/schemas.js';

const engineEntry = fileURLToPath(new URL('../../src/engine/process/engine-main.ts', import.meta.url));
const TRUSTED: SenderInfo = { webContentsId: 1, frameUrl: 'navws://app/index.html', isMainFrame: true };

type Listener = (event: { ports?: readonly StreamPortLike[] }, ...args: unknown[]) => void;

function harness(
  t: { after(fn: () => unknown): void },
  options: Pick<NavBridgeOptions, 'showSaveDialog'> = {},
) {
  const dir = mkdtempSync(path.join(tmpdir(), 'navws-preload-'));
  const casesRoot = path.join(dir, 'cases');
  const samplesRoot = path.join(dir, 'samples');
  mkdirSync(samplesRoot);
  const listeners = new Map<string, Listener[]>();
  const deliver = (
    channel: string,
    event: { ports?: readonly StreamPortLike[] },
    ...args: unknown[]
  ): void => {
    for (const l of listeners.get(channel) ?? []) l(event, ...args.map((a) => structuredClone(a)));
  };
  const bridge: NavBridge = new NavBridge({
    engine: (method, args) => supervisor.request(method, args),
    isTrustedSender: trustedSenderPolicy(new Set([TRUSTED.webContentsId])),
    broadcast: (event: NavEvent) => deliver(EVENT_CHANNEL, {}, event),
    ...options,
  });
  const supervisor: EngineSupervisor = new EngineSupervisor({
    spawn: () =>
      forkNodeEngineChild({
        entry: engineEntry,
        args: ['--cases', casesRoot, '--samples', samplesRoot, '--version', '9.9.9'],
        execArgv: ['--import', 'tsx'],
      }),
    backoff: { initialMs: 50, maxMs: 500, factor: 2 },
    heartbeat: { intervalMs: 200, timeoutMs: 5_000 },
    restore: (call) => bridge.restore(call),
  });
  supervisor.on('event', (e) => bridge.engineEvent(e));
  supervisor.on('crash', (c) => bridge.engineCrashed(c));
  supervisor.on('restored', ({ restarts }) => bridge.engineRestored(restarts));
  const ipc: IpcRendererLike = {
    invoke: async (channel, payload) => bridge.invoke(TRUSTED, channel, structuredClone(payload)),
    on: (channel, listener) => listeners.set(channel, [...(listeners.get(channel) ?? []), listener]),
  };
  const warnings: string[] = [];
  const api = createElectronNavApi(ipc, { warn: (m) => warnings.push(m) });
  t.after(async () => {
    await supervisor.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { api, bridge, supervisor, deliver, warnings, dir };
}

test('requests, errors, events and a crash-restart round trip through preload, main and the engine process', async (t) => {
  const { api, bridge, supervisor } = harness(t);
  await supervisor.start();
  assert.equal(api.host, 'electron');

  const status = await api.call('status.get', {});
  assert.equal(status.version, '9.9.9');
  assert.equal(status.host, 'electron');

  const created = await api.call('cases.create', {
    title: 'Liver resection',
    procedure: 'Laparoscopic resection',
    surgeon: 'A. Surgeon',
    patientRef: 'P-17',
  });
  const detail = await api.call('cases.open', { caseId: created.id });
  assert.equal(detail.summary.title, 'Liver resection');
  assert.equal(bridge.currentCaseId, created.id);
  const m = await api.call('measurements.add', {
    caseId: created.id,
    a: [0, 0, 0],
    b: [30, 40, 0],
    label: 'lesion',
  });
  assert.equal(m.distanceMm, 50);

  // Errors keep their NavApiError code across both process boundaries.
  await assert.rejects(api.call('cases.open', { caseId: 'case-that-does-not-exist' }), (err: unknown) => {
    assert.ok(err instanceof NavApiError);
    assert.equal(err.code, 'not-found');
    return true;
  });
  // The preload refuses a bad request before it leaves the renderer.
  const badCase = {
    title: 5,
    procedure: 'x',
    surgeon: 'y',
    patientRef: 'P-1234',
  } as unknown as Params<'cases.create'>;
  await assert.rejects(api.call('cases.create', badCase), /title/);
  await assert.rejects(
    api.call('no.such.method' as 'status.get', {}),
    (err: unknown) => err instanceof NavApiError && err.code === 'bad-request',
  );

  // The engine dies (SIGKILL, as a native crash would leave it); the UI hears about it and about the
  // restart, the case is reopened, and the measurement recorded before the crash is still there.
  const seen: NavEvent[] = [];
  const up = new Promise<void>((resolve) =>
    api.onEvent((e) => {
      seen.push(e);
      if (e.type === 'engine' && e.state === 'up') resolve();
    }),
  );
  process.kill(supervisor.pid!, 'SIGKILL');
  await up;
  const engineEvents = seen.filter((e) => e.type === 'engine');
  assert.equal(engineEvents[0]?.type === 'engine' && engineEvents[0].state, 'restarting');
  assert.match(
    engineEvents[0]?.type === 'engine' ? engineEvents[0].message : '',
    /SIGKILL.*recorded data is safe/,
  );
  assert.match(
    engineEvents.at(-1)?.type === 'engine' ? engineEvents.at(-1)!.message : '',
    new RegExp(`case ${created.id} reopened`),
  );
  const after = await api.call('measurements.list', { caseId: created.id });
  assert.deepEqual(
    after.map((x) => [x.id, x.distanceMm]),
    [[m.id, 50]],
  );
  assert.equal((await api.call('cases.list', {})).length, 1);
});

test('binary frames arrive over the stream port decoded; malformed ones are dropped with a warning', async (t) => {
  const { api, deliver, warnings } = harness(t);
  const frames: FrameBundle[] = [];
  api.onFrame((f) => frames.push(f));
  const { port1, port2 } = new MessageChannel();
  const acks: unknown[] = [];
  port2.on('message', (m: unknown) => acks.push(m));
  deliver(STREAM_PORT_CHANNEL, { ports: [port1 as unknown as StreamPortLike] });
  const w = 4;
  const h = 3;
  const rgb = new Uint8Array(w * h * 3).map((_, i) => i);
  const depth = new Float32Array(w * h).map((_, i) => 100 + i);
  const frame: FrameBundle = {
    frameId: 7,
    timeS: 0.25,
    producedAtMs: Date.now(),
    rgb: { width: w, height: h, data: rgb },
    depth: { width: w, height: h, data: depth },
    depthFrameId: 7,
    pose: null,
    trackingState: 'tracking',
    isKeyframe: true,
  };
  port2.postMessage(new Uint8Array([1, 2, 3]));
  port2.postMessage('not binary');
  port2.postMessage(encodeFrame(frame, 0, 'float32'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  port1.close();
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.frameId, 7);
  assert.deepEqual(frames[0]!.rgb.data, rgb);
  assert.deepEqual(Array.from(frames[0]!.depth!.data), Array.from(depth));
  assert.equal(frames[0]!.trackingState, 'tracking');
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.deepEqual(acks, [{ ack: 1 }], 'the delivered frame returns its credit to the engine');
  port2.close();
});

test('paths from the UI: the save dialog in main grants one export, a source picked in main opens, the page names no path', async (t) => {
  let answer: string | null = null;
  const asked: { caseId: string; format: string }[] = [];
  const { api, bridge, supervisor, dir } = harness(t, {
    showSaveDialog: async (request) => {
      asked.push(request);
      return answer;
    },
  });
  await supervisor.start();
  const { id: caseId } = await api.call('cases.create', { title: 'Paths', patientRef: 'P-200' });

  // Cancelled dialog: no grant.
  assert.deepEqual(await api.call('export.chooseDestination', { caseId, format: 'ply' }), {
    grant: null,
    fileName: null,
    format: 'ply',
  });
  // The user picks an STL file: the format follows the extension; the page gets a token and a name.
  answer = path.join(dir, 'for planning.stl');
  const chosen = await api.call('export.chooseDestination', { caseId, format: 'ply' });
  assert.deepEqual(asked.at(-1), { caseId, format: 'ply' });
  assert.equal(chosen.format, 'stl');
  assert.equal(chosen.fileName, 'for planning.stl');
  assert.match(chosen.grant ?? '', /^grant-[0-9a-f]{32}$/);
  // The engine process knows the grant: the export passes the destination check and stops at the run.
  await assert.rejects(
    api.call('export.mesh', { caseId, format: 'stl', grant: chosen.grant! }),
    /has no recorded run/,
  );
  await assert.rejects(
    api.call('export.mesh', { caseId, format: 'stl', grant: 'grant-forged-by-the-page' }),
    /unknown, already used or expired/,
  );
  answer = path.join(dir, 'liver.xyz');
  await assert.rejects(
    api.call('export.chooseDestination', { caseId, format: 'ply' }),
    /unknown mesh format/,
  );
  // The preload refuses a path named by the page before it leaves the renderer.
  await assert.rejects(
    api.call('export.mesh', { caseId, format: 'ply', outputPath: path.join(dir, 'x.ply') } as never),
    /outputPath: not accepted/,
  );

  // Sources: a folder outside the allowed roots is refused, naming them; picked in main's open dialog,
  // it may be opened (and then fails only for what it holds: no dataset here).
  const elsewhere = path.join(dir, 'elsewhere');
  mkdirSync(elsewhere);
  const source = { kind: 'file' as const, path: elsewhere };
  await assert.rejects(api.call('run.start', { caseId, source }), (err: Error) => {
    assert.match(err.message, /not in a folder sources may come from/);
    assert.match(err.message, /NAVWS_SOURCE_ROOTS/);
    return true;
  });
  await bridge.allowPickedSource(elsewhere);
  await assert.rejects(api.call('run.start', { caseId, source }), (err: Error) => {
    assert.doesNotMatch(err.message, /not in a folder sources may come from/);
    assert.match(err.message, /intrinsics\.json/);
    return true;
  });
});
