/**
 * NavApi over Electron IPC, as the preload builds it. Requests are checked here before they leave (so
 * the UI gets an early, precise error) and again in main; answers, events and binary messages are
 * checked on arrival, because the preload trusts nothing it did not build itself. Binary frames and mesh
 * blocks arrive on a MessagePort from the engine process and are decoded here (src/shared/api/binary.ts).
 *
 * Written against a minimal ipcRenderer shape so it can run in plain Node against the real main-side
 * bridge in tests.
 */
import {
  FRAME_KIND,
  MESH_KIND,
  WireFormatError,
  decodeFrame,
  decodeMeshBlocks,
  readEnvelope,
  type FrameBundle,
  type MeshBlocksUpdate,
} from '../shared/api/binary.js';
import {
  ListenerSet,
  NavApiError,
  type NavApi,
  type NavApiErrorCode,
  parseBinaryParams,
  parseEvent,
  parseParams,
  parseResult,
} from '../shared/api/nav-api.js';
import { type BinaryMethod, type NavEvent, isMethod } from '../shared/api/schemas.js';
import { EVENT_CHANNEL, STREAM_PORT_CHANNEL, binaryChannel, callChannel } from '../main/ipc/channels.js';
import type { StreamAck } from '../engine/process/frame-stream.js';

export interface StreamPortLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  /** Returns frame credit to the engine (src/engine/process/frame-stream.ts). */
  postMessage(message: StreamAck): void;
  start(): void;
  close(): void;
}

export interface IpcRendererLike {
  invoke(channel: string, payload: unknown): Promise<unknown>;
  on(
    channel: string,
    listener: (event: { ports?: readonly StreamPortLike[] }, ...args: unknown[]) => void,
  ): unknown;
}

const ERROR_CODES: ReadonlySet<string> = new Set<NavApiErrorCode>([
  'bad-request',
  'not-found',
  'conflict',
  'unavailable',
  'internal',
  'transport',
]);

/** Unwraps main's { ok, value | error } reply; anything else is a transport failure. */
function unwrap(reply: unknown, what: string): unknown {
  if (typeof reply === 'object' && reply !== null && 'ok' in reply) {
    const r = reply as { ok: unknown; value?: unknown; error?: { code?: unknown; message?: unknown } };
    if (r.ok === true) return r.value;
    if (r.ok === false && r.error && typeof r.error.message === 'string') {
      const code =
        typeof r.error.code === 'string' && ERROR_CODES.has(r.error.code) ? r.error.code : 'internal';
      throw new NavApiError(code as NavApiErrorCode, r.error.message);
    }
  }
  throw new NavApiError('transport', `${what}: malformed reply from the main process`);
}

function asBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return null;
}

export interface ElectronNavApiOptions {
  /** Reports dropped malformed messages (console in the app). */
  warn?: (message: string) => void;
}

export function createElectronNavApi(ipc: IpcRendererLike, options: ElectronNavApiOptions = {}): NavApi {
  const warn = options.warn ?? ((m: string) => console.warn(`[navws] ${m}`));
  const events = new ListenerSet<NavEvent>();
  const frames = new ListenerSet<FrameBundle>();
  const meshes = new ListenerSet<MeshBlocksUpdate>();
  let streamPort: StreamPortLike | null = null;

  ipc.on(EVENT_CHANNEL, (_event, raw) => {
    try {
      events.emit(parseEvent(raw));
    } catch (err) {
      warn(`dropped an invalid event: ${(err as Error).message}`);
    }
  });

  const onBinary = (data: unknown, port: StreamPortLike): void => {
    const bytes = asBytes(data);
    if (!bytes) {
      warn('dropped a non-binary message on the frame stream');
      return;
    }
    try {
      const { kind } = readEnvelope(bytes);
      if (kind === FRAME_KIND) {
        try {
          frames.emit(decodeFrame(bytes).frame);
        } finally {
          // The UI has the frame (or it was malformed): the engine may send the next one.
          port.postMessage({ ack: 1 });
        }
      } else if (kind === MESH_KIND) meshes.emit(decodeMeshBlocks(bytes).update);
      else warn(`dropped a binary message of unknown kind ${kind}`);
    } catch (err) {
      if (!(err instanceof WireFormatError)) throw err;
      warn(`dropped a malformed binary message: ${err.message}`);
    }
  };

  // Main sends a new port whenever the engine (re)starts; the old one died with the old engine.
  ipc.on(STREAM_PORT_CHANNEL, (event) => {
    const port = event.ports?.[0];
    if (!port) return;
    streamPort?.close();
    streamPort = port;
    port.onmessage = (e) => onBinary(e.data, port);
    port.start();
  });

  async function invokeBinary(method: BinaryMethod, params: unknown): Promise<Uint8Array> {
    const value = unwrap(await ipc.invoke(binaryChannel(method), params), method);
    const bytes = asBytes(value);
    if (!bytes) throw new NavApiError('transport', `${method}: expected a binary reply`);
    return bytes;
  }

  const api: NavApi = {
    host: 'electron',
    async call(method, params) {
      if (typeof method !== 'string' || !isMethod(method)) {
        throw new NavApiError('bad-request', `unknown method ${String(method).slice(0, 64)}`);
      }
      const checked = parseParams(method, params);
      return parseResult(method, unwrap(await ipc.invoke(callChannel(method), checked), method));
    },
    async reviewFrame(params) {
      const bytes = await invokeBinary('review.frame', parseBinaryParams('review.frame', params));
      try {
        return decodeFrame(bytes).frame;
      } catch (err) {
        throw new NavApiError('transport', `review.frame: ${(err as Error).message}`);
      }
    },
    async reviewMesh(params) {
      const bytes = await invokeBinary('review.mesh', parseBinaryParams('review.mesh', params));
      try {
        return decodeMeshBlocks(bytes).update;
      } catch (err) {
        throw new NavApiError('transport', `review.mesh: ${(err as Error).message}`);
      }
    },
    onEvent: (listener) => events.add(listener),
    onFrame: (listener) => frames.add(listener),
    onMesh: (listener) => meshes.add(listener),
  };
  return api;
}
