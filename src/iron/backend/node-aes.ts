/**
 * AES for the node backend over OpenSSL contexts opened once per key.
 *
 * `createCipheriv` / `createDecipheriv` set up a new OpenSSL context on every call, which
 * was most of an unseal on Node (bench/iron-profile.mjs times both ways; figures in
 * bench/results/NOTES.md). A context cannot be given a new IV, but it does not
 * need one; both iron modes are built here from contexts that live as long as the key:
 *   - CBC encryption: a CBC context with padding off keeps its last ciphertext block as its
 *     chaining value X. Feeding P1 ⊕ IV ⊕ X as the first block yields AES(P1 ⊕ IV): exactly
 *     the first block of a new CBC encryption under IV; the rest chains by itself.
 *   - CBC decryption, the same way round: a CBC decipher whose chaining value is X (the last
 *     ciphertext block it saw) returns AES⁻¹(C1) ⊕ X as the first block; XORing X ⊕ IV into
 *     it gives P1. The PKCS#7 check is done here; the engine verified the MAC first, so it
 *     tells an attacker nothing (no padding oracle).
 *   - CTR: an ECB context encrypts the counter blocks; the keystream is XORed here.
 * The output is byte-for-byte that of `createCipheriv` with the same key and IV (tested in
 * test/iron/node-aes.test.ts against node:crypto and, through the engine, @hapi/iron).
 *
 * A key's first operation runs on a one-shot context instead: most keys of tokens sealed
 * elsewhere (h3 draws new salts for every seal) are used once, and opening a context to
 * keep costs more than one that is thrown away. Contexts are opened from the second use on.
 */
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { AES_BLOCK_BYTES, incrementCounter, pkcs7Unpad } from '../../internal/block-modes.js';

const BLOCK = AES_BLOCK_BYTES;
/** The IV a context is opened with; never used as such (see the chaining above). */
const ZERO_IV = Buffer.alloc(BLOCK);

export type AesAlgorithm = 'aes-256-cbc' | 'aes-128-ctr';

/** A context with padding off, and its chaining value: the last ciphertext block it saw. */
interface Chained<C extends Cipher | Decipher> {
  readonly context: C;
  readonly chain: Buffer;
}

export class NodeAesKey {
  readonly #algorithm: AesAlgorithm;
  /**
   * The key bytes, a copy of our own over a buffer of its own (never a slice of Buffer's
   * shared pool, which any pooled Buffer exposes): contexts are opened from it when needed.
   */
  readonly #key: Uint8Array;
  /** Whether an operation ran: the first one uses a one-shot context. */
  #used = false;
  // Opened on the second use: a key that only ever unseals (a token sealed by a peer, with
  // a salt of its own) never pays for an encryptor.
  #encryptor: Chained<Cipher> | undefined;
  #decryptor: Chained<Decipher> | undefined;
  #ecb: Cipher | undefined;

  constructor(raw: Uint8Array, algorithm: AesAlgorithm) {
    this.#algorithm = algorithm;
    this.#key = new Uint8Array(raw);
  }

