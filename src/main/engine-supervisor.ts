/**
 * Keeps the engine process alive. The engine runs capture, inference, tracking, fusion and the case
 * store in a separate process so that a crash in native code or in inference cannot take the UI down.
 * The supervisor notices the crash (exit, or a missed heartbeat when the engine hangs), tells listeners,
 * restarts the engine with exponential backoff, runs the restore step (main reopens the case) and gives
 * up after too many crashes in a short time. Written against `EngineChild`, so it runs with an Electron
 * utilityProcess in the app and with a Node child process in tests.
 */
import { EventEmitter } from 'node:events';
import { engineToMainSchema, type EngineToMain, type MainToEngine } from '../engine/process/protocol.js';

/** One running engine process. */
export interface EngineChild {
  readonly pid: number | undefined;
  /**
   * Delivers a message. One racing the process's exit may be dropped silently: the exit is reported
   * through onExit, which rejects every request still in flight.
   */
  postMessage(message: MainToEngine, ports?: readonly unknown[]): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the process is gone, whatever the cause. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /** Forceful termination (SIGKILL where there are signals). */
  kill(): void;
}

export type SpawnEngine = () => EngineChild;

/** Calls one engine method; resolves with its answer. */
export type EngineCall = (method: string, args: unknown) => Promise<unknown>;

export type EngineState = 'idle' | 'starting' | 'running' | 'restarting' | 'failed' | 'stopped';

export interface EngineCrash {
  code: number | null;
  signal: string | null;
  /** 'exit' (the process died), 'unresponsive' (missed heartbeats), 'no-ready' (never came up). */
  reason: 'exit' | 'unresponsive' | 'no-ready';
  /** Last fatal message the engine reported before dying, if any. */
  message: string | null;
  /** Crashes inside the current restart window, this one included. */
  crashesInWindow: number;
  /** Milliseconds until the restart, or null when the supervisor gives up. */
  restartInMs: number | null;
}

export interface SupervisorOptions {
  spawn: SpawnEngine;
  backoff?: { initialMs: number; maxMs: number; factor: number };
  /** More than `maxCrashes` within `windowMs` and the supervisor stops restarting. */
  crashLimit?: { maxCrashes: number; windowMs: number };
  /** Null disables the hang detector. */
  heartbeat?: { intervalMs: number; timeoutMs: number } | null;
  readyTimeoutMs?: number;
  /** Requests not answered within this time are rejected (the engine keeps running). */
  requestTimeoutMs?: number;
  /** Time between `shutdown` and a forced kill on stop(). */
  shutdownGraceMs?: number;
  /** After a restart, before queued requests are released: e.g. reopen the case that was open. */
  restore?: (call: EngineCall) => Promise<void>;
  now?: () => number;
}

export interface SupervisorEvents {
  state: [EngineState];
  crash: [EngineCrash];
  restored: [{ restarts: number }];
  /** An event pushed by the engine (pipeline progress, case changes...). */
  event: [unknown];
  /** A message from the engine that did not match the protocol. */
  protocolError: [string];
}

export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
  readonly code = 'unavailable';
}

/** An error the engine answered a request with; `code` is the NavApiError code when it had one. */
export class EngineRequestError extends Error {
  override name = 'EngineRequestError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
}

const DEFAULTS = {
  backoff: { initialMs: 250, maxMs: 10_000, factor: 2 },
  crashLimit: { maxCrashes: 5, windowMs: 60_000 },
  // Heavy work runs in worker threads, so the engine's event loop answers within milliseconds; 15 s of
  // silence means it is stuck (a native call that never returns), not busy.
  heartbeat: { intervalMs: 1_000, timeoutMs: 15_000 },
  readyTimeoutMs: 20_000,
  requestTimeoutMs: 120_000,
  shutdownGraceMs: 3_000,
};

export class EngineSupervisor extends EventEmitter<SupervisorEvents> {
  private child: EngineChild | null = null;
  private generation = 0;
  private stateValue: EngineState = 'idle';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private crashTimes: number[] = [];
  private restarts = 0;
  private lastFatal: string | null = null;
  private lastPong = 0;
  private pingSeq = 0;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readyTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private pendingCrashReason: EngineCrash['reason'] | null = null;
  private readonly opts: Required<Omit<SupervisorOptions, 'restore' | 'heartbeat'>> & {
    heartbeat: SupervisorOptions['heartbeat'];
    restore: SupervisorOptions['restore'];
  };

