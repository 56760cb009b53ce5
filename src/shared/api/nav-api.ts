/**
 * NavApi: the only way the renderer talks to the rest of NavWS. Two hosts implement it over the same
 * engine service (src/engine/service): the Electron preload (window.navws, via contextBridge) and the
 * browser host (src/server + src/renderer/host/socket-client.ts, over a token-protected WebSocket).
 *
 * JSON requests go through `call(method, params)`, typed and validated by the request table in
 * schemas.ts; frames and mesh blocks are binary (binary.ts) and arrive decoded.
 */
import type { FrameBundle, MeshBlocksUpdate } from './binary.js';
import {
  type BinaryMethod,
  type BinaryParams,
  type Method,
  type NavEvent,
  type Params,
  type ParsedParams,
  type Result,
  binaryRequestTable,
  describeZodError,
  navEventSchema,
  requestTable,
} from './schemas.js';

export type Unsubscribe = () => void;
export type HostKind = 'electron' | 'browser';

export interface NavApi {
  readonly host: HostKind;
  /** A JSON request; rejects with a NavApiError naming the problem. */
  call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>>;
  /** The recorded video frame, depth and pose nearest to a time in a run (review). */
  reviewFrame(params: BinaryParams<'review.frame'>): Promise<FrameBundle>;
  /** The fused mesh of a run, as blocks (review). */
  reviewMesh(params: BinaryParams<'review.mesh'>): Promise<MeshBlocksUpdate>;
  /** Stats, tracking state, run state, logs, export progress, engine state. */
  onEvent(listener: (event: NavEvent) => void): Unsubscribe;
  /** Live frames (video + depth + pose of one instant) while a run is going. */
  onFrame(listener: (frame: FrameBundle) => void): Unsubscribe;
  /** Live mesh block updates while a run is going. */
  onMesh(listener: (update: MeshBlocksUpdate) => void): Unsubscribe;
}

export type NavApiErrorCode =
  'bad-request' | 'not-found' | 'conflict' | 'unavailable' | 'internal' | 'transport';

export class NavApiError extends Error {
  override name = 'NavApiError';
  constructor(
    readonly code: NavApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function parseParams<M extends Method>(method: M, params: unknown): ParsedParams<M> {
  const parsed = requestTable[method].params.safeParse(params ?? {});
  if (!parsed.success)
    throw new NavApiError('bad-request', describeZodError(parsed.error, `${method} params`));
  return parsed.data as ParsedParams<M>;
}

export function parseResult<M extends Method>(method: M, result: unknown): Result<M> {
  const parsed = requestTable[method].result.safeParse(result);
  if (!parsed.success) throw new NavApiError('internal', describeZodError(parsed.error, `${method} result`));
  return parsed.data as Result<M>;
}

export function parseBinaryParams<M extends BinaryMethod>(method: M, params: unknown): BinaryParams<M> {
  const parsed = binaryRequestTable[method].params.safeParse(params ?? {});
  if (!parsed.success)
    throw new NavApiError('bad-request', describeZodError(parsed.error, `${method} params`));
  return parsed.data as BinaryParams<M>;
}

export function parseEvent(event: unknown): NavEvent {
  const parsed = navEventSchema.safeParse(event);
  if (!parsed.success) throw new NavApiError('internal', describeZodError(parsed.error, 'event'));
  return parsed.data;
}

/** A tiny typed listener set, shared by every NavApi implementation. */
export class ListenerSet<T> {
  private readonly listeners = new Set<(value: T) => void>();

  add(listener: (value: T) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(value: T): void {
    for (const listener of this.listeners) {
      try {
        listener(value);
      } catch (error) {
        // One faulty subscriber must not starve the others of frames.
        console.error('NavApi listener failed:', error);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
