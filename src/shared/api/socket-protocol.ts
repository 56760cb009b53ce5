/**
 * JSON envelope of the browser host's WebSocket (binary frames and mesh blocks use binary.ts; their
 * envelope's requestId answers a `binary-call`, 0 marks the live streams).
 *
 *   client -> server  {t:'call', id, method, params}        JSON result
 *                     {t:'binary-call', id, method, params} binary result (review.frame, review.mesh)
 *                     {t:'frame-ack'}                       one live frame consumed (flow control)
 *   server -> client  {t:'result', id, result} | {t:'error', id, error:{code,message}}
 *                     {t:'event', event}
 */
import { z } from 'zod';

const requestId = z.number().int().min(1).max(0xffffffff);

export const clientMessageSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('call'), id: requestId, method: z.string().max(64), params: z.unknown() }),
  z.object({ t: z.literal('binary-call'), id: requestId, method: z.string().max(64), params: z.unknown() }),
  /** The page took one live frame off the socket: one more may be sent (flow control). */
  z.object({ t: z.literal('frame-ack') }),
]);

/**
 * Live frames in flight per page: a frame is sent only while fewer than this many are unacknowledged,
 * so at most this many frames queue between engine and page (the newest wins, older ones are skipped).
 * Three absorb a page that is busy for one refresh (a 3D redraw, a garbage collection) without
 * skipping a frame (two skipped about one frame in 250 in bench:ui), and bound the queue to 100 ms at
 * 30 fps.
 */
export const LIVE_FRAME_CREDITS = 3;

export const errorCodeSchema = z.enum([
  'bad-request',
  'not-found',
  'conflict',
  'unavailable',
  'internal',
  'transport',
]);

export const serverMessageSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('result'), id: requestId, result: z.unknown() }),
  z.object({
    t: z.literal('error'),
    id: requestId,
    error: z.object({ code: errorCodeSchema, message: z.string().max(8000) }),
  }),
  z.object({ t: z.literal('event'), event: z.unknown() }),
]);

export type ClientMessage = z.output<typeof clientMessageSchema>;
export type ServerMessage = z.output<typeof serverMessageSchema>;

/** Largest client message the server accepts; requests are small JSON. */
export const MAX_CLIENT_MESSAGE_BYTES = 256 * 1024;
/** The query parameter and header carrying the per-start token. */
export const TOKEN_PARAM = 'token';
export const SOCKET_PATH = '/api';
