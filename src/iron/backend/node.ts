/**
 * node:crypto backend: synchronous, so a sealed-session unseal never leaves the current
 * tick, except for key derivations with many PBKDF2 iterations (see below). Used on Node,
 * Bun and Deno (all implement node:crypto natively).
 */
import * as nodeCrypto from 'node:crypto';
import { createHmac, pbkdf2, pbkdf2Sync, randomFillSync } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { setImmediate, setTimeout } from 'node:timers';
import { promisify } from 'node:util';
import { startupSnapshot } from 'node:v8';
import { Pbkdf2Sha1 } from '../../internal/pbkdf2-sha1.js';
import { createRandomPool } from '../../internal/random-pool.js';
import { NodeAesKey } from './node-aes.js';
import { KEY_BYTES, type CryptoBackend, type KeyAlgorithm } from './types.js';

const randomBytes = createRandomPool((target) => randomFillSync(target));

/*
 * A startup snapshot (`node --build-snapshot`) copies the builder's heap into every process
 * started from it, the pool's unused bytes included: each such process must draw its own.
 */
if (startupSnapshot.isBuildingSnapshot()) {
  startupSnapshot.addDeserializeCallback(() => {
    randomBytes.discard();
  });
}

/** Runs `callback` just before the heap is written into the startup snapshot being built. */
function beforeSnapshot(callback: () => void): void {
  if (startupSnapshot.isBuildingSnapshot()) startupSnapshot.addSerializeCallback(callback);
}

/**
 * Keys needing more PBKDF2 iterations than this are derived on libuv's thread pool. Below,
 * a synchronous derivation costs less than a thread-pool round trip. Above, it would stall
 * the event loop for longer with every iteration (h3 2.x uses 8192), and as every token
 * names its own salts, anyone could make the server derive a key per request with forged
 * tokens. The costs this bound rests on: bench/results/NOTES.md.
 */
export const SYNC_PBKDF2_MAX_ITERATIONS = 100;
const pbkdf2Async = promisify(pbkdf2);

/**
 * Keys needing at most this many iterations are derived in JS (src/internal/pbkdf2-sha1.ts),
 * above by `pbkdf2Sync`. Each `pbkdf2Sync` call keys HMAC with the password again and sets
 * up OpenSSL's KDF, which at iron's default of one iteration is most of its cost; the JS
 * derivation keeps the keyed password and only hashes the salt. Per iteration the two cost
 * about the same here, so the JS lead shrinks as iterations grow; the bound keeps a margin
 * for machines where OpenSSL hashes faster (bench/iron-primitives.mjs; figures in
 * bench/results/NOTES.md).
 */
export const JS_PBKDF2_MAX_ITERATIONS = 32;
/** Keyed passwords kept: as many as the engine keeps secrets by default. */
const pbkdf2Js = new Pbkdf2Sha1(32);
/** Keys are derived here, by size: NodeMacKey and NodeAesKey copy them, and these are wiped. */
const aes128Scratch = new Uint8Array(16);
const aes256Scratch = new Uint8Array(32);

/**
 * HMAC keys are `NodeMacKey`s over a copy of the key bytes (never a KeyObject: making one
 * for a key that may never be used again, a token sealed elsewhere or a forged one, is
 * pure cost). AES keys open their cipher contexts when they are used again (see
 * node-aes.ts). Either keeps a copy of its own.
 */
function importKey(raw: Uint8Array, algorithm: KeyAlgorithm): NodeMacKey | NodeAesKey {
  return algorithm === 'sha256' ? new NodeMacKey(raw) : new NodeAesKey(raw, algorithm);
}

/**
 * Imports derived key bytes, which no one else holds: both kinds copy them, and they are
 * wiped.
 */
function importDerived(raw: Uint8Array, algorithm: KeyAlgorithm): NodeMacKey | NodeAesKey {
  if (algorithm === 'sha256') {
    const key = new NodeMacKey(raw);
    raw.fill(0);
    return key;
  }
  const key = new NodeAesKey(raw, algorithm);
  raw.fill(0);
  return key;
}

/**
 * One-shot hashing (`crypto.hash`, Node 20.12 and later). Absent on older Nodes and some
 * other runtimes' node:crypto: HMAC then goes through `createHmac`.
 */
const hashOnce = (nodeCrypto as { hash?: typeof nodeCrypto.hash }).hash;
const IPAD = 0x36;
const OPAD = 0x5c;
/**
 * The inner hash's input: the key ^ ipad block, then the message's UTF-8 bytes. Shared by
 * every key (calls are synchronous and never reenter); grown on demand, never shrunk.
 */
let innerInput = Buffer.alloc(1024);
/** The outer hash's input: the key ^ opad block, then the inner digest. */
const outerInput = Buffer.alloc(64 + 32);

