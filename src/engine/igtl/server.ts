/**
 * The OpenIGTLink server: any number of clients (3D Slicer's OpenIGTLinkIF, PLUS, research tools) may
 * connect and leave at any time; every published message goes to all of them.
 *
 * Nothing here may slow the pipeline. `publish` only records the message and returns; encoding
 * (header, CRC) happens once per message on a later turn of the event loop, shared by every client,
 * and only while someone is connected. Each client has a bounded queue: while its socket holds more
 * than `socketHighWaterBytes` unsent, messages wait in the queue, and when the queue is full
 * (messages or bytes) a message a newer one of its device supersedes is dropped, the bulkiest first:
 * a slow client loses old video frames before any pose, gets fewer but current messages, and its
 * memory stays bounded. A client that never reads costs a bounded buffer and drop counts, nothing else.
 *
 * Clients speak first in their own header version: a client that sends a valid version-2 header
 * (protocol 3) receives version-2 messages (extended header, metadata) from then on; everyone else gets
 * version 1 (protocols 1 and 2). Requests answered: GET_CAPABIL, and GET_<type> for TRANSFORM, IMAGE,
 * POLYDATA, STATUS (the latest of each device, or of the named one).
 */
import net from 'node:net';
import { type HeaderVersion, IgtlProtocolError, encodeMessageParts } from './codec.js';
import { capabilityContent } from './messages.js';
import { MessageReader } from './reader.js';

export interface IgtlServerOptions {
  /** Address to bind; loopback unless the operator chooses otherwise. */
  host?: string;
  /** TCP port; 0 picks a free one. OpenIGTLink's customary port is 18944. */
  port: number;
  /** Messages a client's queue holds before dropping (default 64). */
  maxQueuedMessages?: number;
  /** Bytes a client's queue holds before dropping (default 4 MiB; one message always fits). */
  maxQueuedBytes?: number;
  /** Unsent bytes in a client's socket beyond which messages queue instead (default 1 MiB). */
  socketHighWaterBytes?: number;
  /** Largest message body accepted from a client (default 64 KiB: clients only send requests). */
  maxIncomingBodyBytes?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface PublishedMessage {
  type: string;
  deviceName: string;
  /** Seconds since the Unix epoch. */
  timestampS: number;
  /** Builds the content; called at most once, after publish returned, and only if someone listens. */
  content: () => Uint8Array;
  /** Also sent to clients that connect later (the latest of this device), e.g. the surface, the status. */
  retain?: boolean;
  /** performance.now() when the data was captured, for the capture -> sent latency. */
  capturedAtMs?: number;
}

export interface SentMessage {
  type: string;
  deviceName: string;
  capturedAtMs: number | undefined;
  /** performance.now() when the socket handed the bytes to the kernel. */
  sentAtMs: number;
  bytes: number;
}

export interface IgtlServerStats {
  clients: number;
  connectionsTotal: number;
  messagesPublished: number;
  messagesSent: number;
  bytesSent: number;
  /** Messages dropped from slow clients' queues. */
  dropped: number;
  /** Messages from clients discarded (wrong CRC, malformed) or connections closed for protocol errors. */
  badInput: number;
  /** Event-loop time spent encoding and writing (ms): what the stream costs the engine's thread. */
  busyMs: number;
}

const SERVER_TYPES = ['TRANSFORM', 'IMAGE', 'POLYDATA', 'STATUS', 'CAPABILITY'];

interface Encoded {
  parts: Buffer[];
  length: number;
}

/** One published message with its encodings, made on first use. */
class Outgoing {
  private contentBytes: Uint8Array | null = null;
  private readonly encoded: [Encoded | null, Encoded | null] = [null, null];

  constructor(
    readonly msg: PublishedMessage,
    readonly id: number,
  ) {}

  get key(): string {
    return `${this.msg.type}\0${this.msg.deviceName}`;
  }

  bytes(version: HeaderVersion): Encoded {
    let b = this.encoded[version - 1];
    if (!b) {
      this.contentBytes ??= this.msg.content();
      const parts = encodeMessageParts(
        {
          type: this.msg.type,
          deviceName: this.msg.deviceName,
          timestampS: this.msg.timestampS,
          content: this.contentBytes,
        },
        version,
        this.id,
        version === 2 ? [['Sender', 'NavWS']] : [],
      );
      b = { parts, length: parts.reduce((n, p) => n + p.length, 0) };
      this.encoded[version - 1] = b;
    }
    return b;
  }
}

class ClientSession {
  headerVersion: HeaderVersion = 1;
  private readonly queue: { out: Outgoing; bytes: Encoded }[] = [];
  private queuedBytes = 0;
  private readonly reader: MessageReader;
  dropped = 0;

