/**
 * PBKDF2-HMAC-SHA1 (RFC 8018 §5.2) in plain TypeScript: iron's key derivation, for tokens
 * whose salts this process has no key for yet.
 *
 * Each derivation by a platform (node:crypto's `pbkdf2Sync`, WebCrypto's `deriveBits`) pays
 * a setup that, at iron's default of one iteration, costs far more than the hashing: keying
 * HMAC with the password, and on WebCrypto a promise and a thread-pool round trip. Here the
 * password is keyed once (HMAC's inner and outer states depend on the password only) and
 * kept, and the salt's whole blocks, which are the same for every output block, are hashed
 * once per derivation. A 32-byte key at one iteration then costs five SHA-1 compressions
 * for iron's 64-character salts. Each further iteration costs four (two per output block),
 * which is where a native PBKDF2 wins again: the backends only come here for few iterations.
 *
 * Constant time as SHA-1 is (see sha1.ts): nothing branches on or indexes by the password
 * or the derived bits. The shared working buffers are wiped after each derivation.
 */
import { LruCache } from './lru.js';
import { SHA1_BLOCK_BYTES, sha1, sha1Block, sha1FinishWords, sha1Init, sha1Wipe } from './sha1.js';

/** HMAC-SHA1 keyed with a password: SHA-1 states after the key ^ ipad and key ^ opad blocks. */
interface KeyedPassword {
  readonly inner: Int32Array;
  readonly outer: Int32Array;
}

const IPAD = 0x36;
const OPAD = 0x5c;
const DIGEST_BYTES = 20;

/** Keys HMAC-SHA1 with `password` (longer than a block is hashed first, RFC 2104 §2). */
function keyPassword(password: Uint8Array): KeyedPassword {
  const block = new Uint8Array(SHA1_BLOCK_BYTES);
  block.set(password.length > SHA1_BLOCK_BYTES ? sha1(password) : password);
  for (let i = 0; i < SHA1_BLOCK_BYTES; i++) block[i] = block[i]! ^ IPAD;
  const inner = sha1Init();
  sha1Block(inner, block, 0);
  for (let i = 0; i < SHA1_BLOCK_BYTES; i++) block[i] = block[i]! ^ IPAD ^ OPAD;
  const outer = sha1Init();
  sha1Block(outer, block, 0);
  block.fill(0);
  sha1Wipe();
  return Object.freeze({ inner, outer });
}

/** Copies a five-word state: a loop is cheaper than `set` at this size. */
function copy(to: Int32Array, from: Int32Array): void {
  for (let i = 0; i < 5; i++) to[i] = from[i]!;
}

/** Working states, reused by every derivation (calls are synchronous and never reenter). */
const saltState = new Int32Array(5);
const innerState = new Int32Array(5);
const u = new Int32Array(5);
const t = new Int32Array(5);
/**
 * The last one or two blocks of the inner hash of `salt || INT(i)`, padding included: the
 * same for every output block but for the four bytes of i, so it is laid out once.
 */
const tail = new Uint8Array(2 * SHA1_BLOCK_BYTES);

/** PBKDF2-HMAC-SHA1 of the keyed password over `salt[0, saltLength)`, into all of `out`. */
function derive(
  password: KeyedPassword,
  salt: Uint8Array,
  saltLength: number,
  iterations: number,
  out: Uint8Array,
): void {
  // The blocks made of salt alone come before the block index: hashed once for all blocks.
  const shared = saltLength - (saltLength % SHA1_BLOCK_BYTES);
  copy(saltState, password.inner);
  for (let offset = 0; offset < shared; offset += SHA1_BLOCK_BYTES) {
    sha1Block(saltState, salt, offset);
  }
  // The rest of the salt, INT(i), then FIPS 180-4 §5.1.1's padding: a 1 bit, zeros, and
  // the length in bits of everything hashed (the key ^ ipad block included).
  const rest = saltLength - shared;
  const tailBytes = rest + 4 < 56 ? SHA1_BLOCK_BYTES : 2 * SHA1_BLOCK_BYTES;
  tail.fill(0);
  for (let k = 0; k < rest; k++) tail[k] = salt[shared + k]!;
  tail[rest + 4] = 0x80;
  const bits = (SHA1_BLOCK_BYTES + saltLength + 4) * 8;
  tail[tailBytes - 5] = Math.floor(bits / 0x100000000);
  tail[tailBytes - 4] = bits >>> 24;
  tail[tailBytes - 3] = bits >>> 16;
  tail[tailBytes - 2] = bits >>> 8;
  tail[tailBytes - 1] = bits;

  const length = out.length;
  for (let index = 1, at = 0; at < length; index++, at += DIGEST_BYTES) {
    // U1 = HMAC(password, salt || INT(index))
    tail[rest] = index >>> 24;
    tail[rest + 1] = index >>> 16;
    tail[rest + 2] = index >>> 8;
    tail[rest + 3] = index;
    copy(innerState, saltState);
    sha1Block(innerState, tail, 0);
    if (tailBytes > SHA1_BLOCK_BYTES) sha1Block(innerState, tail, SHA1_BLOCK_BYTES);
    copy(u, password.outer);
    sha1FinishWords(u, SHA1_BLOCK_BYTES, innerState);
    copy(t, u);
    // Uj = HMAC(password, Uj-1); T = U1 ^ U2 ^ ... ^ Uc
    for (let j = 1; j < iterations; j++) {
      copy(innerState, password.inner);
      sha1FinishWords(innerState, SHA1_BLOCK_BYTES, u);
      copy(u, password.outer);
      sha1FinishWords(u, SHA1_BLOCK_BYTES, innerState);
      for (let w = 0; w < 5; w++) t[w] = t[w]! ^ u[w]!;
    }
    if (length - at >= DIGEST_BYTES) {
      for (let w = 0, k = at; w < 5; w++, k += 4) {
        const word = t[w]!;
        out[k] = word >>> 24;
        out[k + 1] = word >>> 16;
        out[k + 2] = word >>> 8;
        out[k + 3] = word;
      }
    } else {
      for (let k = 0; k < length - at; k++) out[at + k] = t[k >> 2]! >>> (24 - 8 * (k & 3));
    }
  }
  for (let w = 0; w < 5; w++) saltState[w] = innerState[w] = u[w] = t[w] = 0;
  tail.fill(0);
  sha1Wipe();
}

