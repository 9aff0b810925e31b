/**
 * node:crypto backend: synchronous, so a sealed-session unseal never leaves the current
 * tick, except for key derivations with many PBKDF2 iterations (see below). Used on Node,
 * Bun and Deno (all implement node:crypto natively).
 */
import { createHmac, pbkdf2, pbkdf2Sync, randomFillSync } from 'node:crypto';
import { Buffer } from 'node:buffer';
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
/** AES keys are derived here, by size: NodeAesKey copies them, and these are wiped. */
const aes128Scratch = new Uint8Array(16);
const aes256Scratch = new Uint8Array(32);

/**
 * HMAC keys are the key bytes themselves: `createHmac` is as fast with bytes as with a
 * KeyObject, and making a KeyObject for a key that may never be used again (a token sealed
 * elsewhere, a forged one) is pure cost. AES keys open their cipher contexts when they are
 * used again (see node-aes.ts). Either keeps a copy of its own.
 */
function importKey(raw: Uint8Array, algorithm: KeyAlgorithm): Uint8Array | NodeAesKey {
  return algorithm === 'sha256' ? new Uint8Array(raw) : new NodeAesKey(raw, algorithm);
}

/**
 * Imports derived key bytes, which no one else holds: an HMAC key is the bytes themselves;
 * an AES key copies them, and they are wiped.
 */
function importDerived(raw: Uint8Array, algorithm: KeyAlgorithm): Uint8Array | NodeAesKey {
  if (algorithm === 'sha256') return raw;
  const key = new NodeAesKey(raw, algorithm);
  raw.fill(0);
  return key;
}

export const nodeBackend: CryptoBackend = {
  name: 'node',
  randomBytes,
  syncDerivationIterations: SYNC_PBKDF2_MAX_ITERATIONS,
  beforeSnapshot,
  deriveKey(password: string, salt: string, iterations: number, algorithm: KeyAlgorithm) {
    const size = KEY_BYTES[algorithm];
    if (iterations <= JS_PBKDF2_MAX_ITERATIONS) {
      // An HMAC key is the derived bytes themselves; an AES key copies them.
      if (algorithm === 'sha256') return pbkdf2Js.derive(password, salt, iterations, size);
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
    return createHmac('sha256', key as Uint8Array)
      .update(data, 'utf8')
      .digest('base64url');
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
