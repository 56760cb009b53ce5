/**
 * Serves an engine over the parent channel: requests in, answers and events out, heartbeats answered,
 * frame ports attached. Errors in a request go back as error answers; an uncaught error or rejection is
 * reported to main as `fatal` and ends the process, so the supervisor restarts a clean engine instead of
 * keeping one in an unknown state.
 */
import { FrameStreamSender, type StreamKind } from './frame-stream.js';
import type { MainToEngine, ParentChannel } from './protocol.js';

/** What the engine process hosts: the engine service seen through a method-name call interface. */
export interface HostedEngine {
  call(method: string, args: unknown): Promise<unknown>;
  /** Engine events (pipeline progress, case changes); returns an unsubscribe function. */
  subscribe(listener: (event: unknown) => void): () => void;
  /**
   * Binary messages for one renderer (frames: video + depth + pose of one instant in one buffer; mesh
   * block updates). Subscribed per attached port, so a window that joins late gets the whole surface.
   */
  subscribeBinary?(listener: (message: Uint8Array, kind: StreamKind) => void): () => void;
  /** Flushes and closes the case store; called before a clean exit. */
  close(): Promise<void>;
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code.slice(0, 32) : undefined;
}

function isMainToEngine(value: unknown): value is MainToEngine {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}

export interface ServeOptions {
  exit?: (code: number) => void;
  /** Report uncaught errors as fatal and exit (the engine process); off when hosted in-process by tests. */
  crashHandlers?: boolean;
}

export function serveEngine(channel: ParentChannel, engine: HostedEngine, options: ServeOptions = {}): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const framePorts = new Map<number, { stream: FrameStreamSender; unsubscribe: () => void }>();
  let closing = false;

  const shutdown = async (code: number): Promise<void> => {
    if (closing) return;
    closing = true;
    try {
      await engine.close();
    } catch (err) {
      console.error(`engine: closing failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      for (const { stream, unsubscribe } of framePorts.values()) {
        unsubscribe();
        stream.close();
      }
      exit(code);
    }
  };

  const die = (err: unknown): void => {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    try {
      channel.send({ type: 'fatal', message });
    } finally {
      // No engine.close(): after an unknown failure the case store relies on its own durability (WAL).
      exit(70);
    }
  };
  if (options.crashHandlers ?? true) {
    process.on('uncaughtException', die);
    process.on('unhandledRejection', die);
  }

  engine.subscribe((event) => channel.send({ type: 'event', event }));
  const detach = (portId: number): void => {
    const entry = framePorts.get(portId);
    if (!entry) return;
    framePorts.delete(portId);
    entry.unsubscribe();
    entry.stream.close();
  };

  channel.onMessage((raw, ports) => {
    if (!isMainToEngine(raw)) return;
    switch (raw.type) {
      case 'request': {
        const id = raw.id;
        const fail = (err: unknown): void =>
          channel.send({
            type: 'response',
            id,
            ok: false,
            error: err instanceof Error ? err.message : String(err),
            ...(errorCode(err) ? { code: errorCode(err)! } : {}),
          });
        Promise.resolve()
          .then(() => engine.call(raw.method, raw.args))
          .then((value) => {
            try {
              channel.send({ type: 'response', id, ok: true, value });
            } catch (err) {
              // An answer that cannot be cloned must not leave main waiting until its timeout.
              fail(new Error(`the answer to ${raw.method} could not be sent: ${(err as Error).message}`));
            }
          }, fail);
        break;
      }
      case 'ping':
        channel.send({ type: 'pong', seq: raw.seq });
        break;
      case 'shutdown':
        void shutdown(0);
        break;
      case 'attach-frame-port': {
        const port = ports[0];
        if (!port || !engine.subscribeBinary) break;
        detach(raw.portId);
        const stream = new FrameStreamSender(port);
        const unsubscribe = engine.subscribeBinary((message, kind) => {
          try {
            stream.send(message, kind);
          } catch {
            detach(raw.portId);
          }
        });
        framePorts.set(raw.portId, { stream, unsubscribe });
        break;
      }
      case 'detach-frame-port':
        detach(raw.portId);
        break;
    }
  });
  channel.send({ type: 'ready', pid: process.pid });
}
