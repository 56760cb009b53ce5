/**
 * Flow control for the binary stream from the engine process to one window. Live frames are sent only
 * while the window has credit: each frame costs one credit and the window's preload returns it (an `ack`)
 * once it has handed the frame to the UI. A window that falls behind (busy GPU, a modal dialog) therefore
 * never accumulates a queue of stale frames: new frames are dropped at the source until it catches up, so
 * what it shows stays at most FRAME_CREDITS frames behind the engine. Mesh updates are never dropped:
 * they are incremental, and losing one would leave holes in the surface.
 */
import { LIVE_FRAME_CREDITS } from '../../shared/api/socket-protocol.js';
import type { FramePort } from './protocol.js';

/** The same credit as the browser host's (one policy for both hosts). */
export const FRAME_CREDITS = LIVE_FRAME_CREDITS;

export type StreamKind = 'frame' | 'mesh';

/** The ack a preload sends back after delivering one frame. */
export interface StreamAck {
  ack: number;
}

export function parseAck(event: unknown): number {
  // Electron's MessagePortMain delivers { data, ports }; Node's MessagePort delivers the data itself.
  const data =
    typeof event === 'object' && event !== null && 'data' in event
      ? (event as { data: unknown }).data
      : event;
  const ack = typeof data === 'object' && data !== null ? (data as { ack?: unknown }).ack : undefined;
  return typeof ack === 'number' && Number.isInteger(ack) && ack > 0 && ack <= FRAME_CREDITS ? ack : 0;
}

export class FrameStreamSender {
  private credits: number;
  sent = 0;
  dropped = 0;

  constructor(
    private readonly port: FramePort,
    private readonly maxCredits = FRAME_CREDITS,
  ) {
    this.credits = maxCredits;
    port.on('message', (event: unknown) => this.ack(parseAck(event)));
    port.start?.();
  }

  /** Sends a message; returns false when a frame was dropped for lack of credit. */
  send(message: Uint8Array, kind: StreamKind): boolean {
    if (kind === 'frame') {
      if (this.credits <= 0) {
        this.dropped++;
        return false;
      }
      this.credits--;
    }
    this.port.postMessage(message);
    this.sent++;
    return true;
  }

  ack(n: number): void {
    this.credits = Math.min(this.maxCredits, this.credits + n);
  }

  close(): void {
    this.port.close();
  }
}
