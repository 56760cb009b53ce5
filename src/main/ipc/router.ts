/**
 * The main-process side of the renderer's API: every invoke arrives here as (sender, channel, payload),
 * is checked (sender, channel, structure, schema) and only then reaches its handler. Rejections are
 * answered as values ({ ok: false, error }) rather than thrown, so the renderer gets a clear message
 * and nothing in main crashes on a hostile message. Plain TypeScript: tested without Electron.
 */
import { z } from 'zod';
import { checkPayload, DEFAULT_PAYLOAD_LIMITS, type PayloadLimits } from './payload-guard.js';

export interface ChannelSpec {
  request: z.ZodType;
  response: z.ZodType;
}
export type Contract = Readonly<Record<string, ChannelSpec>>;

export type RequestOf<C extends Contract, K extends keyof C> = z.output<C[K]['request']>;
export type ResponseOf<C extends Contract, K extends keyof C> = z.input<C[K]['response']>;

export type IpcErrorCode =
  'untrusted-sender' | 'unknown-channel' | 'invalid-payload' | 'handler-failed' | 'invalid-response';

export interface IpcError {
  code: IpcErrorCode;
  message: string;
  /** For 'handler-failed': the `code` the handler's error carried (e.g. a NavApiError code). */
  cause?: string;
}
export type IpcReply<T = unknown> = { ok: true; value: T } | { ok: false; error: IpcError };

export type Validation<C extends Contract> =
  | { [K in keyof C & string]: { ok: true; channel: K; request: RequestOf<C, K> } }[keyof C & string]
  | { ok: false; error: IpcError };

export type Handlers<C extends Contract> = {
  [K in keyof C & string]: (request: RequestOf<C, K>) => Promise<ResponseOf<C, K>> | ResponseOf<C, K>;
};

/** Who sent a message, as main sees it (event.senderFrame / event.sender). */
export interface SenderInfo {
  webContentsId: number;
  frameUrl: string | null;
  isMainFrame: boolean;
}

export type SenderPolicy = (sender: SenderInfo) => boolean;

function describe(error: z.ZodError): string {
  return z.prettifyError(error).replace(/\s*\n\s*/g, '; ');
}

function hasChannel<C extends Contract>(contract: C, channel: unknown): channel is keyof C & string {
  return typeof channel === 'string' && Object.prototype.hasOwnProperty.call(contract, channel);
}

/** Checks one message against the contract: known channel, bounded plain data, schema. */
export function validateRequest<C extends Contract>(
  contract: C,
  channel: unknown,
  payload: unknown,
  limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS,
): Validation<C> {
  if (!hasChannel(contract, channel)) {
    const name = typeof channel === 'string' ? `'${channel.slice(0, 80)}'` : `of type ${typeof channel}`;
    return { ok: false, error: { code: 'unknown-channel', message: `unknown IPC channel ${name}` } };
  }
  const structure = checkPayload(payload, limits);
  if (!structure.ok) {
    return { ok: false, error: { code: 'invalid-payload', message: `${channel}: ${structure.reason}` } };
  }
  const parsed = contract[channel]!.request.safeParse(payload);
  if (!parsed.success) {
    return {
      ok: false,
      error: { code: 'invalid-payload', message: `${channel}: ${describe(parsed.error)}` },
    };
  }
  return { ok: true, channel, request: parsed.data } as Validation<C>;
}

export interface RouterOptions {
  isTrustedSender: SenderPolicy;
  limits?: PayloadLimits;
  /** Called for every rejected message (logging / audit); never throws into the router. */
  onRejected?: (channel: unknown, error: IpcError, sender: SenderInfo) => void;
}

export class IpcRouter<C extends Contract> {
  constructor(
    readonly contract: C,
    private readonly handlers: Handlers<C>,
    private readonly options: RouterOptions,
  ) {}

  get channels(): (keyof C & string)[] {
    return Object.keys(this.contract);
  }

  async handle(sender: SenderInfo, channel: unknown, payload: unknown): Promise<IpcReply> {
    const reject = (error: IpcError): IpcReply => {
      try {
        this.options.onRejected?.(channel, error, sender);
      } catch {
        // An audit hook failing must not change the answer.
      }
      return { ok: false, error };
    };
    if (!this.options.isTrustedSender(sender)) {
      return reject({
        code: 'untrusted-sender',
        message: `IPC from an untrusted sender (${sender.frameUrl ?? 'no frame'})`,
      });
    }
    const v = validateRequest(this.contract, channel, payload, this.options.limits);
    if (!v.ok) return reject(v.error);
    let value: unknown;
    try {
      const handler = this.handlers[v.channel] as (request: unknown) => unknown;
      value = await handler(v.request);
    } catch (err) {
      const cause = (err as { code?: unknown } | null)?.code;
      return reject({
        code: 'handler-failed',
        message: err instanceof Error ? err.message : String(err),
        ...(typeof cause === 'string' ? { cause } : {}),
      });
    }
    const out = this.contract[v.channel]!.response.safeParse(value);
    if (!out.success) {
      return reject({ code: 'invalid-response', message: `${v.channel}: ${describe(out.error)}` });
    }
    return { ok: true, value: out.data };
  }
}
