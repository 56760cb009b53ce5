/**
 * Typed request/response calls into a worker thread. Heavy stages (depth inference, tracking, fusion)
 * each live in their own worker; the caller awaits results while the event loop stays free.
 * Buffers travel as transferables (moved, not copied).
 *
 * Worker side:   serveWorker({ integrate(args) { ...; return withTransfer(result, [result.buf.buffer]); } })
 * Caller side:   const w = await WorkerClient.start<Handlers>(workerEntry('fusion/fusion'), init);
 *                const r = await w.call('integrate', args, [args.depth.buffer]);
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type Transferable, Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

// Handlers take one argument (a structured-cloneable object) and return a value or a promise of one.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constraint only; call sites are typed.
export type Handlers = Record<string, (arg: any) => unknown>;

type Arg<H extends Handlers, K extends keyof H> = Parameters<H[K]>[0];
type Result<H extends Handlers, K extends keyof H> = Unwrap<Awaited<ReturnType<H[K]>>>;
type Unwrap<T> = T extends TransferResult<infer V> ? V : T;

const TRANSFER = Symbol('transfer');
export interface TransferResult<T> {
  [TRANSFER]: true;
  value: T;
  transfer: Transferable[];
}

/** Marks a handler result whose buffers should be moved to the caller rather than copied. */
export function withTransfer<T>(value: T, transfer: Transferable[]): TransferResult<T> {
  return { [TRANSFER]: true, value, transfer };
}

interface Request {
  id: number;
  method: string;
  arg: unknown;
}
type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** Answered by serveWorker itself: the worker's module loaded and serves its handlers. */
const READY_METHOD = '__ready';

/**
 * Resolves a worker entry module next to this file: `src/workers/<name>.worker.ts` when running from
 * source (tests, through tsx) and `dist/workers/<name>.worker.js` in a build.
 */
export function workerEntry(name: string): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}.worker${ext}`, import.meta.url);
}

function tsxCjsApi(): string {
  return createRequire(import.meta.url).resolve('tsx/cjs/api');
}

export class WorkerClient<H extends Handlers> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly name: string,
  ) {
    worker.on('message', (msg: Response) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error));
    });
    worker.on('error', (err) => this.fail(new Error(`${name} worker failed: ${err.message}`)));
    worker.on('exit', (code) => this.fail(new Error(`${name} worker exited (code ${code})`)));
  }

  /** Starts the worker; `init` is passed as workerData and is available through `workerInit()`. */
  static start<H extends Handlers>(entry: URL, init: unknown = null, name?: string): WorkerClient<H> {
    const file = fileURLToPath(entry);
    // Node 20 does not apply module hooks registered through `--import tsx` inside worker threads, so a
    // worker started from TypeScript source (tests, tsx) loads tsx's CommonJS hook itself.
    const worker = file.endsWith('.ts')
      ? new Worker(`require(${JSON.stringify(tsxCjsApi())}).register(); require(${JSON.stringify(file)});`, {
          eval: true,
          workerData: init,
        })
      : new Worker(file, { workerData: init });
    return new WorkerClient<H>(worker, name ?? file.split(/[\\/]/).slice(-2).join('/'));
  }

  get pendingCalls(): number {
    return this.pending.size;
  }

  call<K extends keyof H & string>(
    method: K,
    arg: Arg<H, K>,
    transfer: Transferable[] = [],
  ): Promise<Result<H, K>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Result<H, K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const req: Request = { id, method, arg };
      this.worker.postMessage(req, transfer);
    });
  }

  /**
   * Resolves once the worker serves its handlers (it starts in the background); if it cannot start, the
   * worker is closed and the reason thrown. Stages wait for this before a run, not at its first frame.
   */
  async ready(): Promise<void> {
    try {
      await new Promise<unknown>((resolve, reject) => {
        if (this.failure) return reject(this.failure);
        const id = this.nextId++;
        this.pending.set(id, { resolve, reject });
        this.worker.postMessage({ id, method: READY_METHOD, arg: null } satisfies Request);
      });
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.failure ??= new Error(`${this.name} worker closed`);
    await this.worker.terminate();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}

/** The init value given to WorkerClient.start. */
export function workerInit<T>(): T {
  return workerData as T;
}

/** Worker side: answers calls with the given handlers; errors travel back as messages, never crash. */
export function serveWorker(handlers: Handlers): void {
  if (isMainThread || !parentPort) throw new Error('serveWorker must run inside a worker thread');
  const port = parentPort;
  port.on('message', (req: Request) => {
    void (async () => {
      try {
        if (req.method === READY_METHOD) {
          port.postMessage({ id: req.id, ok: true, value: true } satisfies Response);
          return;
        }
        const fn = handlers[req.method];
        if (!fn) throw new Error(`unknown method '${req.method}'`);
        const out = await fn(req.arg);
        if (out && typeof out === 'object' && TRANSFER in out) {
          const t = out as TransferResult<unknown>;
          port.postMessage({ id: req.id, ok: true, value: t.value } satisfies Response, t.transfer);
        } else {
          port.postMessage({ id: req.id, ok: true, value: out } satisfies Response);
        }
      } catch (err) {
        port.postMessage({
          id: req.id,
          ok: false,
          error: (err as Error).message ?? String(err),
        } satisfies Response);
      }
    })();
  });
}
