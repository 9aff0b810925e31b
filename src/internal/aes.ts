/**
 * AES-128/256 (FIPS 197) in plain TypeScript, bitsliced, for the WebCrypto backend.
 *
 * Why: on Node a `crypto.subtle` AES call is a promise and a thread-pool round trip, and for
 * a cookie-sized message that round trip costs several times what the cipher itself costs
 * here (both measured on Node: bench/results/NOTES.md). Keeping AES synchronous makes a
 * WebCrypto-backend unseal one synchronous pass, like the node backend.
 *
 * Constant time: a bitsliced AES has no table lookups and no branches on secret data. Every
 * byte of the state is spread over eight 32-bit words (word j holds bit j of 32 bytes: two
 * blocks), and the S-box is a fixed Boolean circuit over those words: Boyar and Peralta's
 * depth-16 circuit (34 AND and 94 XOR/XNOR gates; "A depth-16 circuit for the AES S-box",
 * IFIP SEC 2012, eprint 2011/332). Key expansion uses the same circuit. Timing depends only
 * on the key size and the message length.
 *
 * Layout of the bitsliced state: byte (row r, column c) of block b (0 or 1) is bit
 * 8r + 4b + c of every word. A row is one byte of the word, so MixColumns' "next row" is a
 * rotation by 8 bits, and ShiftRows rotates the nibbles inside each row's byte.
 *
 * Tested against node:crypto (FIPS 197 vectors, random keys, IVs and lengths, every mode).
 */

/** An expanded key: (rounds + 1) bitsliced round keys of eight words, both lanes filled. */
import { AES_BLOCK_BYTES, incrementCounter, pkcs7Unpad } from './block-modes.js';

export interface AesKey {
  readonly rounds: number;
  readonly roundKeys: Int32Array;
}

const BLOCK = AES_BLOCK_BYTES;

/** Scratch state, reused: everything here runs synchronously to completion. */
const q = new Int32Array(8);

function rotr8(x: number): number {
  return (x >>> 8) | (x << 24);
}

function rotr16(x: number): number {
  return (x >>> 16) | (x << 16);
}

/**
 * Transposes eight words between "word i holds bytes 4i..4i+3" and the bitsliced layout
 * (an 8x8 bit transpose inside each byte position, by three swap-move levels). It is its
 * own inverse.
 */
function ortho(w: Int32Array): void {
  for (let level = 0, shift = 1; level < 3; level++, shift <<= 1) {
    const mask = level === 0 ? 0x55555555 : level === 1 ? 0x33333333 : 0x0f0f0f0f;
    for (let i = 0; i < 8; i++) {
      if ((i & shift) !== 0) continue;
      const a = w[i]!;
      const b = w[i + shift]!;
      const t = ((a >>> shift) ^ b) & mask;
      w[i + shift] = b ^ t;
      w[i] = a ^ (t << shift);
    }
  }
}

/** Reads 16 bytes into words base..base+3 of the scratch (little-endian). */
function load(words: Int32Array, base: number, bytes: Uint8Array, at: number): void {
  for (let i = 0; i < 4; i++) {
    const o = at + 4 * i;
    words[base + i] =
      bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24);
  }
}

function store(words: Int32Array, base: number, bytes: Uint8Array, at: number): void {
  for (let i = 0; i < 4; i++) {
    const o = at + 4 * i;
    const v = words[base + i]!;
    bytes[o] = v;
    bytes[o + 1] = v >>> 8;
    bytes[o + 2] = v >>> 16;
    bytes[o + 3] = v >>> 24;
  }
}

