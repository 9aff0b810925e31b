/**
 * SHA-1 (FIPS 180-4), only as the hash inside HMAC-SHA1 for iron's PBKDF2 key derivation
 * (src/internal/pbkdf2-sha1.ts), shaped like sha256.ts: the caller keeps a five-word state
 * that has already absorbed whole 64-byte blocks (HMAC's key ^ ipad / key ^ opad block,
 * a salt's leading blocks) and finishes a message from it, telling how many bytes came
 * before so the padding carries the right length.
 *
 * SHA-1's collision weakness does not touch HMAC or PBKDF2, and iron fixes the algorithm:
 * this is interop, not a choice.
 *
 * Constant time by construction: only 32-bit additions, rotations and bitwise logic. No
 * branch or array index depends on the data; the branches that exist depend on the
 * message length, which is public.
 *
 * Everything works in place over module-level buffers (the message schedule and the padding
 * block), so hashing allocates nothing per block. Calls are synchronous and never reenter.
 */

/** FIPS 180-4 §5.3.1: the initial hash value H(0). */
const IV = Int32Array.of(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 | 0);

/** Bytes per block. */
export const SHA1_BLOCK_BYTES = 64;

/** W0..W15 of the block being compressed (the rest of the schedule is kept in locals). */
const W = new Int32Array(16);
/** The last one or two blocks of a message, with its padding. */
const TAIL = new Uint8Array(128);

/** A fresh state holding the initial hash value H(0). */
export function sha1Init(): Int32Array {
  return IV.slice();
}

/** Loads the 16 big-endian words of the block at `offset` into W0..W15. */
function load(bytes: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++, offset += 4) {
    W[i] =
      (bytes[offset]! << 24) |
      (bytes[offset + 1]! << 16) |
      (bytes[offset + 2]! << 8) |
      bytes[offset + 3]!;
  }
}

/**
 * FIPS 180-4 §6.1.2 steps 1–4 on W0..W15, updating `state` in place. Written out round by
 * round: the schedule lives in sixteen locals (Wt for t ≥ 16 replaces Wt-16, the oldest word
 * it depends on), and instead of shifting a..e after each round, each round names them
 * rotated. A loop over the rounds, with an array for the schedule and the shifting, ran
 * markedly slower, and this compression is most of a derivation.
 */
