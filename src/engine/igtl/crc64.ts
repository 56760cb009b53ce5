/**
 * CRC-64 as OpenIGTLink computes it (igtl_util.c `crc64`): the ECMA-182 polynomial
 * 0x42F0E1EBA9EA3693, MSB first, initial value 0, no reflection, no final XOR, over the message body.
 * Kept in two 32-bit halves so a video frame's CRC costs table look-ups, not BigInt arithmetic.
 */
const POLY = 0x42f0e1eba9ea3693n;
const MASK64 = (1n << 64n) - 1n;

const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = BigInt(i) << 56n;
  for (let bit = 0; bit < 8; bit++) c = c & (1n << 63n) ? ((c << 1n) ^ POLY) & MASK64 : (c << 1n) & MASK64;
  TABLE_HI[i] = Number(c >> 32n);
  TABLE_LO[i] = Number(c & 0xffffffffn);
}

/** The CRC of `data`, continuing from `crc` (0 for a fresh message), as an unsigned 64-bit BigInt. */
export function crc64(data: Uint8Array, crc = 0n): bigint {
  let hi = Number((crc >> 32n) & 0xffffffffn) >>> 0;
  let lo = Number(crc & 0xffffffffn) >>> 0;
  for (let i = 0; i < data.length; i++) {
    const idx = ((hi >>> 24) ^ data[i]!) & 0xff;
    hi = (((hi << 8) | (lo >>> 24)) ^ TABLE_HI[idx]!) >>> 0;
    lo = ((lo << 8) ^ TABLE_LO[idx]!) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}
