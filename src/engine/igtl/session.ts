/**
 * One OpenIGTLink streaming session: the server bound to its address and the publisher feeding it,
 * as the CLI (`reconstruct --igtl`, `igtl-replay`) and the engine service run them.
 */
import {
  type IgtlStreamSettings,
  DEFAULT_IGTL_PORT,
  DEFAULT_IGTL_SETTINGS,
  IgtlPublisher,
} from './publisher.js';
import { IgtlServer } from './server.js';

export interface IgtlAddress {
  host: string;
  port: number;
}

/** `[host:]port`, host defaulting to loopback; IPv6 hosts in brackets ([::1]:18944). */
export function parseIgtlAddress(text: string): IgtlAddress {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new RangeError(
      `OpenIGTLink address must be [host:]port (e.g. ${DEFAULT_IGTL_PORT} or 0.0.0.0:${DEFAULT_IGTL_PORT}), got '${text}'`,
    );
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  return { host, port };
}

export type IgtlLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export class IgtlSession {
  private constructor(
    readonly server: IgtlServer,
    readonly publisher: IgtlPublisher,
  ) {}

  static async open(
    address: IgtlAddress,
    settings: Partial<IgtlStreamSettings> = {},
    options: { log?: IgtlLog; epochS?: number } = {},
  ): Promise<IgtlSession> {
    const server = await IgtlServer.listen({ host: address.host, port: address.port, log: options.log });
    const publisher = new IgtlPublisher(server, { ...DEFAULT_IGTL_SETTINGS, ...settings }, options);
    options.log?.('info', `OpenIGTLink server listening on ${server.address.host}:${server.address.port}`);
    return new IgtlSession(server, publisher);
  }

  get address(): IgtlAddress {
    return this.server.address;
  }

  /** Sends what is pending (the last surface), lets clients receive it, then closes every connection. */
  async close(): Promise<void> {
    await this.publisher.close();
    await this.server.close();
  }
}