  constructor(options: SupervisorOptions) {
    super();
    this.opts = {
      spawn: options.spawn,
      backoff: options.backoff ?? DEFAULTS.backoff,
      crashLimit: options.crashLimit ?? DEFAULTS.crashLimit,
      heartbeat: options.heartbeat === undefined ? DEFAULTS.heartbeat : options.heartbeat,
      readyTimeoutMs: options.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      shutdownGraceMs: options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs,
      restore: options.restore,
      now: options.now ?? Date.now,
    };
  }

  get state(): EngineState {
    return this.stateValue;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get restartCount(): number {
    return this.restarts;
  }

  /** Starts the engine and resolves once it reports ready. */
  async start(): Promise<void> {
    // 'failed' too: the user may ask for a fresh start after the supervisor gave up.
    if (this.stateValue !== 'idle' && this.stateValue !== 'stopped' && this.stateValue !== 'failed') {
      throw new Error(`engine already ${this.stateValue}`);
    }
    this.crashTimes = [];
    this.launch();
    await this.whenRunning();
  }

  /** Resolves when the engine is running (immediately if it is); rejects if it has failed or stopped. */
  whenRunning(): Promise<void> {
    if (this.stateValue === 'running') return Promise.resolve();
    if (this.stateValue === 'failed' || this.stateValue === 'stopped' || this.stateValue === 'idle') {
      return Promise.reject(new EngineUnavailableError(`engine is ${this.stateValue}`));
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /**
   * Calls a method in the engine. While the engine restarts, the call waits for it; a call in flight
   * when the engine dies is rejected (whether it took effect is unknown; the caller re-reads state).
   */
  async request(method: string, args: unknown, ports?: readonly unknown[]): Promise<unknown> {
    await this.whenRunning();
    return this.send(method, args, ports);
  }

  /** Sends a message with MessagePorts attached (frame streams); dropped when the engine is not running. */
  post(message: MainToEngine, ports?: readonly unknown[]): boolean {
    if (this.stateValue !== 'running' || !this.child) return false;
    this.child.postMessage(message, ports);
    return true;
  }

  /** Asks the engine to shut down cleanly (it closes the case store), then kills it after a grace period. */
  async stop(): Promise<void> {
    const child = this.child;
    this.clearTimers();
    this.setState('stopped');
    this.failWaiting(new EngineUnavailableError('engine stopped'));
    if (!child) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill();
        resolve();
      }, this.opts.shutdownGraceMs);
      child.onExit(() => {
        clearTimeout(timer);
        resolve();
      });
      try {
        child.postMessage({ type: 'shutdown' });
      } catch {
        child.kill();
      }
    });
    this.child = null;
    this.failPending(new EngineUnavailableError('engine stopped'));
  }

  /** Kills the engine as a crash would (used by tests and by main's "restart engine" menu item). */
  killForRestart(): void {
    this.pendingCrashReason = 'unresponsive';
    this.child?.kill();
  }

  private send(method: string, args: unknown, ports?: readonly unknown[]): Promise<unknown> {
    const child = this.child;
    if (!child) return Promise.reject(new EngineUnavailableError('engine is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        this.opts.requestTimeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(id);
              reject(new Error(`engine did not answer '${method}' within ${this.opts.requestTimeoutMs} ms`));
            }, this.opts.requestTimeoutMs)
          : null;
      this.pending.set(id, { resolve, reject, timer });
      try {
        child.postMessage({ type: 'request', id, method, args }, ports);
      } catch (err) {
        if (timer) clearTimeout(timer);
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private launch(): void {
    const generation = ++this.generation;
    this.setState(this.restarts > 0 || this.crashTimes.length > 0 ? 'restarting' : 'starting');
    this.lastFatal = null;
    this.pendingCrashReason = null;
    let child: EngineChild;
    try {
      child = this.opts.spawn();
    } catch (err) {
      this.lastFatal = `could not start the engine: ${err instanceof Error ? err.message : String(err)}`;
      this.onChildGone(generation, null, null);
      return;
    }
    this.child = child;
    child.onMessage((raw) => {
      if (generation === this.generation) this.onChildMessage(raw);
    });
    child.onExit((code, signal) => this.onChildGone(generation, code, signal));
    this.readyTimer = setTimeout(() => {
      if (generation !== this.generation) return;
      this.pendingCrashReason = 'no-ready';
      child.kill();
    }, this.opts.readyTimeoutMs);
  }

  private onChildMessage(raw: unknown): void {
    const parsed = engineToMainSchema.safeParse(raw);
    if (!parsed.success) {
      this.emit(
        'protocolError',
        `unexpected message from the engine: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      );
      return;
    }
    const msg: EngineToMain = parsed.data;
    switch (msg.type) {
      case 'ready':
        void this.onReady();
        break;
      case 'response': {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (p.timer) clearTimeout(p.timer);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(new EngineRequestError(msg.error, msg.code));
        break;
      }
      case 'event':
        this.emit('event', msg.event);
        break;
      case 'pong':
        if (msg.seq === this.pingSeq) this.lastPong = this.opts.now();
        break;
      case 'fatal':
        this.lastFatal = msg.message;
        break;
    }
  }

  private async onReady(): Promise<void> {
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = null;
    const generation = this.generation;
    this.startHeartbeat();
    const wasRestart = this.stateValue === 'restarting';
    if (wasRestart && this.opts.restore) {
      try {
        // The restore step talks to the engine directly; user calls keep waiting until it is done.
        await this.opts.restore((method, args) => this.send(method, args));
      } catch (err) {
        this.emit('event', {
          type: 'log',
          level: 'error',
          message: `after the engine restart, restoring the session failed: ${err instanceof Error ? err.message : String(err)}`,
        });
      }
    }
    if (generation !== this.generation || this.stateValue === 'stopped') return;
    this.setState('running');
    if (wasRestart) this.emit('restored', { restarts: this.restarts });
    for (const w of this.waiting.splice(0)) w.resolve();
  }

  private startHeartbeat(): void {
    const hb = this.opts.heartbeat;
    if (!hb) return;
    this.lastPong = this.opts.now();
    const child = this.child;
    this.heartbeatTimer = setInterval(() => {
      if (!child || child !== this.child) return;
      if (this.opts.now() - this.lastPong > hb.timeoutMs) {
        this.pendingCrashReason = 'unresponsive';
        child.kill();
        return;
      }
      try {
        child.postMessage({ type: 'ping', seq: ++this.pingSeq });
      } catch {
        // The exit handler deals with a dead child.
      }
    }, hb.intervalMs);
    this.heartbeatTimer.unref?.();
  }

  private onChildGone(generation: number, code: number | null, signal: string | null): void {
    if (generation !== this.generation) return;
    this.clearTimers();
    this.child = null;
    const reason = this.pendingCrashReason ?? 'exit';
    this.failPending(
      new EngineUnavailableError(
        `the engine stopped (${reason}${code !== null ? `, code ${code}` : ''}${signal ? `, ${signal}` : ''}) before answering`,
      ),
    );
    if (this.stateValue === 'stopped') return;

    const now = this.opts.now();
    this.crashTimes = [...this.crashTimes.filter((t) => now - t < this.opts.crashLimit.windowMs), now];
    const crashes = this.crashTimes.length;
    const giveUp = crashes > this.opts.crashLimit.maxCrashes;
    const { initialMs, maxMs, factor } = this.opts.backoff;
    const delay = giveUp ? null : Math.min(maxMs, initialMs * factor ** (crashes - 1));
    this.emit('crash', {
      code,
      signal,
      reason,
      message: this.lastFatal,
      crashesInWindow: crashes,
      restartInMs: delay,
    });
    if (delay === null) {
      this.setState('failed');
      this.failWaiting(
        new EngineUnavailableError(
          `the engine crashed ${crashes} times within ${Math.round(this.opts.crashLimit.windowMs / 1000)} s; not restarting`,
        ),
      );
      return;
    }
    this.setState('restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stateValue !== 'restarting') return;
      this.restarts++;
      this.launch();
    }, delay);
  }

  private setState(state: EngineState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.emit('state', state);
  }

  private clearTimers(): void {
    for (const t of [this.heartbeatTimer, this.readyTimer]) if (t) clearTimeout(t);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.heartbeatTimer = this.readyTimer = this.restartTimer = null;
  }

  private failPending(error: Error): void {
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
  }

  private failWaiting(error: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(error);
  }
}