/** The AES S-box on all 32 bytes of the state, by the Boyar–Peralta circuit. */
function subBytes(s: Int32Array): void {
  // The circuit numbers bits from the most significant: U0 is bit 7.
  const u0 = s[7]!;
  const u1 = s[6]!;
  const u2 = s[5]!;
  const u3 = s[4]!;
  const u4 = s[3]!;
  const u5 = s[2]!;
  const u6 = s[1]!;
  const u7 = s[0]!;

  // Top linear layer.
  const t1 = u0 ^ u3;
  const t2 = u0 ^ u5;
  const t3 = u0 ^ u6;
  const t4 = u3 ^ u5;
  const t5 = u4 ^ u6;
  const t6 = t1 ^ t5;
  const t7 = u1 ^ u2;
  const t8 = u7 ^ t6;
  const t9 = u7 ^ t7;
  const t10 = t6 ^ t7;
  const t11 = u1 ^ u5;
  const t12 = u2 ^ u5;
  const t13 = t3 ^ t4;
  const t14 = t6 ^ t11;
  const t15 = t5 ^ t11;
  const t16 = t5 ^ t12;
  const t17 = t9 ^ t16;
  const t18 = u3 ^ u7;
  const t19 = t7 ^ t18;
  const t20 = t1 ^ t19;
  const t21 = u6 ^ u7;
  const t22 = t7 ^ t21;
  const t23 = t2 ^ t22;
  const t24 = t2 ^ t10;
  const t25 = t20 ^ t17;
  const t26 = t3 ^ t16;
  const t27 = t1 ^ t12;

  // Middle non-linear layer: inversion in GF(2^8) through a tower of subfields.
  const m1 = t13 & t6;
  const m2 = t23 & t8;
  const m3 = t14 ^ m1;
  const m4 = t19 & u7;
  const m5 = m4 ^ m1;
  const m6 = t3 & t16;
  const m7 = t22 & t9;
  const m8 = t26 ^ m6;
  const m9 = t20 & t17;
  const m10 = m9 ^ m6;
  const m11 = t1 & t15;
  const m12 = t4 & t27;
  const m13 = m12 ^ m11;
  const m14 = t2 & t10;
  const m15 = m14 ^ m11;
  const m16 = m3 ^ m2;
  const m17 = m5 ^ t24;
  const m18 = m8 ^ m7;
  const m19 = m10 ^ m15;
  const m20 = m16 ^ m13;
  const m21 = m17 ^ m15;
  const m22 = m18 ^ m13;
  const m23 = m19 ^ t25;
  const m24 = m22 ^ m23;
  const m25 = m22 & m20;
  const m26 = m21 ^ m25;
  const m27 = m20 ^ m21;
  const m28 = m23 ^ m25;
  const m29 = m28 & m27;
  const m30 = m26 & m24;
  const m31 = m20 & m23;
  const m32 = m27 & m31;
  const m33 = m27 ^ m25;
  const m34 = m21 & m22;
  const m35 = m24 & m34;
  const m36 = m24 ^ m25;
  const m37 = m21 ^ m29;
  const m38 = m32 ^ m33;
  const m39 = m23 ^ m30;
  const m40 = m35 ^ m36;
  const m41 = m38 ^ m40;
  const m42 = m37 ^ m39;
  const m43 = m37 ^ m38;
  const m44 = m39 ^ m40;
  const m45 = m42 ^ m41;
  const m46 = m44 & t6;
  const m47 = m40 & t8;
  const m48 = m39 & u7;
  const m49 = m43 & t16;
  const m50 = m38 & t9;
  const m51 = m37 & t17;
  const m52 = m42 & t15;
  const m53 = m45 & t27;
  const m54 = m41 & t10;
  const m55 = m44 & t13;
  const m56 = m40 & t23;
  const m57 = m39 & t19;
  const m58 = m43 & t3;
  const m59 = m38 & t22;
  const m60 = m37 & t20;
  const m61 = m42 & t1;
  const m62 = m45 & t4;
  const m63 = m41 & t2;

  // Bottom linear layer, with the affine map; the complemented outputs carry 0x63.
  const l0 = m61 ^ m62;
  const l1 = m50 ^ m56;
  const l2 = m46 ^ m48;
  const l3 = m47 ^ m55;
  const l4 = m54 ^ m58;
  const l5 = m49 ^ m61;
  const l6 = m62 ^ l5;
  const l7 = m46 ^ l3;
  const l8 = m51 ^ m59;
  const l9 = m52 ^ m53;
  const l10 = m53 ^ l4;
  const l11 = m60 ^ l2;
  const l12 = m48 ^ m51;
  const l13 = m50 ^ l0;
  const l14 = m52 ^ m61;
  const l15 = m55 ^ l1;
  const l16 = m56 ^ l0;
  const l17 = m57 ^ l1;
  const l18 = m58 ^ l8;
  const l19 = m63 ^ l4;
  const l20 = l0 ^ l1;
  const l21 = l1 ^ l7;
  const l22 = l3 ^ l12;
  const l23 = l18 ^ l2;
  const l24 = l15 ^ l9;
  const l25 = l6 ^ l10;
  const l26 = l7 ^ l9;
  const l27 = l8 ^ l10;
  const l28 = l11 ^ l14;
  const l29 = l11 ^ l17;
  s[7] = l6 ^ l24;
  s[6] = ~(l16 ^ l26);
  s[5] = ~(l19 ^ l28);
  s[4] = l6 ^ l21;
  s[3] = l20 ^ l22;
  s[2] = l25 ^ l29;
  s[1] = ~(l13 ^ l27);
  s[0] = ~(l6 ^ l23);
}

