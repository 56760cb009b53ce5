/**
 * Fuzzes every IPC channel of NavApi through main's real bridge and router, backed by the real engine
 * service on a temporary cases folder: malformed messages (wrong types, huge or deep payloads, unknown
 * channels, prototype-pollution keys, untrusted senders) are all answered with an error, nothing
 * throws, the engine is never called and nothing is written. Valid messages are the positive control.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { hostNavApi } from '../../src/engine/process/engine-adapter.js';
import { EngineService } from '../../src/engine/service/engine-service.js';
import type { InvokeReply } from '../../src/main/ipc/channels.js';
import { NAV_CONTRACT } from '../../src/main/ipc/nav-contract.js';
import { checkPayload } from '../../src/main/ipc/payload-guard.js';
import type { SenderInfo } from '../../src/main/ipc/router.js';
import { trustedSenderPolicy } from '../../src/main/ipc/sender.js';
import { NavBridge } from '../../src/main/nav-bridge.js';
import type { NavEvent } from '../../src/shared/api/schemas.js';

const TRUSTED: SenderInfo = { webContentsId: 7, frameUrl: 'navws://app/index.html', isMainFrame: true };

/** One valid request per channel; the test fails when a channel is added without an example. */
const VALID: Record<string, Record<string, unknown>> = {
  'navws:call:status.get': {},
  'navws:call:cases.list': { search: 'liver', limit: 10 },
  'navws:call:cases.create': {
    title: 'Liver resection',
    procedure: 'laparoscopic',
    surgeon: 'A',
    patientRef: 'P-001',
  },
  'navws:call:cases.open': { caseId: 'case-1' },
  'navws:call:sources.list': {},
  'navws:call:run.start': { caseId: 'case-1', source: { kind: 'sample', name: 'phantom' }, speed: 1 },
  'navws:call:run.stop': {},
  'navws:call:review.trajectory': { caseId: 'case-1', runId: 'run-1' },
  'navws:call:annotations.add': {
    caseId: 'case-1',
    runId: null,
    timeS: 1.5,
    kind: 'bookmark',
    label: 'bleeding',
  },
  'navws:call:annotations.list': { caseId: 'case-1' },
  'navws:call:measurements.add': {
    caseId: 'case-1',
    runId: null,
    a: [0, 0, 0],
    b: [1, 2, 3],
    label: 'width',
  },
  'navws:call:measurements.list': { caseId: 'case-1' },
  'navws:call:export.mesh': { caseId: 'case-1', format: 'ply', fileName: 'navws-fuzz-never.ply' },
  'navws:call:export.chooseDestination': { caseId: 'case-1', format: 'ply' },
  'navws:binary:review.frame': { caseId: 'case-1', timeS: 0 },
  'navws:binary:review.mesh': { caseId: 'case-1' },
};

