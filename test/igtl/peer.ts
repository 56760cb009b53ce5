/**
 * The reference peer: a receive client built against Debian's libOpenIGTLink (libopenigtlink-dev) from
 * peer/igtl_receiver.cxx with g++, once per process, into a temporary folder. Tests skip with a clear
 * message when the library or the compiler is missing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const INCLUDE = '/usr/include/openigtlink';

let built: { binary: string } | { missing: string } | null = null;

/** The receiver binary, or why it cannot be built. */
export function referencePeer(): { binary: string } | { missing: string } {
  if (built) return built;
  if (!existsSync(path.join(INCLUDE, 'igtlClientSocket.h'))) {
    built = { missing: `libOpenIGTLink is not installed (${INCLUDE}); apt-get install libopenigtlink-dev` };
    return built;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'navws-igtl-peer-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const binary = path.join(dir, 'igtl_receiver');
  const r = spawnSync(
    'g++',
    [
      '-O1',
      '-std=c++17',
      `-I${INCLUDE}`,
      path.join(here, 'peer', 'igtl_receiver.cxx'),
      '-lOpenIGTLink',
      '-o',
      binary,
    ],
    { encoding: 'utf8' },
  );
  built =
    r.status === 0
      ? { binary }
      : { missing: `g++ could not build the libOpenIGTLink client: ${r.error?.message ?? r.stderr}` };
  return built;
}

export interface PeerMessage {
  type: string;
  device: string;
  sec: number;
  frac: number;
  crc: boolean;
  [key: string]: unknown;
}

export interface RunningPeer {
  process: ChildProcess;
  connected: Promise<void>;
  /** Resolves with every message once the server closed the connection (or maxMessages arrived). */
  done: Promise<PeerMessage[]>;
  messages: PeerMessage[];
}

export function startPeer(binary: string, port: number, maxMessages?: number): RunningPeer {
  const args = ['127.0.0.1', String(port)];
  if (maxMessages !== undefined) args.push(String(maxMessages));
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const messages: PeerMessage[] = [];
  let stderr = '';
  let buffered = '';
  let onConnected: () => void = () => undefined;
  const connected = new Promise<void>((r) => (onConnected = r));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const m = JSON.parse(line) as PeerMessage;
      if (m.type === 'CONNECTED') onConnected();
      else messages.push(m);
    }
  });
  const done = new Promise<PeerMessage[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(messages);
      else reject(new Error(`igtl_receiver exited with ${code}: ${stderr}`));
    });
  });
  return { process: child, connected, done, messages };
}

/** The peer's timestamp in seconds. */
export function peerTime(m: PeerMessage): number {
  return m.sec + m.frac / 2 ** 32;
}

/** FNV-1a 64 of bytes, as the peer hashes image data (in 32-bit halves: BigInt is too slow for video). */
export function fnv1a(bytes: Uint8Array): string {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]!) >>> 0;
    // h * (2^40 + 0x1b3) mod 2^64
    const a = lo * 0x1b3;
    const carry = Math.floor(a / 4294967296);
    hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0;
    lo = a >>> 0;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
