/**
 * Serves an engine over the parent channel: requests in, answers and events out, heartbeats answered,
 * frame ports attached. Errors in a request go back as error answers; an uncaught error or rejection is
 * reported to main as `fatal` and ends the process, so the supervisor restarts a clean engine instead of
 * keeping one in an unknown state.
 */
import type { FramePort, MainToEngine, ParentChannel } from './protocol.js';

/** What the engine process hosts: the engine service seen through a method-name call interface. */
export interface HostedEngine {
  call(method: string, args: unknown): Promise<unknown>;
  /** Engine events (pipeline progress, case changes); returns an unsubscribe function. */
  subscribe(listener: (event: unknown) => void): () => void;
  /**
   * Binary messages for one renderer (frames: video + depth + pose of one instant in one buffer; mesh
   * block updates). Subscribed per attached port, so a window that joins late gets the whole surface.
   */
  subscribeBinary?(listener: (message: Uint8Array) => void): () => void;
  /** Flushes and closes the case store; called before a clean exit. */
  close(): Promise<void>;
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code.slice(0, 32) : undefined;
}

function isMainToEngine(value: unknown): value is MainToEngine {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

export function serveEngine(channel: ParentChannel, engine: HostedEngine, exit: (code: number) => void = process.exit): void {
  const framePorts = new Map<number, { port: FramePort; unsubscribe: () => void }>();
  let closing = false;

  const shutdown = async (code: number): Promise<void> => {
    if (closing) return;
    closing = true;
    try {
      await engine.close();
    } finally {
      for (const { port, unsubscribe } of framePorts.values()) {
        unsubscribe();
        port.close();
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
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);

  engine.subscribe((event) => channel.send({ type: 'event', event }));
  const detach = (portId: number): void => {
    const entry = framePorts.get(portId);
    if (!entry) return;
    framePorts.delete(portId);
    entry.unsubscribe();
    entry.port.close();
  };

  channel.onMessage((raw, ports) => {
    if (!isMainToEngine(raw)) return;
    switch (raw.type) {
      case 'request':
        engine.call(raw.method, raw.args).then(
          (value) => channel.send({ type: 'response', id: raw.id, ok: true, value }),
          (err: unknown) =>
            channel.send({
              type: 'response',
              id: raw.id,
              ok: false,
              error: err instanceof Error ? err.message : String(err),
              ...(errorCode(err) ? { code: errorCode(err)! } : {}),
            }),
        );
        break;
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
        const unsubscribe = engine.subscribeBinary((message) => {
          try {
            port.postMessage(message);
          } catch {
            detach(raw.portId);
          }
        });
        framePorts.set(raw.portId, { port, unsubscribe });
        break;
      }
      case 'detach-frame-port':
        detach(raw.portId);
        break;
    }
  });
  channel.send({ type: 'ready', pid: process.pid });
}