function deep(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

function cyclic(): unknown {
  const o: Record<string, unknown> = { caseId: 'case-1' };
  o.self = o;
  return o;
}

function manyKeys(n: number): Record<string, number> {
  const o: Record<string, number> = {};
  for (let i = 0; i < n; i++) o[`k${i}`] = i;
  return o;
}

// Built once: the expensive payloads are the same for every channel.
const HUGE_STRING = 'x'.repeat(2 << 20);
const HUGE_BINARY = new Uint8Array(4 << 20);
const DEEP = deep(10_000);
const MANY_KEYS = manyKeys(12_000);

/** Payloads that are wrong for every channel. */
function malformedFor(channel: string): [string, unknown][] {
  const valid = VALID[channel]!;
  return [
    ['undefined', undefined],
    ['null', null],
    ['number', 42],
    ['NaN', Number.NaN],
    ['string', 'cases.create'],
    ['boolean', true],
    ['array', [valid]],
    ['typed array', new Uint8Array(16)],
    ['ArrayBuffer', new ArrayBuffer(8)],
    ['Date', new Date()],
    ['Map', new Map([['caseId', 'case-1']])],
    ['huge string field', { ...valid, title: HUGE_STRING, caseId: HUGE_STRING }],
    ['huge binary', { ...valid, blob: HUGE_BINARY }],
    ['deep nesting', { ...valid, nested: DEEP }],
    ['many keys', Object.assign(MANY_KEYS, valid)],
    ['cycle', cyclic()],
    ['__proto__ key', { ...(JSON.parse('{"__proto__": {"polluted": "yes"}}') as object), ...valid }],
    ['constructor.prototype', { ...valid, constructor: { prototype: { polluted: 'yes' } } }],
    [
      'nested __proto__',
      {
        ...valid,
        source: JSON.parse('{"kind":"sample","name":"x","__proto__":{"polluted":"yes"}}') as unknown,
      },
    ],
    ['symbol key', { ...valid, [Symbol('s')]: 1 }],
    ['function value', { ...valid, caseId: () => 'case-1' }],
    ['bigint value', { ...valid, limit: 10n }],
  ];
}

/** Each field of the valid example replaced by a value of the wrong type. */
function fieldMutations(channel: string): [string, unknown][] {
  const valid = VALID[channel]!;
  const out: [string, unknown][] = [];
  for (const [key, value] of Object.entries(valid)) {
    const wrong: unknown[] =
      typeof value === 'string'
        ? [12345, ['a'], { s: value }, 'x'.repeat(5000)]
        : typeof value === 'number'
          ? ['1', Number.POSITIVE_INFINITY, Number.NaN, -1e9, [value]]
          : Array.isArray(value)
            ? ['0,0,0', [1, 2], [1, 2, 'x'], [1, 2, Number.NaN]]
            : value === null
              ? [5, { id: 1 }]
              : [7, 'sample', [], { kind: 'nope' }];
    for (const w of wrong)
      out.push([
        `${key} = ${typeof w === 'string' ? `'${w.slice(0, 12)}'` : String(w).slice(0, 20)}`,
        { ...valid, [key]: w },
      ]);
  }
  // Strict schemas (no params) refuse unknown keys.
  if (Object.keys(valid).length === 0) out.push(['unknown key', { extra: 1 }]);
  return out;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

function setup(t: { after(fn: () => unknown): void }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'navws-fuzz-'));
  const casesRoot = path.join(dir, 'cases');
  const samplesRoot = path.join(dir, 'samples');
  mkdirSync(samplesRoot);
  const service = new EngineService({ host: 'electron', casesRoot, samplesRoot });
  const engine = hostNavApi(service);
  const engineCalls: string[] = [];
  const events: NavEvent[] = [];
  const rejected: string[] = [];
  const bridge = new NavBridge({
    engine: (method, args) => {
      engineCalls.push(method);
      return engine.call(method, args);
    },
    isTrustedSender: trustedSenderPolicy(new Set([TRUSTED.webContentsId])),
    broadcast: (e) => events.push(e),
    log: (line) => rejected.push(line),
  });
  t.after(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, casesRoot, bridge, engineCalls, events, rejected };
}

function assertRejected(reply: InvokeReply, what: string): void {
  assert.equal(reply.ok, false, `${what} was accepted`);
  if (!reply.ok) {
    assert.equal(reply.error.code, 'bad-request', `${what}: ${reply.error.message}`);
    assert.ok(reply.error.message.length > 0 && reply.error.message.length < 4000, `${what}: message length`);
  }
}

test('every channel has a valid example and a schema', () => {
  assert.deepEqual(Object.keys(VALID).sort(), Object.keys(NAV_CONTRACT).sort());
  for (const [channel, example] of Object.entries(VALID)) {
    assert.equal(checkPayload(example).ok, true, channel);
    assert.equal(NAV_CONTRACT[channel]!.request.safeParse(example).success, true, channel);
  }
});

test('malformed messages on every channel are rejected; nothing crashes, nothing is written', async (t) => {
  const { dir, bridge, engineCalls } = setup(t);
  let count = 0;
  for (const channel of Object.keys(NAV_CONTRACT)) {
    for (const [what, payload] of [...malformedFor(channel), ...fieldMutations(channel)]) {
      assertRejected(await bridge.invoke(TRUSTED, channel, payload), `${channel} with ${what}`);
      count++;
    }
  }
  assert.ok(count > 300, `${count} malformed messages`);
  assert.deepEqual(engineCalls, []);
  assert.deepEqual(files(dir), []);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
});

test('unknown channels are rejected, including prototype names', async (t) => {
  const { bridge, engineCalls } = setup(t);
  const channels: unknown[] = [
    'navws:call:cases.delete',
    // The engine's host-only methods (path grants after a native dialog) are no renderer channel.
    'navws:call:host.grantExport',
    'navws:call:host.allowSource',
    'host.grantExport',
    'navws:call:engine.ping',
    'navws:call:',
    'navws:call:__proto__',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '',
    'x'.repeat(100_000),
    'navws:call:status.get ',
    'NAVWS:CALL:STATUS.GET',
    42,
    null,
    undefined,
    {},
    ['navws:call:status.get'],
  ];
  for (const channel of channels) {
    const reply = await bridge.router.handle(TRUSTED, channel, {});
    assert.equal(reply.ok, false, String(channel).slice(0, 40));
    if (!reply.ok) {
      assert.equal(reply.error.code, 'unknown-channel');
      assert.ok(reply.error.message.length < 200, 'a long channel name is not echoed whole');
    }
  }
  assert.deepEqual(engineCalls, []);
});