export function sha1Compress(state: Int32Array): void {
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let w0 = W[0]!;
  let w1 = W[1]!;
  let w2 = W[2]!;
  let w3 = W[3]!;
  let w4 = W[4]!;
  let w5 = W[5]!;
  let w6 = W[6]!;
  let w7 = W[7]!;
  let w8 = W[8]!;
  let w9 = W[9]!;
  let w10 = W[10]!;
  let w11 = W[11]!;
  let w12 = W[12]!;
  let w13 = W[13]!;
  let w14 = W[14]!;
  let w15 = W[15]!;
  // Rounds 0–19: Ch(b, c, d), written as d ^ (b & (c ^ d)).
  e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + 0x5a827999 + w0) | 0;
  b = (b << 30) | (b >>> 2);
  d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + 0x5a827999 + w1) | 0;
  a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + 0x5a827999 + w2) | 0;
  e = (e << 30) | (e >>> 2);
  b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + 0x5a827999 + w3) | 0;
  d = (d << 30) | (d >>> 2);
  a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + 0x5a827999 + w4) | 0;
  c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + 0x5a827999 + w5) | 0;
  b = (b << 30) | (b >>> 2);
  d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + 0x5a827999 + w6) | 0;
  a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + 0x5a827999 + w7) | 0;
  e = (e << 30) | (e >>> 2);
  b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + 0x5a827999 + w8) | 0;
  d = (d << 30) | (d >>> 2);
  a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + 0x5a827999 + w9) | 0;
  c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + 0x5a827999 + w10) | 0;
  b = (b << 30) | (b >>> 2);
  d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + 0x5a827999 + w11) | 0;
  a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + 0x5a827999 + w12) | 0;
  e = (e << 30) | (e >>> 2);
  b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + 0x5a827999 + w13) | 0;
  d = (d << 30) | (d >>> 2);
  a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + 0x5a827999 + w14) | 0;
  c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + 0x5a827999 + w15) | 0;
  b = (b << 30) | (b >>> 2);
  w0 ^= w13 ^ w8 ^ w2;
  w0 = (w0 << 1) | (w0 >>> 31);
  d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + 0x5a827999 + w0) | 0;
  a = (a << 30) | (a >>> 2);
  w1 ^= w14 ^ w9 ^ w3;
  w1 = (w1 << 1) | (w1 >>> 31);
  c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + 0x5a827999 + w1) | 0;
  e = (e << 30) | (e >>> 2);
  w2 ^= w15 ^ w10 ^ w4;
  w2 = (w2 << 1) | (w2 >>> 31);
  b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + 0x5a827999 + w2) | 0;
  d = (d << 30) | (d >>> 2);
  w3 ^= w0 ^ w11 ^ w5;
  w3 = (w3 << 1) | (w3 >>> 31);
  a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + 0x5a827999 + w3) | 0;
  c = (c << 30) | (c >>> 2);
  // Rounds 20–39: Parity(b, c, d).
  w4 ^= w1 ^ w12 ^ w6;
  w4 = (w4 << 1) | (w4 >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w4) | 0;
  b = (b << 30) | (b >>> 2);
  w5 ^= w2 ^ w13 ^ w7;
  w5 = (w5 << 1) | (w5 >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w5) | 0;
  a = (a << 30) | (a >>> 2);
  w6 ^= w3 ^ w14 ^ w8;
  w6 = (w6 << 1) | (w6 >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w6) | 0;
  e = (e << 30) | (e >>> 2);
  w7 ^= w4 ^ w15 ^ w9;
  w7 = (w7 << 1) | (w7 >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w7) | 0;
  d = (d << 30) | (d >>> 2);
  w8 ^= w5 ^ w0 ^ w10;
  w8 = (w8 << 1) | (w8 >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w8) | 0;
  c = (c << 30) | (c >>> 2);
  w9 ^= w6 ^ w1 ^ w11;
  w9 = (w9 << 1) | (w9 >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w9) | 0;
  b = (b << 30) | (b >>> 2);
  w10 ^= w7 ^ w2 ^ w12;
  w10 = (w10 << 1) | (w10 >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w10) | 0;
  a = (a << 30) | (a >>> 2);
  w11 ^= w8 ^ w3 ^ w13;
  w11 = (w11 << 1) | (w11 >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w11) | 0;
  e = (e << 30) | (e >>> 2);
  w12 ^= w9 ^ w4 ^ w14;
  w12 = (w12 << 1) | (w12 >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w12) | 0;
  d = (d << 30) | (d >>> 2);
  w13 ^= w10 ^ w5 ^ w15;
  w13 = (w13 << 1) | (w13 >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w13) | 0;
  c = (c << 30) | (c >>> 2);
  w14 ^= w11 ^ w6 ^ w0;
  w14 = (w14 << 1) | (w14 >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w14) | 0;
  b = (b << 30) | (b >>> 2);
  w15 ^= w12 ^ w7 ^ w1;
  w15 = (w15 << 1) | (w15 >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w15) | 0;
  a = (a << 30) | (a >>> 2);
  w0 ^= w13 ^ w8 ^ w2;
  w0 = (w0 << 1) | (w0 >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w0) | 0;
  e = (e << 30) | (e >>> 2);
  w1 ^= w14 ^ w9 ^ w3;
  w1 = (w1 << 1) | (w1 >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w1) | 0;
  d = (d << 30) | (d >>> 2);
  w2 ^= w15 ^ w10 ^ w4;
  w2 = (w2 << 1) | (w2 >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w2) | 0;
  c = (c << 30) | (c >>> 2);
  w3 ^= w0 ^ w11 ^ w5;
  w3 = (w3 << 1) | (w3 >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w3) | 0;
  b = (b << 30) | (b >>> 2);
  w4 ^= w1 ^ w12 ^ w6;
  w4 = (w4 << 1) | (w4 >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w4) | 0;
  a = (a << 30) | (a >>> 2);
  w5 ^= w2 ^ w13 ^ w7;
  w5 = (w5 << 1) | (w5 >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w5) | 0;
  e = (e << 30) | (e >>> 2);
  w6 ^= w3 ^ w14 ^ w8;
  w6 = (w6 << 1) | (w6 >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w6) | 0;
  d = (d << 30) | (d >>> 2);
  w7 ^= w4 ^ w15 ^ w9;
  w7 = (w7 << 1) | (w7 >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w7) | 0;
  c = (c << 30) | (c >>> 2);
  // Rounds 40–59: Maj(b, c, d), written as (b & c) | (d & (b | c)).
  w8 ^= w5 ^ w0 ^ w10;
  w8 = (w8 << 1) | (w8 >>> 31);
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + 0x8f1bbcdc + w8) | 0;
  b = (b << 30) | (b >>> 2);
  w9 ^= w6 ^ w1 ^ w11;
  w9 = (w9 << 1) | (w9 >>> 31);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + 0x8f1bbcdc + w9) | 0;
  a = (a << 30) | (a >>> 2);
  w10 ^= w7 ^ w2 ^ w12;
  w10 = (w10 << 1) | (w10 >>> 31);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + 0x8f1bbcdc + w10) | 0;
  e = (e << 30) | (e >>> 2);
  w11 ^= w8 ^ w3 ^ w13;
  w11 = (w11 << 1) | (w11 >>> 31);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + 0x8f1bbcdc + w11) | 0;
  d = (d << 30) | (d >>> 2);
  w12 ^= w9 ^ w4 ^ w14;
  w12 = (w12 << 1) | (w12 >>> 31);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + 0x8f1bbcdc + w12) | 0;
  c = (c << 30) | (c >>> 2);
  w13 ^= w10 ^ w5 ^ w15;
  w13 = (w13 << 1) | (w13 >>> 31);
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + 0x8f1bbcdc + w13) | 0;
  b = (b << 30) | (b >>> 2);
  w14 ^= w11 ^ w6 ^ w0;
  w14 = (w14 << 1) | (w14 >>> 31);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + 0x8f1bbcdc + w14) | 0;
  a = (a << 30) | (a >>> 2);
  w15 ^= w12 ^ w7 ^ w1;
  w15 = (w15 << 1) | (w15 >>> 31);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + 0x8f1bbcdc + w15) | 0;
  e = (e << 30) | (e >>> 2);
  w0 ^= w13 ^ w8 ^ w2;
  w0 = (w0 << 1) | (w0 >>> 31);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + 0x8f1bbcdc + w0) | 0;
  d = (d << 30) | (d >>> 2);
  w1 ^= w14 ^ w9 ^ w3;
  w1 = (w1 << 1) | (w1 >>> 31);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + 0x8f1bbcdc + w1) | 0;
  c = (c << 30) | (c >>> 2);
  w2 ^= w15 ^ w10 ^ w4;
  w2 = (w2 << 1) | (w2 >>> 31);
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + 0x8f1bbcdc + w2) | 0;
  b = (b << 30) | (b >>> 2);
  w3 ^= w0 ^ w11 ^ w5;
  w3 = (w3 << 1) | (w3 >>> 31);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + 0x8f1bbcdc + w3) | 0;
  a = (a << 30) | (a >>> 2);
  w4 ^= w1 ^ w12 ^ w6;
  w4 = (w4 << 1) | (w4 >>> 31);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + 0x8f1bbcdc + w4) | 0;
  e = (e << 30) | (e >>> 2);
  w5 ^= w2 ^ w13 ^ w7;
  w5 = (w5 << 1) | (w5 >>> 31);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + 0x8f1bbcdc + w5) | 0;
  d = (d << 30) | (d >>> 2);
  w6 ^= w3 ^ w14 ^ w8;
  w6 = (w6 << 1) | (w6 >>> 31);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + 0x8f1bbcdc + w6) | 0;
  c = (c << 30) | (c >>> 2);
  w7 ^= w4 ^ w15 ^ w9;
  w7 = (w7 << 1) | (w7 >>> 31);
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + 0x8f1bbcdc + w7) | 0;
  b = (b << 30) | (b >>> 2);
  w8 ^= w5 ^ w0 ^ w10;
  w8 = (w8 << 1) | (w8 >>> 31);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + 0x8f1bbcdc + w8) | 0;
  a = (a << 30) | (a >>> 2);
  w9 ^= w6 ^ w1 ^ w11;
  w9 = (w9 << 1) | (w9 >>> 31);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + 0x8f1bbcdc + w9) | 0;
  e = (e << 30) | (e >>> 2);
  w10 ^= w7 ^ w2 ^ w12;
  w10 = (w10 << 1) | (w10 >>> 31);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + 0x8f1bbcdc + w10) | 0;
  d = (d << 30) | (d >>> 2);
  w11 ^= w8 ^ w3 ^ w13;
  w11 = (w11 << 1) | (w11 >>> 31);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + 0x8f1bbcdc + w11) | 0;
  c = (c << 30) | (c >>> 2);
  // Rounds 60–79: Parity(b, c, d).
  w12 ^= w9 ^ w4 ^ w14;
  w12 = (w12 << 1) | (w12 >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w12) | 0;
  b = (b << 30) | (b >>> 2);
  w13 ^= w10 ^ w5 ^ w15;
  w13 = (w13 << 1) | (w13 >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0xca62c1d6 + w13) | 0;
  a = (a << 30) | (a >>> 2);
  w14 ^= w11 ^ w6 ^ w0;
  w14 = (w14 << 1) | (w14 >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0xca62c1d6 + w14) | 0;
  e = (e << 30) | (e >>> 2);
  w15 ^= w12 ^ w7 ^ w1;
  w15 = (w15 << 1) | (w15 >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0xca62c1d6 + w15) | 0;
  d = (d << 30) | (d >>> 2);
  w0 ^= w13 ^ w8 ^ w2;
  w0 = (w0 << 1) | (w0 >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0xca62c1d6 + w0) | 0;
  c = (c << 30) | (c >>> 2);
  w1 ^= w14 ^ w9 ^ w3;
  w1 = (w1 << 1) | (w1 >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w1) | 0;
  b = (b << 30) | (b >>> 2);
  w2 ^= w15 ^ w10 ^ w4;
  w2 = (w2 << 1) | (w2 >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0xca62c1d6 + w2) | 0;
  a = (a << 30) | (a >>> 2);
  w3 ^= w0 ^ w11 ^ w5;
  w3 = (w3 << 1) | (w3 >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0xca62c1d6 + w3) | 0;
  e = (e << 30) | (e >>> 2);
  w4 ^= w1 ^ w12 ^ w6;
  w4 = (w4 << 1) | (w4 >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0xca62c1d6 + w4) | 0;
  d = (d << 30) | (d >>> 2);
  w5 ^= w2 ^ w13 ^ w7;
  w5 = (w5 << 1) | (w5 >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0xca62c1d6 + w5) | 0;
  c = (c << 30) | (c >>> 2);
  w6 ^= w3 ^ w14 ^ w8;
  w6 = (w6 << 1) | (w6 >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w6) | 0;
  b = (b << 30) | (b >>> 2);
  w7 ^= w4 ^ w15 ^ w9;
  w7 = (w7 << 1) | (w7 >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0xca62c1d6 + w7) | 0;
  a = (a << 30) | (a >>> 2);
  w8 ^= w5 ^ w0 ^ w10;
  w8 = (w8 << 1) | (w8 >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0xca62c1d6 + w8) | 0;
  e = (e << 30) | (e >>> 2);
  w9 ^= w6 ^ w1 ^ w11;
  w9 = (w9 << 1) | (w9 >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0xca62c1d6 + w9) | 0;
  d = (d << 30) | (d >>> 2);
  w10 ^= w7 ^ w2 ^ w12;
  w10 = (w10 << 1) | (w10 >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0xca62c1d6 + w10) | 0;
  c = (c << 30) | (c >>> 2);
  w11 ^= w8 ^ w3 ^ w13;
  w11 = (w11 << 1) | (w11 >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w11) | 0;
  b = (b << 30) | (b >>> 2);
  w12 ^= w9 ^ w4 ^ w14;
  w12 = (w12 << 1) | (w12 >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0xca62c1d6 + w12) | 0;
  a = (a << 30) | (a >>> 2);
  w13 ^= w10 ^ w5 ^ w15;
  w13 = (w13 << 1) | (w13 >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0xca62c1d6 + w13) | 0;
  e = (e << 30) | (e >>> 2);
  w14 ^= w11 ^ w6 ^ w0;
  w14 = (w14 << 1) | (w14 >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0xca62c1d6 + w14) | 0;
  d = (d << 30) | (d >>> 2);
  w15 ^= w12 ^ w7 ^ w1;
  w15 = (w15 << 1) | (w15 >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0xca62c1d6 + w15) | 0;
  c = (c << 30) | (c >>> 2);
  state[0] = state[0]! + a;
  state[1] = state[1]! + b;
  state[2] = state[2]! + c;
  state[3] = state[3]! + d;
  state[4] = state[4]! + e;
}