const encoder = new TextEncoder();

/**
 * PBKDF2-HMAC-SHA1 over UTF-8 passwords and salts, keeping the keyed HMAC state of the
 * last `capacity` passwords (a server has a handful; they come from its configuration,
 * never from a request, so this stays small).
 */
export class Pbkdf2Sha1 {
  readonly #passwords: LruCache<string, KeyedPassword>;
  // The password of the last derivation, answering nearly every lookup without the cache.
  #lastPassword: string | undefined;
  #lastKeyed: KeyedPassword | undefined;
  /** UTF-8 of the salt, plus room for the block index; grown on demand, never shrunk. */
  #salt = new Uint8Array(256);

  constructor(capacity: number) {
    this.#passwords = new LruCache(capacity);
  }

  /**
   * `length` bytes of PBKDF2-HMAC-SHA1(UTF-8 of `password`, UTF-8 of `salt`, `iterations`).
   *
   * @throws RangeError unless `iterations` and `length` are positive integers
   */
  derive(password: string, salt: string, iterations: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(length) || length < 1) {
      throw new RangeError('length must be a positive integer');
    }
    return this.deriveInto(password, salt, iterations, new Uint8Array(length));
  }

  /**
   * As {@link derive}, into all of `out` (a key that is copied where it goes can be derived
   * into a buffer used again); returns `out`.
   *
   * @throws RangeError unless `iterations` is a positive integer and `out` not empty
   */
  deriveInto(password: string, salt: string, iterations: number, out: Uint8Array): Uint8Array {
    if (!Number.isSafeInteger(iterations) || iterations < 1) {
      throw new RangeError('iterations must be a positive integer');
    }
    if (out.length === 0) throw new RangeError('length must be a positive integer');
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes (a surrogate pair takes 4 for 2).
    if (salt.length * 3 > this.#salt.length) {
      this.#salt = new Uint8Array(Math.max(salt.length * 3, this.#salt.length * 2));
    }
    derive(this.#keyed(password), this.#salt, this.#encodeSalt(salt), iterations, out);
    return out;
  }

  /** The keyed HMAC state of `password`, made on first use. */
  #keyed(password: string): KeyedPassword {
    if (password === this.#lastPassword && this.#lastKeyed !== undefined) return this.#lastKeyed;
    let keyed = this.#passwords.get(password);
    if (keyed === undefined) {
      const bytes = encoder.encode(password);
      keyed = keyPassword(bytes);
      bytes.fill(0);
      this.#passwords.set(password, keyed);
    }
    this.#lastPassword = password;
    this.#lastKeyed = keyed;
    return keyed;
  }

  /**
   * Writes the UTF-8 of `salt` into the salt buffer; returns its length. Iron's salts are
   * hex, whose UTF-8 is their char codes: copied directly, which is cheaper than a call
   * into the encoder for a few dozen characters.
   */
  #encodeSalt(salt: string): number {
    const bytes = this.#salt;
    for (let i = 0; i < salt.length; i++) {
      const code = salt.charCodeAt(i);
      if (code >= 0x80) return encoder.encodeInto(salt, bytes).written;
      bytes[i] = code;
    }
    return salt.length;
  }

  /** Forgets every keyed password. */
  clear(): void {
    this.#passwords.clear();
    this.#lastPassword = undefined;
    this.#lastKeyed = undefined;
  }
}
