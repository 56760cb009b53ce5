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

  constructor(private readonly url: string) {}

  static forPage(): SocketNavApi {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return new SocketNavApi(`${scheme}//${location.host}${SOCKET_PATH}`);
  }

  private connect(): Promise<WebSocket> {
    if (this.opened) return this.opened;
    this.opened = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(this.url);
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
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
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

  private onMessage(data: ArrayBuffer | string): void {
    if (typeof data !== 'string') {
      const bytes = new Uint8Array(data);
      try {
        const { kind, requestId } = readEnvelope(bytes);
        if (requestId !== 0) {
          const p = this.pending.get(requestId);
          if (!p) return;
          this.pending.delete(requestId);
          p.resolve(kind === FRAME_KIND ? decodeFrame(bytes).frame : decodeMeshBlocks(bytes).update);
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
      console.error('NavWS: host sent a malformed message', parsed.error.issues);
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
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
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
      this.pending.set(id, { resolve, reject, binary, method });
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