  constructor(
    readonly socket: net.Socket,
    readonly name: string,
    private readonly server: IgtlServer,
    private readonly limits: Required<
      Pick<IgtlServerOptions, 'maxQueuedMessages' | 'maxQueuedBytes' | 'socketHighWaterBytes'>
    >,
    maxIncomingBodyBytes: number,
  ) {
    this.reader = new MessageReader(maxIncomingBodyBytes);
    socket.setNoDelay(true);
    socket.on('drain', () => {
      const t = performance.now();
      this.pump();
      server.noteBusy(performance.now() - t);
    });
  }

  send(out: Outgoing): void {
    const bytes = out.bytes(this.headerVersion);
    this.queue.push({ out, bytes });
    this.queuedBytes += bytes.length;
    while (
      this.queue.length > this.limits.maxQueuedMessages ||
      (this.queuedBytes > this.limits.maxQueuedBytes && this.queue.length > 1)
    ) {
      const [gone] = this.queue.splice(this.victim(), 1);
      this.queuedBytes -= gone!.bytes.length;
      this.dropped++;
      this.server.noteDropped();
    }
    this.pump();
  }

  /**
   * The message to drop: of those a newer message of the same device supersedes, the bulkiest (the
   * oldest among equals), so video goes before poses; when every queued message is its device's
   * latest, the bulkiest of all.
   */
  private victim(): number {
    const newest = new Map<string, number>();
    this.queue.forEach((q, i) => newest.set(q.out.key, i));
    let best = -1;
    for (let i = 0; i < this.queue.length; i++) {
      if (newest.get(this.queue[i]!.out.key) === i) continue;
      if (best < 0 || this.queue[i]!.bytes.length > this.queue[best]!.bytes.length) best = i;
    }
    if (best >= 0) return best;
    for (let i = 0; i < this.queue.length; i++)
      if (best < 0 || this.queue[i]!.bytes.length > this.queue[best]!.bytes.length) best = i;
    return best;
  }

  /** Bytes from the client; false when the connection must be closed. */
  receive(chunk: Buffer): boolean {
    let results;
    try {
      results = this.reader.push(chunk);
    } catch (err) {
      if (!(err instanceof IgtlProtocolError)) throw err;
      this.server.noteBadInput(`${this.name}: ${err.message}; closing the connection`);
      return false;
    }
    for (const r of results) {
      if (r.kind === 'bad-message') {
        this.server.noteBadInput(`${this.name}: ${r.header.type} discarded: ${r.reason}`);
        continue;
      }
      if (r.header.version >= 2) this.headerVersion = 2;
      this.server.answer(this, r.header.type, r.header.deviceName);
    }
    return true;
  }

  private pump(): void {
    while (
      this.queue.length &&
      !this.socket.destroyed &&
      this.socket.writableLength < this.limits.socketHighWaterBytes
    ) {
      const { out, bytes } = this.queue.shift()!;
      this.queuedBytes -= bytes.length;
      this.socket.cork();
      const last = bytes.parts.length - 1;
      bytes.parts.forEach((part, i) =>
        this.socket.write(
          part,
          i === last
            ? (err) => {
                if (!err) this.server.noteSent(out, bytes.length);
              }
            : undefined,
        ),
      );
      this.socket.uncork();
    }
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.socket.writableLength === 0;
  }
}

export class IgtlServer {
  private readonly clients = new Set<ClientSession>();
  private readonly latest = new Map<string, Outgoing>();
  private pending: Outgoing[] = [];
  private flushScheduled = false;
  private nextId = 1;
  private closed = false;
  private readonly sentListeners = new Set<(m: SentMessage) => void>();
  private readonly clientListeners = new Set<() => void>();
  private readonly counts: Omit<IgtlServerStats, 'clients'> = {
    connectionsTotal: 0,
    messagesPublished: 0,
    messagesSent: 0,
    bytesSent: 0,
    dropped: 0,
    badInput: 0,
    busyMs: 0,
  };
  private readonly log: NonNullable<IgtlServerOptions['log']>;

  private constructor(
    private readonly server: net.Server,
    private readonly options: IgtlServerOptions,
  ) {
    this.log = options.log ?? (() => undefined);
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', (err) => this.log('error', `OpenIGTLink server: ${err.message}`));
  }

