/**
 * Messages between the Electron main process and the engine process (an Electron utilityProcess in the
 * app, a Node child process in tests). Main validates everything the engine sends: the engine runs native
 * code and inference, and a half-broken engine must not be able to confuse main.
 */
import { z } from 'zod';

export type MainToEngine =
  | { type: 'request'; id: number; method: string; args: unknown }
  | { type: 'ping'; seq: number }
  | { type: 'shutdown' }
  /** Accompanied by one MessagePort: binary frames for one renderer (utilityProcess only). */
  | { type: 'attach-frame-port'; portId: number }
  | { type: 'detach-frame-port'; portId: number };

export const engineToMainSchema = z.union([
  z.object({
    type: z.literal('ready'),
    pid: z.number().int(),
    restoredFrom: z.string().nullable().optional(),
  }),
  z.object({ type: z.literal('response'), id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({
    type: z.literal('response'),
    id: z.number().int(),
    ok: z.literal(false),
    error: z.string(),
    /** NavApiError code when the engine raised one. */
    code: z.string().max(32).optional(),
  }),
  z.object({ type: z.literal('event'), event: z.unknown() }),
  z.object({ type: z.literal('pong'), seq: z.number().int() }),
  z.object({ type: z.literal('fatal'), message: z.string() }),
]);
export type EngineToMain = z.infer<typeof engineToMainSchema>;

/** The engine's side of the channel to main, whichever kind of process it runs in. */
export interface ParentChannel {
  send(message: EngineToMain): void;
  onMessage(listener: (message: unknown, ports: readonly FramePort[]) => void): void;
}

/** The part of a MessagePort (Electron MessagePortMain or Node's) the engine uses to stream frames. */
export interface FramePort {
  // Electron's MessagePortMain transfers only ports: binary messages are copied, once per renderer.
  postMessage(message: unknown): void;
  close(): void;
  /** Acks from the window's preload (flow control, see frame-stream.ts). */
  on(event: 'message', listener: (event: unknown) => void): unknown;
  /** Electron's MessagePortMain queues messages until started; Node's starts on its own. */
  start?(): void;
}