test('messages from untrusted senders are rejected before their payload is looked at', async (t) => {
  const { dir, bridge, engineCalls, rejected } = setup(t);
  const senders: SenderInfo[] = [
    { ...TRUSTED, webContentsId: 8 },
    { ...TRUSTED, isMainFrame: false },
    { ...TRUSTED, frameUrl: null },
    { ...TRUSTED, frameUrl: 'https://evil.example/' },
    { ...TRUSTED, frameUrl: 'file:///tmp/index.html' },
    { ...TRUSTED, frameUrl: 'navws://other/index.html' },
  ];
  for (const sender of senders) {
    const reply = await bridge.router.handle(
      sender,
      'navws:call:cases.create',
      VALID['navws:call:cases.create'],
    );
    assert.equal(reply.ok, false);
    if (!reply.ok) assert.equal(reply.error.code, 'untrusted-sender');
  }
  assert.deepEqual(engineCalls, []);
  assert.deepEqual(files(dir), []);
  assert.equal(rejected.length, senders.length, 'every rejection is logged');
});

test('random garbage never crashes the router (seeded, 100 messages per channel)', async (t) => {
  const { bridge } = setup(t);
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const keys = ['a', 'b', 'kind', 'x', '0', '__proto__', 'prototype', 'zz'];
  const value = (depth: number): unknown => {
    const r = rand();
    if (depth > 4 || r < 0.2) return [null, 0, -1, 1e308, Number.NaN, '', 'a', true][Math.floor(rand() * 8)];
    if (r < 0.4) return 'x'.repeat(Math.floor(rand() * 300));
    if (r < 0.6) return Array.from({ length: Math.floor(rand() * 5) }, () => value(depth + 1));
    const o: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (let i = 0; i < 4; i++) o[keys[Math.floor(rand() * keys.length)]!] = value(depth + 1);
    return rand() < 0.5 ? { ...o } : o;
  };
  for (const channel of Object.keys(NAV_CONTRACT)) {
    for (let i = 0; i < 100; i++) {
      const reply = await bridge.invoke(TRUSTED, channel, value(0));
      assert.equal(typeof reply.ok, 'boolean');
    }
  }
});

test('valid messages reach the engine (positive control for "nothing is written")', async (t) => {
  const { casesRoot, bridge, engineCalls } = setup(t);
  const created = await bridge.invoke(TRUSTED, 'navws:call:cases.create', VALID['navws:call:cases.create']);
  assert.equal(created.ok, true, JSON.stringify(created));
  const caseId = (created as { value: { id: string } }).value.id;
  assert.ok(files(casesRoot).length > 0, 'the case was written');
  const opened = await bridge.invoke(TRUSTED, 'navws:call:cases.open', { caseId });
  assert.equal(opened.ok, true);
  assert.equal(bridge.currentCaseId, caseId, 'the open case is remembered for engine restarts');
  const missing = await bridge.invoke(TRUSTED, 'navws:call:cases.open', { caseId: 'no-such-case' });
  assert.equal(missing.ok, false);
  if (!missing.ok) assert.equal(missing.error.code, 'not-found', missing.error.message);
  assert.deepEqual(engineCalls, ['cases.create', 'cases.open', 'cases.open']);
});

test('an engine answer that does not match the schema is refused as an internal error', async () => {
  const bridge = new NavBridge({
    engine: async () => ({ version: 1, host: 'nowhere' }),
    isTrustedSender: () => true,
    broadcast: () => {},
  });
  const reply = await bridge.invoke(TRUSTED, 'navws:call:status.get', {});
  assert.equal(reply.ok, false);
  if (!reply.ok) assert.equal(reply.error.code, 'internal');
});

test('invalid engine events are dropped; valid ones are broadcast', () => {
  const events: NavEvent[] = [];
  const logs: string[] = [];
  const bridge = new NavBridge({
    engine: async () => null,
    isTrustedSender: () => true,
    broadcast: (e) => events.push(e),
    log: (l) => logs.push(l),
  });
  bridge.engineEvent({ type: 'log', level: 'info', message: 'ok', time: new Date().toISOString() });
  bridge.engineEvent({ type: 'log', level: 'shout', message: 'bad', time: '' });
  bridge.engineEvent({ type: 'nope' });
  bridge.engineEvent('string');
  assert.equal(events.length, 1);
  assert.equal(logs.length, 3);
});
