/**
 * CRC-64 as OpenIGTLink computes it (igtl_util.c `crc64`): the ECMA-182 polynomial
 * 0x42F0E1EBA9EA3693, MSB first, initial value 0, no reflection, no final XOR, over the message body.
 * Kept in two 32-bit halves and sliced by 8 bytes per step, so a video frame's CRC costs table
 * look-ups, not BigInt arithmetic.
 */
const POLY = 0x42f0e1eba9ea3693n;
const MASK64 = (1n << 64n) - 1n;

type Tables = [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];

// Table k, entry i: the CRC of byte i followed by k zero bytes, upper and lower halves.
function buildTables(): { hi: Tables; lo: Tables } {
  const t: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i) << 56n;
    for (let bit = 0; bit < 8; bit++) c = c & (1n << 63n) ? ((c << 1n) ^ POLY) & MASK64 : (c << 1n) & MASK64;
    t.push(c);
  }
  const hi = Array.from({ length: 8 }, () => new Uint32Array(256)) as Tables;
  const lo = Array.from({ length: 8 }, () => new Uint32Array(256)) as Tables;
  let prev = t;
  for (let k = 0; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      hi[k]![i] = Number(prev[i]! >> 32n);
      lo[k]![i] = Number(prev[i]! & 0xffffffffn);
    }
    prev = prev.map((c) => ((c << 8n) & MASK64) ^ t[Number(c >> 56n)]!);
  }
  return { hi, lo };
}

const {
  hi: [H0, H1, H2, H3, H4, H5, H6, H7],
  lo: [L0, L1, L2, L3, L4, L5, L6, L7],
} = buildTables();

/** The CRC of `data`, continuing from `crc` (0 for a fresh message), as an unsigned 64-bit BigInt. */
export function crc64(data: Uint8Array, crc = 0n): bigint {
  let hi = Number((crc >> 32n) & 0xffffffffn) >>> 0;
  let lo = Number(crc & 0xffffffffn) >>> 0;
  const n = data.length;
  let i = 0;
  for (const end = n - (n % 8); i < end; i += 8) {
    const a = (hi ^ ((data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!)) >>> 0;
    const b = (lo ^ ((data[i + 4]! << 24) | (data[i + 5]! << 16) | (data[i + 6]! << 8) | data[i + 7]!)) >>> 0;
    hi =
      (H7[a >>> 24]! ^
        H6[(a >>> 16) & 0xff]! ^
        H5[(a >>> 8) & 0xff]! ^
        H4[a & 0xff]! ^
        H3[b >>> 24]! ^
        H2[(b >>> 16) & 0xff]! ^
        H1[(b >>> 8) & 0xff]! ^
        H0[b & 0xff]!) >>>
      0;
    lo =
      (L7[a >>> 24]! ^
        L6[(a >>> 16) & 0xff]! ^
        L5[(a >>> 8) & 0xff]! ^
        L4[a & 0xff]! ^
        L3[b >>> 24]! ^
        L2[(b >>> 16) & 0xff]! ^
        L1[(b >>> 8) & 0xff]! ^
        L0[b & 0xff]!) >>>
      0;
  }
  for (; i < n; i++) {
    const idx = ((hi >>> 24) ^ data[i]!) & 0xff;
    hi = (((hi << 8) | (lo >>> 24)) ^ H0[idx]!) >>> 0;
    lo = ((lo << 8) ^ L0[idx]!) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}