  /** Binds and listens; rejects with a clear reason (address in use, not permitted). */
  static async listen(options: IgtlServerOptions): Promise<IgtlServer> {
    const host = options.host ?? '127.0.0.1';
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
      throw new RangeError(`OpenIGTLink port must be 0..65535, got ${options.port}`);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `OpenIGTLink server cannot listen on ${host}:${options.port}: ${err.code ?? err.message}`,
          ),
        ),
      );
      server.listen(options.port, host, () => resolve());
    });
    server.removeAllListeners('error');
    return new IgtlServer(server, { ...options, host });
  }

  get address(): { host: string; port: number } {
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  get clientCount(): number {
    return this.clients.size;
  }

  stats(): IgtlServerStats {
    return { clients: this.clients.size, ...this.counts };
  }

  /** Called for every message handed to the kernel (benchmarks, diagnostics). */
  onSent(listener: (m: SentMessage) => void): () => void {
    this.sentListeners.add(listener);
    return () => this.sentListeners.delete(listener);
  }

  /** Called after each client connected (and was sent the retained messages). */
  onClient(listener: () => void): () => void {
    this.clientListeners.add(listener);
    return () => this.clientListeners.delete(listener);
  }

  /** Resolves once `n` clients are connected. */
  async waitForClients(n: number, signal?: AbortSignal): Promise<void> {
    while (this.clients.size < n) {
      if (signal?.aborted || this.closed) throw new Error('stopped while waiting for OpenIGTLink clients');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Queues a message for every client; returns at once. */
  publish(msg: PublishedMessage): void {
    if (this.closed) return;
    if (this.clients.size === 0 && !msg.retain) return;
    const out = new Outgoing(msg, this.nextId++);
    this.counts.messagesPublished++;
    this.latest.set(out.key, out);
    if (this.clients.size === 0) return;
    this.pending.push(out);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Stops accepting, lets clients receive what is queued (up to `drainMs`), then closes every connection. */
  async close(drainMs = 2000): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.server.close();
    const until = performance.now() + drainMs;
    while ([...this.clients].some((c) => !c.idle) && performance.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    for (const c of this.clients) c.socket.end();
    await new Promise((r) => setTimeout(r, 20));
    for (const c of this.clients) c.socket.destroy();
    this.clients.clear();
  }

  /** @internal */
  noteBusy(ms: number): void {
    this.counts.busyMs += ms;
  }

  /** @internal */
  noteDropped(): void {
    this.counts.dropped++;
  }

  /** @internal */
  noteBadInput(message: string): void {
    this.counts.badInput++;
    this.log('warn', `OpenIGTLink ${message}`);
  }

  /** @internal */
  noteSent(out: Outgoing, bytes: number): void {
    this.counts.messagesSent++;
    this.counts.bytesSent += bytes;
    if (this.sentListeners.size === 0) return;
    const m: SentMessage = {
      type: out.msg.type,
      deviceName: out.msg.deviceName,
      capturedAtMs: out.msg.capturedAtMs,
      sentAtMs: performance.now(),
      bytes,
    };
    for (const l of this.sentListeners) l(m);
  }

  /** @internal Answers a client's request. */
  answer(client: ClientSession, type: string, deviceName: string): void {
    if (type === 'GET_CAPABIL') {
      client.send(
        new Outgoing(
          {
            type: 'CAPABILITY',
            deviceName: '',
            timestampS: Date.now() / 1000,
            content: () => capabilityContent(SERVER_TYPES),
          },
          this.nextId++,
        ),
      );
      return;
    }
    if (!type.startsWith('GET_')) return; // STATUS, STT_/STP_ and others: nothing to answer
    // Type names are cut at 12 characters: GET_TRANSFORM arrives as GET_TRANSFOR.
    const wanted = type.slice(4);
    if (wanted === '') return;
    for (const out of this.latest.values()) {
      if (out.msg.type.startsWith(wanted) && (deviceName === '' || deviceName === out.msg.deviceName))
        client.send(out);
    }
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const name = `client ${socket.remoteAddress}:${socket.remotePort}`;
    const client = new ClientSession(
      socket,
      name,
      this,
      {
        maxQueuedMessages: this.options.maxQueuedMessages ?? 64,
        maxQueuedBytes: this.options.maxQueuedBytes ?? 4 << 20,
        socketHighWaterBytes: this.options.socketHighWaterBytes ?? 1 << 20,
      },
      this.options.maxIncomingBodyBytes ?? 64 << 10,
    );
    this.clients.add(client);
    this.counts.connectionsTotal++;
    this.log('info', `OpenIGTLink ${name} connected (${this.clients.size} connected)`);
    socket.on('data', (chunk: Buffer) => {
      if (!client.receive(chunk)) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.clients.delete(client);
      this.log('info', `OpenIGTLink ${name} left (${this.clients.size} connected)`);
    });
    for (const out of this.latest.values()) if (out.msg.retain) client.send(out);
    for (const l of this.clientListeners) l();
  }

  private flush(): void {
    const t = performance.now();
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    for (const out of batch) for (const c of this.clients) c.send(out);
    this.counts.busyMs += performance.now() - t;
  }
}
