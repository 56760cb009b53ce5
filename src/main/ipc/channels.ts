/**
 * IPC channel names between the preload and main. One channel per NavApi method, so main registers a
 * handler for exactly the methods of the shared request tables and Electron itself refuses the rest.
 */
import type { BinaryMethod, Method } from '../../shared/api/schemas.js';

export const CALL_PREFIX = 'navws:call:';
export const BINARY_PREFIX = 'navws:binary:';
/** main -> renderer: a NavEvent (validated on both sides). */
export const EVENT_CHANNEL = 'navws:event';
/** main -> renderer: carries the MessagePort of the binary stream (frames and mesh blocks). */
export const STREAM_PORT_CHANNEL = 'navws:stream-port';

export function callChannel(method: Method): string {
  return `${CALL_PREFIX}${method}`;
}
export function binaryChannel(method: BinaryMethod): string {
  return `${BINARY_PREFIX}${method}`;
}

/** What an invoke resolves to; errors travel as values so their code survives the IPC boundary. */
export type InvokeReply =
  { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };
