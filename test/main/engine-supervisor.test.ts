import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { forkNodeEngineChild } from '../../src/main/engine-child-node.js';
import {
  EngineSupervisor,
  type EngineCrash,
  type EngineState,
  type SupervisorOptions,
} from '../../src/main/engine-supervisor.js';

const entry = fileURLToPath(new URL('./fixtures/journal-engine.ts', import.meta.url));

function supervisor(overrides: Partial<SupervisorOptions> = {}): EngineSupervisor {
  return new EngineSupervisor({
    spawn: () => forkNodeEngineChild({ entry, execArgv: ['--import', 'tsx'] }),
    backoff: { initialMs: 20, maxMs: 200, factor: 2 },
    crashLimit: { maxCrashes: 3, windowMs: 60_000 },
    heartbeat: { intervalMs: 100, timeoutMs: 1_000 },
    readyTimeoutMs: 20_000,
    requestTimeoutMs: 20_000,
    shutdownGraceMs: 2_000,
    ...overrides,
  });
}

function once<T>(sup: EngineSupervisor, event: 'crash' | 'restored'): Promise<T> {
  return new Promise((resolve) => sup.once(event, (v: unknown) => resolve(v as T)));
}

test('a crashing engine is restarted, the case reopened, and nothing recorded is lost', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'navws-sup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const journal = path.join(dir, 'case.journal');
  let openCase: string | null = null;
  const sup = supervisor({
    restore: async (call) => {
      if (openCase) await call('open', { path: openCase });
    },
  });
  const states: EngineState[] = [];
  sup.on('state', (s) => states.push(s));
  t.after(() => sup.stop());

  await sup.start();
  assert.equal(sup.state, 'running');
  await sup.request('open', { path: journal });
  openCase = journal;
  for (let i = 0; i < 5; i++) await sup.request('record', { line: `frame ${i}` });
  const firstPid = sup.pid;

  // A native crash (SIGABRT). The request in flight learns that the engine died.
  const crashed = once<EngineCrash>(sup, 'crash');
  const restored = once<{ restarts: number }>(sup, 'restored');
  await sup.request('abort', null);
  const crash = await crashed;
  assert.equal(crash.reason, 'exit');
  assert.ok(crash.signal === 'SIGABRT' || crash.code !== 0, `crash reported: ${JSON.stringify(crash)}`);
  assert.equal(crash.restartInMs, 20);
  // Calls made while restarting wait for the new engine, which has the case open again.
  const status = (await sup.request('status', null)) as { path: string; records: string[]; pid: number };
  await restored;
  assert.notEqual(status.pid, firstPid);
  assert.equal(status.path, journal);
  assert.deepEqual(status.records, ['frame 0', 'frame 1', 'frame 2', 'frame 3', 'frame 4']);
  assert.equal(readFileSync(journal, 'utf8').split('\n').filter(Boolean).length, 5);
  assert.deepEqual(states.slice(0, 4), ['starting', 'running', 'restarting', 'running']);

  // Recording goes on in the new engine.
  assert.equal(await sup.request('record', { line: 'frame 5' }), 6);
  assert.equal(sup.restartCount, 1);
});

test('an uncaught exception is reported as fatal with its message, then restarted', async (t) => {
  const sup = supervisor();
  t.after(() => sup.stop());
  await sup.start();
  const crashed = once<EngineCrash>(sup, 'crash');
  await sup.request('throw', null);
  const crash = await crashed;
  assert.equal(crash.code, 70);
  assert.match(crash.message ?? '', /inference blew up/);
  await once(sup, 'restored');
  assert.deepEqual(await sup.request('echo', { a: 1, buf: new Uint8Array([1, 2, 3]) }), {
    a: 1,
    buf: new Uint8Array([1, 2, 3]),
  });
});

test('a hung engine misses heartbeats, is killed and restarted', async (t) => {
  const sup = supervisor({ heartbeat: { intervalMs: 50, timeoutMs: 400 } });
  t.after(() => sup.stop());
  await sup.start();
  const crashed = once<EngineCrash>(sup, 'crash');
  await sup.request('hang', null);
  const crash = await crashed;
  assert.equal(crash.reason, 'unresponsive');
  assert.equal(crash.signal, 'SIGKILL');
  await once(sup, 'restored');
  assert.equal(await sup.request('echo', 'alive'), 'alive');
});

test('backoff grows and the supervisor gives up after too many crashes', async (t) => {
  const sup = supervisor({ crashLimit: { maxCrashes: 2, windowMs: 60_000 } });
  t.after(() => sup.stop());
  const crashes: EngineCrash[] = [];
  sup.on('crash', (c) => crashes.push(c));
  await sup.start();
  for (let i = 0; i < 2; i++) {
    const restored = once(sup, 'restored');
    await sup.request('exit', null);
    await restored;
  }
  const failed = new Promise<void>((resolve) => sup.on('state', (s) => s === 'failed' && resolve()));
  await sup.request('exit', null);
  await failed;
  assert.deepEqual(
    crashes.map((c) => [c.code, c.crashesInWindow, c.restartInMs]),
    [
      [3, 1, 20],
      [3, 2, 40],
      [3, 3, null],
    ],
  );
  await assert.rejects(sup.request('echo', 1), /engine is failed/);
});

test('a request in flight when the engine dies is rejected, not left hanging', async (t) => {
  const sup = supervisor();
  t.after(() => sup.stop());
  await sup.start();
  const inFlight = sup.request('echo', 'x');
  sup.killForRestart();
  // Either answered before the kill landed or rejected with a clear reason; never pending forever.
  await inFlight.then(
    (v) => assert.equal(v, 'x'),
    (err: Error) => assert.match(err.message, /engine stopped/),
  );
  await once(sup, 'restored');
});

test('stop() shuts the engine down cleanly and refuses later calls', async () => {
  const sup = supervisor();
  await sup.start();
  const pid = sup.pid!;
  await sup.stop();
  assert.equal(sup.state, 'stopped');
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
  await assert.rejects(sup.request('echo', 1), /engine is stopped/);
});

test('an engine that never reports ready counts as a crash', async (t) => {
  const sup = new EngineSupervisor({
    spawn: () =>
      forkNodeEngineChild({ entry: fileURLToPath(new URL('./fixtures/silent-engine.mjs', import.meta.url)) }),
    backoff: { initialMs: 10, maxMs: 10, factor: 1 },
    crashLimit: { maxCrashes: 0, windowMs: 60_000 },
    readyTimeoutMs: 300,
    heartbeat: null,
  });
  t.after(() => sup.stop());
  const crashed = once<EngineCrash>(sup, 'crash');
  await assert.rejects(sup.start(), /not restarting/);
  assert.equal((await crashed).reason, 'no-ready');
});