/**
 * The inverse of the S-box's affine map (b_i = a_(i+2) ^ a_(i+5) ^ a_(i+7) ^ bit i of 0x05).
 * The inverse S-box is this map, then the S-box, then this map again: the S-box is
 * affine(inverse(x)), so inverse(y) = affine⁻¹(S(y)).
 */
function inverseAffine(s: Int32Array): void {
  const a0 = s[0]!;
  const a1 = s[1]!;
  const a2 = s[2]!;
  const a3 = s[3]!;
  const a4 = s[4]!;
  const a5 = s[5]!;
  const a6 = s[6]!;
  const a7 = s[7]!;
  s[0] = ~(a2 ^ a5 ^ a7);
  s[1] = a3 ^ a6 ^ a0;
  s[2] = ~(a4 ^ a7 ^ a1);
  s[3] = a5 ^ a0 ^ a2;
  s[4] = a6 ^ a1 ^ a3;
  s[5] = a7 ^ a2 ^ a4;
  s[6] = a0 ^ a3 ^ a5;
  s[7] = a1 ^ a4 ^ a6;
}

function invSubBytes(s: Int32Array): void {
  inverseAffine(s);
  subBytes(s);
  inverseAffine(s);
}

/** Row r moves left by r columns: each row's two nibbles (one per block) rotate right by r. */
function shiftRows(s: Int32Array): void {
  for (let j = 0; j < 8; j++) {
    const x = s[j]!;
    s[j] =
      (x & 0x000000ff) |
      ((x >>> 1) & 0x00007700) |
      ((x << 3) & 0x00008800) |
      ((x >>> 2) & 0x00330000) |
      ((x << 2) & 0x00cc0000) |
      ((x >>> 3) & 0x11000000) |
      ((x << 1) & 0xee000000);
  }
}

function invShiftRows(s: Int32Array): void {
  for (let j = 0; j < 8; j++) {
    const x = s[j]!;
    s[j] =
      (x & 0x000000ff) |
      ((x >>> 3) & 0x00001100) |
      ((x << 1) & 0x0000ee00) |
      ((x >>> 2) & 0x00330000) |
      ((x << 2) & 0x00cc0000) |
      ((x >>> 1) & 0x77000000) |
      ((x << 3) & 0x88000000);
  }
}

/**
 * Each column becomes (2·a_r ⊕ 3·a_(r+1) ⊕ a_(r+2) ⊕ a_(r+3)), written as
 * 2·(a_r ⊕ a_(r+1)) ⊕ a_(r+1) ⊕ (a_(r+2) ⊕ a_(r+3)). Multiplying by 2 (x) is a shift of the
 * bit planes with the reduction x^8 = x^4 + x^3 + x + 1.
 */