/**
 * An HMAC-SHA256 key. Setting up a `createHmac` object (OpenSSL fetches the HMAC and its
 * digest for every one) was most of a MAC's cost, about three times a one-shot hash of the
 * same bytes (bench/results/NOTES.md): with `crypto.hash`, a MAC is RFC 2104's two hashes,
 * H(K ^ opad || H(K ^ ipad || m)), over pad blocks prepared once per key. Same digest,
 * byte for byte (tested against `createHmac`); OpenSSL's SHA-256 is as constant-time as
 * its HMAC.
 */
export class NodeMacKey {
  /** The key bytes (a copy of our own), for `createHmac` where `crypto.hash` is missing. */
  readonly #key: Uint8Array;
  /** key ^ ipad and key ^ opad, each one 64-byte block (a 32-byte key is zero-padded). */
  readonly #ipad: Uint8Array | undefined;
  readonly #opad: Uint8Array | undefined;

  constructor(raw: Uint8Array) {
    this.#key = new Uint8Array(raw);
    // Iron keys are 32 bytes; a longer key would be hashed first (RFC 2104 §2): not built
    // here, so such a key takes createHmac.
    if (hashOnce === undefined || raw.length > 64) return;
    const ipad = new Uint8Array(64).fill(IPAD);
    const opad = new Uint8Array(64).fill(OPAD);
    for (let i = 0; i < raw.length; i++) {
      ipad[i] = raw[i]! ^ IPAD;
      opad[i] = raw[i]! ^ OPAD;
    }
    this.#ipad = ipad;
    this.#opad = opad;
  }

  /** HMAC-SHA256 of the UTF-8 bytes of `data`, base64url without padding. */
  mac(data: string): string {
    const ipad = this.#ipad;
    const opad = this.#opad;
    if (hashOnce === undefined || ipad === undefined || opad === undefined) {
      return createHmac('sha256', this.#key).update(data, 'utf8').digest('base64url');
    }
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes, so the message always fits.
    if (64 + data.length * 3 > innerInput.length) {
      innerInput = Buffer.alloc(Math.max(64 + data.length * 3, innerInput.length * 2));
    }
    innerInput.set(ipad);
    const end = 64 + innerInput.write(data, 64, 'utf8');
    const inner = hashOnce('sha256', innerInput.subarray(0, end), 'buffer');
    // The pad blocks are key material: they do not stay in the shared buffers.
    innerInput.fill(0, 0, 64);
    outerInput.set(opad);
    outerInput.set(inner, 64);
    const digest = hashOnce('sha256', outerInput, 'base64url');
    outerInput.fill(0, 0, 64);
    return digest;
  }
}

const performanceNow = performance.now.bind(performance);

export const nodeBackend: CryptoBackend = {
  name: 'node',
  randomBytes,
  syncDerivationIterations: SYNC_PBKDF2_MAX_ITERATIONS,
  beforeSnapshot,
  // Imported from node:timers, not read from globalThis at each call: a test's fake timers
  // replace the global one, and a turn they never run would leave waiting tokens waiting.
  scheduleTurn: (callback) => {
    setImmediate(callback);
  },
  // Likewise, and the clock's method is taken now: fake timers and a faked clock would
  // stall the tokens waiting for a share of time.
  clock: {
    now: performanceNow,
    after: (ms, callback) => {
      setTimeout(callback, ms);
    },
  },
  deriveKey(password: string, salt: string, iterations: number, algorithm: KeyAlgorithm) {
    const size = KEY_BYTES[algorithm];
    if (iterations <= JS_PBKDF2_MAX_ITERATIONS) {
      const scratch = size === 16 ? aes128Scratch : aes256Scratch;
      const raw = pbkdf2Js.deriveInto(password, salt, iterations, scratch);
      return importDerived(raw, algorithm);
    }
    if (iterations <= SYNC_PBKDF2_MAX_ITERATIONS) {
      return importDerived(pbkdf2Sync(password, salt, iterations, size, 'sha1'), algorithm);
    }
    // A throw in the callback (importDerived) becomes a rejection, not an uncaught exception.
    return pbkdf2Async(password, salt, iterations, size, 'sha1').then((raw) =>
      importDerived(raw, algorithm),
    );
  },
  importKey,
  mac(key, data) {
    return (key as NodeMacKey).mac(data);
  },
  encrypt(_algorithm, key, iv, plaintext) {
    return (key as NodeAesKey).encrypt(iv, plaintext).toString('base64url');
  },
  decrypt(_algorithm, key, iv, ciphertext) {
    const plaintext = (key as NodeAesKey).decrypt(
      Buffer.from(iv, 'base64url'),
      Buffer.from(ciphertext, 'base64url'),
    );
    return plaintext?.toString('utf8');
  },
};
