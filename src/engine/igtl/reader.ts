/**
 * Splits a client's byte stream into OpenIGTLink messages. Clients are untrusted: a header that is not
 * a header (garbage), or a body larger than `maxBodyBytes`, is fatal for that connection (the stream
 * cannot be re-synchronised); a wrong CRC only discards that one message.
 */
import {
  HEADER_SIZE,
  type IgtlHeader,
  IgtlProtocolError,
  decodeBody,
  readHeader,
  type DecodedBody,
} from './codec.js';

export type ReadResult =
  | { kind: 'message'; header: IgtlHeader; body: DecodedBody }
  | { kind: 'bad-message'; header: IgtlHeader; reason: string };

export class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: IgtlHeader | null = null;

  constructor(private readonly maxBodyBytes: number) {}

  /** Adds bytes; returns the messages they complete. Throws IgtlProtocolError when the stream is beyond repair. */
  push(chunk: Buffer): ReadResult[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: ReadResult[] = [];
    for (;;) {
      if (!this.header) {
        if (this.buffered < HEADER_SIZE) break;
        const header = readHeader(this.take(HEADER_SIZE));
        if (header.bodySize > BigInt(this.maxBodyBytes))
          throw new IgtlProtocolError(
            `${header.type} body of ${header.bodySize} bytes exceeds the ${this.maxBodyBytes}-byte limit for client messages`,
          );
        this.header = header;
      }
      const size = Number(this.header.bodySize);
      if (this.buffered < size) break;
      const header = this.header;
      this.header = null;
      const body = this.take(size);
      try {
        out.push({ kind: 'message', header, body: decodeBody(header, body) });
      } catch (err) {
        if (!(err instanceof IgtlProtocolError)) throw err;
        out.push({ kind: 'bad-message', header, reason: err.message });
      }
    }
    return out;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const taken = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return taken;
  }
}