/** Absorbs the 64-byte block at `offset` of `bytes` into `state`. */
export function sha1Block(state: Int32Array, bytes: Uint8Array, offset: number): void {
  load(bytes, offset);
  sha1Compress(state);
}

/**
 * Absorbs `message[start, end)` and the padding into `state`, which then holds the digest as
 * five words. `prefixBytes` is how many bytes `state` has already absorbed (a multiple of 64).
 */
export function sha1Finish(
  state: Int32Array,
  prefixBytes: number,
  message: Uint8Array,
  start = 0,
  end: number = message.length,
): void {
  let offset = start;
  for (; offset + 64 <= end; offset += 64) sha1Block(state, message, offset);
  // §5.1.1: a 1 bit, zeros, then the message length in bits as a 64-bit big-endian number.
  const rest = end - offset;
  const tailBytes = rest < 56 ? 64 : 128;
  TAIL.fill(0);
  for (let i = 0; i < rest; i++) TAIL[i] = message[offset + i]!;
  TAIL[rest] = 0x80;
  const total = prefixBytes + end - start;
  writeWord(TAIL, tailBytes - 8, Math.floor(total / 0x20000000));
  writeWord(TAIL, tailBytes - 4, total * 8);
  sha1Block(state, TAIL, 0);
  if (tailBytes === 128) sha1Block(state, TAIL, 64);
}