function mixColumns(s: Int32Array): void {
  const r0 = rotr8(s[0]!);
  const r1 = rotr8(s[1]!);
  const r2 = rotr8(s[2]!);
  const r3 = rotr8(s[3]!);
  const r4 = rotr8(s[4]!);
  const r5 = rotr8(s[5]!);
  const r6 = rotr8(s[6]!);
  const r7 = rotr8(s[7]!);
  const u0 = s[0]! ^ r0;
  const u1 = s[1]! ^ r1;
  const u2 = s[2]! ^ r2;
  const u3 = s[3]! ^ r3;
  const u4 = s[4]! ^ r4;
  const u5 = s[5]! ^ r5;
  const u6 = s[6]! ^ r6;
  const u7 = s[7]! ^ r7;
  s[0] = u7 ^ r0 ^ rotr16(u0);
  s[1] = u0 ^ u7 ^ r1 ^ rotr16(u1);
  s[2] = u1 ^ r2 ^ rotr16(u2);
  s[3] = u2 ^ u7 ^ r3 ^ rotr16(u3);
  s[4] = u3 ^ u7 ^ r4 ^ rotr16(u4);
  s[5] = u4 ^ r5 ^ rotr16(u5);
  s[6] = u5 ^ r6 ^ rotr16(u6);
  s[7] = u6 ^ r7 ^ rotr16(u7);
}

/**
 * InvMixColumns = MixColumns after a_r ← a_r ⊕ 4·(a_r ⊕ a_(r+2)): the circulant (5, 0, 4, 0)
 * times (2, 3, 1, 1) is (14, 11, 13, 9).
 */
function invMixColumns(s: Int32Array): void {
  const v0 = s[0]! ^ rotr16(s[0]!);
  const v1 = s[1]! ^ rotr16(s[1]!);
  const v2 = s[2]! ^ rotr16(s[2]!);
  const v3 = s[3]! ^ rotr16(s[3]!);
  const v4 = s[4]! ^ rotr16(s[4]!);
  const v5 = s[5]! ^ rotr16(s[5]!);
  const v6 = s[6]! ^ rotr16(s[6]!);
  const v7 = s[7]! ^ rotr16(s[7]!);
  // 4·v, the bit planes shifted twice with reduction.
  s[0] = s[0]! ^ v6;
  s[1] = s[1]! ^ v6 ^ v7;
  s[2] = s[2]! ^ v0 ^ v7;
  s[3] = s[3]! ^ v1 ^ v6;
  s[4] = s[4]! ^ v2 ^ v6 ^ v7;
  s[5] = s[5]! ^ v3 ^ v7;
  s[6] = s[6]! ^ v4;
  s[7] = s[7]! ^ v5;
  mixColumns(s);
}

function addRoundKey(s: Int32Array, keys: Int32Array, round: number): void {
  const at = round * 8;
  for (let j = 0; j < 8; j++) s[j] = s[j]! ^ keys[at + j]!;
}

/** Encrypts the two blocks held (bitsliced) in the scratch state. */
function encryptState(key: AesKey): void {
  const { rounds, roundKeys } = key;
  addRoundKey(q, roundKeys, 0);
  for (let round = 1; round < rounds; round++) {
    subBytes(q);
    shiftRows(q);
    mixColumns(q);
    addRoundKey(q, roundKeys, round);
  }
  subBytes(q);
  shiftRows(q);
  addRoundKey(q, roundKeys, rounds);
}

function decryptState(key: AesKey): void {
  const { rounds, roundKeys } = key;
  addRoundKey(q, roundKeys, rounds);
  for (let round = rounds - 1; round > 0; round--) {
    invShiftRows(q);
    invSubBytes(q);
    addRoundKey(q, roundKeys, round);
    invMixColumns(q);
  }
  invShiftRows(q);
  invSubBytes(q);
  addRoundKey(q, roundKeys, 0);
}

/** SubWord of the key schedule: the S-box on the four bytes of a little-endian word. */
function subWord(word: number): number {
  q.fill(0);
  for (let j = 0; j < 8; j++) {
    for (let m = 0; m < 4; m++) q[j] = q[j]! | (((word >>> (8 * m + j)) & 1) << m);
  }
  subBytes(q);
  let out = 0;
  for (let j = 0; j < 8; j++) {
    for (let m = 0; m < 4; m++) out |= ((q[j]! >>> m) & 1) << (8 * m + j);
  }
  return out;
}

