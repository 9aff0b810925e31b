/**
 * SHA-256 (FIPS 180-4), shaped for HMAC: the caller keeps an eight-word state that has already
 * absorbed whole 64-byte blocks (HMAC's key ^ ipad / key ^ opad block), and finishes a message
 * from it, telling how many bytes came before so the padding carries the right length.
 *
 * Constant time by construction: only 32-bit additions, rotations, shifts and bitwise logic.
 * No branch or array index depends on the data; K is indexed by round number only, and the
 * branches that exist depend on the message length, which is public.
 *
 * Everything works in place over module-level buffers (the message schedule and the padding
 * block), so hashing allocates nothing per block. Calls are synchronous and never reenter.
 */

/** FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
// prettier-ignore
const K = Uint32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
);

/** FIPS 180-4 §5.3.3: first 32 bits of the fractional parts of the square roots of the first 8 primes. */
// prettier-ignore
const IV = Uint32Array.of(
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
);

/** Bytes per block. */
export const SHA256_BLOCK_BYTES = 64;

/** The message schedule W0..W63, reused by every block. */
const W = new Uint32Array(64);
/** The last one or two blocks of a message, with its padding. */
const TAIL = new Uint8Array(128);

/** A fresh state holding the initial hash value H(0). */
export function sha256Init(): Uint32Array {
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

/** FIPS 180-4 §6.2.2 steps 1–4 on W0..W15: expands the schedule and updates `state` in place. */
function compress(state: Uint32Array): void {
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    // σ0 and σ1 (§4.1.2, 4.6 and 4.7)
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (s1 + W[i - 7]! + s0 + W[i - 16]!) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    // Σ1, Ch, Σ0 and Maj (§4.1.2, 4.2 to 4.5)
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = state[0]! + a;
  state[1] = state[1]! + b;
  state[2] = state[2]! + c;
  state[3] = state[3]! + d;
  state[4] = state[4]! + e;
  state[5] = state[5]! + f;
  state[6] = state[6]! + g;
  state[7] = state[7]! + h;
}

/** Absorbs the 64-byte block at `offset` of `bytes` into `state`. */
export function sha256Block(state: Uint32Array, bytes: Uint8Array, offset: number): void {
  load(bytes, offset);
  compress(state);
}

/**
 * Absorbs `message[0, length)` and the padding into `state`, which then holds the digest as
 * eight words. `prefixBytes` is how many bytes `state` has already absorbed (a multiple of 64).
 */
export function sha256Finish(
  state: Uint32Array,
  prefixBytes: number,
  message: Uint8Array,
  length: number = message.length,
): void {
  let offset = 0;
  for (; offset + 64 <= length; offset += 64) sha256Block(state, message, offset);
  // §5.1.1: a 1 bit, zeros, then the message length in bits as a 64-bit big-endian number.
  const rest = length - offset;
  const tailBytes = rest < 56 ? 64 : 128;
  TAIL.fill(0);
  TAIL.set(message.subarray(offset, length));
  TAIL[rest] = 0x80;
  const total = prefixBytes + length;
  writeWord(TAIL, tailBytes - 8, Math.floor(total / 0x20000000));
  writeWord(TAIL, tailBytes - 4, total * 8);
  sha256Block(state, TAIL, 0);
  if (tailBytes === 128) sha256Block(state, TAIL, 64);
}

/**
 * Absorbs a 32-byte message given as eight big-endian words (another digest, as in HMAC's
 * outer hash) and its padding into `state`, in one block and without going through bytes.
 */
export function sha256FinishWords(
  state: Uint32Array,
  prefixBytes: number,
  words: Uint32Array,
): void {
  for (let i = 0; i < 8; i++) W[i] = words[i]!;
  W[8] = 0x80000000;
  W.fill(0, 9, 14);
  const total = prefixBytes + 32;
  W[14] = Math.floor(total / 0x20000000);
  W[15] = total * 8;
  compress(state);
}

/** Writes the eight state words big-endian into `out` at `offset`. */
export function sha256Digest(state: Uint32Array, out: Uint8Array, offset = 0): void {
  for (let i = 0; i < 8; i++) writeWord(out, offset + i * 4, state[i]!);
}

/** SHA-256 of `message`, in one call. */
export function sha256(message: Uint8Array): Uint8Array {
  const state = sha256Init();
  sha256Finish(state, 0, message);
  const out = new Uint8Array(32);
  sha256Digest(state, out);
  return out;
}

/** Zeroes the shared buffers, so no key-derived words linger after a key is prepared. */
export function sha256Wipe(): void {
  W.fill(0);
  TAIL.fill(0);
}

function writeWord(out: Uint8Array, offset: number, word: number): void {
  out[offset] = word >>> 24;
  out[offset + 1] = word >>> 16;
  out[offset + 2] = word >>> 8;
  out[offset + 3] = word;
}