/**
 * Absorbs a 20-byte message given as five big-endian words (another digest, as in HMAC's
 * outer hash and PBKDF2's iterations) and its padding into `state`, in one block and
 * without going through bytes.
 */
export function sha1FinishWords(state: Int32Array, prefixBytes: number, words: Int32Array): void {
  W[0] = words[0]!;
  W[1] = words[1]!;
  W[2] = words[2]!;
  W[3] = words[3]!;
  W[4] = words[4]!;
  W[5] = 0x80000000 | 0;
  for (let i = 6; i < 14; i++) W[i] = 0;
  const total = prefixBytes + 20;
  W[14] = Math.floor(total / 0x20000000);
  W[15] = total * 8;
  sha1Compress(state);
}

/** Writes the five state words big-endian into `out` at `offset`. */
export function sha1Digest(state: Int32Array, out: Uint8Array, offset = 0): void {
  for (let i = 0; i < 5; i++) writeWord(out, offset + i * 4, state[i]!);
}

/** SHA-1 of `message`, in one call. */
export function sha1(message: Uint8Array): Uint8Array {
  const state = sha1Init();
  sha1Finish(state, 0, message);
  const out = new Uint8Array(20);
  sha1Digest(state, out);
  return out;
}

/** Zeroes the shared buffers, so no key-derived words linger once a derivation is done. */
export function sha1Wipe(): void {
  for (let i = 0; i < 16; i++) W[i] = 0;
  TAIL.fill(0);
}

function writeWord(out: Uint8Array, offset: number, word: number): void {
  out[offset] = word >>> 24;
  out[offset + 1] = word >>> 16;
  out[offset + 2] = word >>> 8;
  out[offset + 3] = word;
}