/** Expands a 16- or 32-byte key (AES-128 or AES-256). */
export function expandAesKey(raw: Uint8Array): AesKey {
  const nk = raw.length / 4;
  if (nk !== 4 && nk !== 8) throw new RangeError('AES key must be 16 or 32 bytes');
  const rounds = nk + 6;
  const total = 4 * (rounds + 1);
  const words = new Int32Array(total);
  for (let i = 0; i < nk; i++) {
    words[i] =
      raw[4 * i]! | (raw[4 * i + 1]! << 8) | (raw[4 * i + 2]! << 16) | (raw[4 * i + 3]! << 24);
  }
  let rcon = 1;
  for (let i = nk; i < total; i++) {
    let t = words[i - 1]!;
    if (i % nk === 0) {
      t = subWord(rotr8(t)) ^ rcon;
      rcon = (rcon << 1) ^ ((rcon >>> 7) * 0x11b);
    } else if (nk > 6 && i % nk === 4) {
      t = subWord(t);
    }
    words[i] = words[i - nk]! ^ t;
  }
  const roundKeys = new Int32Array(8 * (rounds + 1));
  for (let round = 0; round <= rounds; round++) {
    for (let i = 0; i < 4; i++) {
      q[i] = words[4 * round + i]!;
      q[i + 4] = words[4 * round + i]!;
    }
    ortho(q);
    roundKeys.set(q, 8 * round);
  }
  words.fill(0);
  q.fill(0);
  return { rounds, roundKeys };
}

/** AES-CBC with PKCS#7 padding (what `aes-256-cbc` means in node:crypto and WebCrypto). */
export function cbcEncrypt(key: AesKey, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const padding = BLOCK - (plaintext.length % BLOCK);
  const out = new Uint8Array(plaintext.length + padding);
  out.set(plaintext);
  out.fill(padding, plaintext.length);
  let previous = iv;
  let previousAt = 0;
  for (let at = 0; at < out.length; at += BLOCK) {
    for (let i = 0; i < BLOCK; i++) out[at + i] = out[at + i]! ^ previous[previousAt + i]!;
    load(q, 0, out, at);
    q[4] = q[5] = q[6] = q[7] = 0;
    ortho(q);
    encryptState(key);
    ortho(q);
    store(q, 0, out, at);
    previous = out;
    previousAt = at;
  }
  q.fill(0);
  return out;
}

/** Inverse of cbcEncrypt; `undefined` when the length or the padding is wrong. */
export function cbcDecrypt(
  key: AesKey,
  iv: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array | undefined {
  const size = ciphertext.length;
  if (size === 0 || size % BLOCK !== 0 || iv.length !== BLOCK) return undefined;
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 2 * BLOCK) {
    const pair = at + BLOCK < size;
    load(q, 0, ciphertext, at);
    if (pair) load(q, 4, ciphertext, at + BLOCK);
    else q[4] = q[5] = q[6] = q[7] = 0;
    ortho(q);
    decryptState(key);
    ortho(q);
    store(q, 0, out, at);
    if (pair) store(q, 4, out, at + BLOCK);
  }
  q.fill(0);
  for (let i = 0; i < BLOCK; i++) out[i] = out[i]! ^ iv[i]!;
  for (let i = BLOCK; i < size; i++) out[i] = out[i]! ^ ciphertext[i - BLOCK]!;
  return pkcs7Unpad(out);
}

/** AES-CTR with a 128-bit big-endian counter starting at `iv`; the same call both ways. */
export function ctrXor(key: AesKey, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  const counter = new Uint8Array(2 * BLOCK);
  counter.set(iv.subarray(0, BLOCK));
  const stream = new Uint8Array(2 * BLOCK);
  for (let at = 0; at < data.length; at += 2 * BLOCK) {
    // The second lane's counter is the first plus one.
    counter.copyWithin(BLOCK, 0, BLOCK);
    incrementCounter(counter, BLOCK);
    load(q, 0, counter, 0);
    load(q, 4, counter, BLOCK);
    ortho(q);
    encryptState(key);
    ortho(q);
    store(q, 0, stream, 0);
    store(q, 4, stream, BLOCK);
    const end = Math.min(data.length, at + 2 * BLOCK);
    for (let i = at; i < end; i++) out[i] = data[i]! ^ stream[i - at]!;
    counter.copyWithin(0, BLOCK, 2 * BLOCK);
    incrementCounter(counter, 0);
  }
  q.fill(0);
  stream.fill(0);
  return out;
}