  /** Encrypts the UTF-8 bytes of `plaintext` under `iv` (16 bytes). */
  encrypt(iv: Uint8Array, plaintext: string): Buffer {
    const size = Buffer.byteLength(plaintext, 'utf8');
    if (this.#algorithm === 'aes-128-ctr') {
      const input = Buffer.allocUnsafe(size);
      input.write(plaintext, 'utf8');
      return this.#firstUse()
        ? oneShot('encrypt', this.#algorithm, this.#key, iv, input)
        : ctr(this.#counterEncryptor(), iv, input);
    }
    const padding = BLOCK - (size % BLOCK);
    const input = paddedInput(plaintext, size, padding);
    try {
      if (this.#firstUse()) return oneShot('encrypt', this.#algorithm, this.#key, iv, input);
      this.#encryptor ??= {
        context: createCipheriv('aes-256-cbc', this.#key, ZERO_IV).setAutoPadding(false),
        chain: Buffer.alloc(BLOCK),
      };
      const { context, chain } = this.#encryptor;
      for (let i = 0; i < BLOCK; i++) input[i] = input[i]! ^ iv[i]! ^ chain[i]!;
      const out = update(context, input);
      keepLastBlock(out, chain);
      return out;
    } finally {
      // The plaintext does not stay in the shared buffer.
      input.fill(0);
    }
  }

  /** Decrypts `data` under `iv`; `undefined` when the sizes or the padding are wrong. */
  decrypt(iv: Uint8Array, data: Buffer): Buffer | undefined {
    if (iv.length !== BLOCK) return undefined;
    if (this.#algorithm === 'aes-128-ctr') {
      if (this.#firstUse()) return oneShot('decrypt', this.#algorithm, this.#key, iv, data);
      return ctr(this.#counterEncryptor(), iv, data);
    }
    const size = data.length;
    if (size === 0 || size % BLOCK !== 0) return undefined;
    let out: Buffer;
    if (this.#firstUse()) {
      out = oneShot('decrypt', this.#algorithm, this.#key, iv, data);
    } else {
      this.#decryptor ??= {
        context: createDecipheriv('aes-256-cbc', this.#key, ZERO_IV).setAutoPadding(false),
        chain: Buffer.alloc(BLOCK),
      };
      const { context, chain } = this.#decryptor;
      out = update(context, data);
      for (let i = 0; i < BLOCK; i++) out[i] = out[i]! ^ chain[i]! ^ iv[i]!;
      keepLastBlock(data, chain);
    }
    // A subarray of a Buffer is a Buffer (species), which the caller decodes with toString.
    return pkcs7Unpad(out) as Buffer | undefined;
  }

  /** True on the key's first operation only. */
  #firstUse(): boolean {
    if (this.#used) return false;
    this.#used = true;
    return true;
  }

  /** aes-128-ctr: one ECB encryptor serves both directions. */
  #counterEncryptor(): Cipher {
    this.#ecb ??= createCipheriv('aes-128-ecb', this.#key, null).setAutoPadding(false);
    return this.#ecb;
  }
}

/**
 * CBC input, reused by every encryption: a buffer of its own per seal (and the pool pages
 * behind them) showed in a session write's profile. The AES call copies what it returns,
 * so nothing here outlives the call; the caller wipes it.
 */
let cbcInput = Buffer.alloc(1024);
/** Longer input gets a buffer of its own: the shared one never holds more than this. */
const MAX_SHARED_INPUT = 16 * 1024;

/**
 * `plaintext` (`size` UTF-8 bytes) and its PKCS#7 padding, in the shared CBC input or, past
 * its bound, in a buffer of its own.
 */
function paddedInput(plaintext: string, size: number, padding: number): Buffer {
  const length = size + padding;
  if (length > cbcInput.length) {
    if (length > MAX_SHARED_INPUT) return fill(Buffer.alloc(length), plaintext, size, padding);
    cbcInput = Buffer.alloc(Math.min(Math.max(length, cbcInput.length * 2), MAX_SHARED_INPUT));
  }
  return fill(cbcInput.subarray(0, length), plaintext, size, padding);
}

function fill(input: Buffer, plaintext: string, size: number, padding: number): Buffer {
  input.write(plaintext, 'utf8');
  input.fill(padding, size);
  return input;
}

/**
 * One operation on a context of its own, padding off (CBC input is block-aligned here, and
 * the PKCS#7 check is ours).
 */
function oneShot(
  direction: 'encrypt' | 'decrypt',
  algorithm: AesAlgorithm,
  key: Uint8Array,
  iv: Uint8Array,
  input: Buffer,
): Buffer {
  const context =
    direction === 'encrypt'
      ? createCipheriv(algorithm, key, iv)
      : createDecipheriv(algorithm, key, iv);
  return update(context.setAutoPadding(false), input);
}

/** CTR in both directions: the 16-byte IV is the first counter, a 128-bit big-endian number. */
function ctr(ecb: Cipher, iv: Uint8Array, data: Buffer): Buffer {
  if (data.length === 0) return data;
  const blocks = Math.ceil(data.length / BLOCK);
  const counters = Buffer.allocUnsafe(blocks * BLOCK);
  counters.set(iv.subarray(0, BLOCK));
  for (let b = 1; b < blocks; b++) {
    const at = b * BLOCK;
    counters.copy(counters, at, at - BLOCK, at);
    incrementCounter(counters, at);
  }
  const stream = update(ecb, counters);
  for (let i = 0; i < data.length; i++) data[i] = data[i]! ^ stream[i]!;
  return data;
}

/**
 * Copies the last block of `from` into `chain`. A 16-byte loop: `Buffer#copy` with offsets
 * validates its arguments on every call, which showed in a session write's profile.
 */
function keepLastBlock(from: Uint8Array, chain: Uint8Array): void {
  const at = from.length - BLOCK;
  for (let i = 0; i < BLOCK; i++) chain[i] = from[at + i]!;
}

/** One update call on block-aligned input; padding is off, so nothing is held back. */
function update(context: Cipher | Decipher, input: Buffer): Buffer {
  const out = context.update(input);
  // Unreachable with padding off; a short answer would desynchronise the chaining value.
  if (out.length !== input.length) throw new Error('AES context returned a partial output');
  return out;
}
