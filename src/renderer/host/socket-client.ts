/**
 * NavApi over the browser host's WebSocket (src/server/browser-host.ts). The page is served by that
 * host, which set the access token as a same-site cookie, so the socket authenticates by itself.
 * Results and events are validated against the shared schemas before they reach the UI.
 */
import {
  FRAME_KIND,
  MESH_KIND,
  type FrameBundle,
  type MeshBlocksUpdate,
  decodeFrame,
  decodeMeshBlocks,
  readEnvelope,
} from '../../shared/api/binary.js';
import {
  ListenerSet,
  NavApiError,
  type NavApi,
  type Unsubscribe,
  parseEvent,
  parseResult,
} from '../../shared/api/nav-api.js';
import type { BinaryParams, Method, NavEvent, Params, Result } from '../../shared/api/schemas.js';
import { uiPerf } from '../lib/perf.js';
import { SOCKET_PATH, serverMessageSchema } from '../../shared/api/socket-protocol.js';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Set for binary calls: which decoder the answer needs. */
  binary: 'frame' | 'mesh' | null;
  method: string;
  timer: ReturnType<typeof setTimeout>;
}

/** The WebSocket constructor (the page's own; tests give Node's `ws`). */
type SocketClass = new (url: string) => WebSocket;

export interface SocketNavApiOptions {
  /** A request without a reply after this long fails with a clear error (default 30 s). */
  requestTimeoutMs?: number;
  WebSocketClass?: SocketClass;
}

export class SocketNavApi implements NavApi {
  readonly host = 'browser' as const;
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly events = new ListenerSet<NavEvent>();
  private readonly frames = new ListenerSet<FrameBundle>();
  private readonly meshes = new ListenerSet<MeshBlocksUpdate>();
  private opened: Promise<WebSocket> | null = null;
  private closedByUs = false;

  private readonly timeoutMs: number;
  private readonly Socket: SocketClass;

  constructor(
    private readonly url: string,
    options: SocketNavApiOptions = {},
  ) {
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.Socket = options.WebSocketClass ?? WebSocket;
  }

  static forPage(): SocketNavApi {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return new SocketNavApi(`${scheme}//${location.host}${SOCKET_PATH}`);
  }

  private connect(): Promise<WebSocket> {
    if (this.opened) return this.opened;
    this.opened = new Promise<WebSocket>((resolve, reject) => {
      const ws = new this.Socket(this.url);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => {
        this.ws = ws;
        resolve(ws);
      };
      ws.onmessage = (ev: MessageEvent<ArrayBuffer | string>) => this.onMessage(ev.data);
      ws.onclose = (ev) => {
        this.ws = null;
        this.opened = null;
        const error = new NavApiError(
          'transport',
          `connection to the NavWS host closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`,
        );
        for (const id of [...this.pending.keys()]) this.settle(id)?.reject(error);
        reject(error);
        if (!this.closedByUs) {
          this.events.emit({ type: 'engine', state: 'down', message: error.message });
          // Reconnect with a pause; the engine keeps running and recording meanwhile.
          setTimeout(
            () =>
              void this.connect()
                .then(() => this.events.emit({ type: 'engine', state: 'up', message: 'reconnected' }))
                .catch(() => undefined),
            1000,
          );
        }
      };
    });
    return this.opened;
  }

  /** Opens the socket now so live frames start flowing before the first request. */
  async start(): Promise<void> {
    await this.connect();
  }

  close(): void {
    this.closedByUs = true;
    this.ws?.close();
  }

  /** Removes a pending request (and its timer) so it settles exactly once; null when already settled. */
  private settle(id: number): Pending | null {
    const p = this.pending.get(id);
    if (!p) return null;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  private onMessage(data: ArrayBuffer | string): void {
    if (typeof data !== 'string') {
      const bytes = new Uint8Array(data);
      try {
        const { kind, requestId } = readEnvelope(bytes);
        if (requestId !== 0) {
          const p = this.settle(requestId);
          if (!p) return;
          try {
            p.resolve(kind === FRAME_KIND ? decodeFrame(bytes).frame : decodeMeshBlocks(bytes).update);
          } catch (err) {
            p.reject(
              new NavApiError(
                'transport',
                `${p.method}: the host's reply is damaged (${(err as Error).message})`,
              ),
            );
          }
        } else if (kind === FRAME_KIND) {
          // Acknowledge at once: the host sends the next frame only after this one left the socket.
          this.ws?.send('{"t":"frame-ack"}');
          const began = performance.now();
          const { frame } = decodeFrame(bytes);
          uiPerf.work('decode', performance.now() - began);
          this.frames.emit(frame);
        } else if (kind === MESH_KIND) this.meshes.emit(decodeMeshBlocks(bytes).update);
      } catch (err) {
        console.error('NavWS: bad binary message from host', err);
      }
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      console.error('NavWS: host sent invalid JSON');
      return;
    }
    const parsed = serverMessageSchema.safeParse(json);
    if (!parsed.success) {
      // A reply we cannot read still answers its request: the caller gets the reason, never a hang.
      const id = (json as { id?: unknown } | null)?.id;
      const p = typeof id === 'number' ? this.settle(id) : null;
      if (p) p.reject(new NavApiError('transport', `${p.method}: the host's reply is malformed`));
      else console.error('NavWS: host sent a malformed message', parsed.error.issues);
      return;
    }
    const msg = parsed.data;
    if (msg.t === 'event') {
      try {
        this.events.emit(parseEvent(msg.event));
      } catch (err) {
        console.error(err);
      }
      return;
    }
    const p = this.settle(msg.id);
    if (!p) return;
    if (msg.t === 'error') p.reject(new NavApiError(msg.error.code, msg.error.message));
    else {
      try {
        p.resolve(parseResult(p.method as Method, msg.result));
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }

  private async send(
    t: 'call' | 'binary-call',
    method: string,
    params: unknown,
    binary: Pending['binary'],
  ): Promise<unknown> {
    const ws = await this.connect();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id)?.reject(
          new NavApiError(
            'transport',
            `${method}: no reply from the NavWS host within ${this.timeoutMs / 1000} s`,
          ),
        );
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, binary, method, timer });
      ws.send(JSON.stringify({ t, id, method, params }));
    });
  }

  call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    return this.send('call', method, params, null) as Promise<Result<M>>;
  }

  reviewFrame(params: BinaryParams<'review.frame'>): Promise<FrameBundle> {
    return this.send('binary-call', 'review.frame', params, 'frame') as Promise<FrameBundle>;
  }

  reviewMesh(params: BinaryParams<'review.mesh'>): Promise<MeshBlocksUpdate> {
    return this.send('binary-call', 'review.mesh', params, 'mesh') as Promise<MeshBlocksUpdate>;
  }

  onEvent(listener: (event: NavEvent) => void): Unsubscribe {
    return this.events.add(listener);
  }

  onFrame(listener: (frame: FrameBundle) => void): Unsubscribe {
    return this.frames.add(listener);
  }

  onMesh(listener: (update: MeshBlocksUpdate) => void): Unsubscribe {
    return this.meshes.add(listener);
  }
}
