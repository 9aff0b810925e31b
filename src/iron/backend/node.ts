/**
 * node:crypto backend: synchronous, so a sealed-session unseal never leaves the current
 * tick, except for key derivations with many PBKDF2 iterations (see below). Used on Node,
 * Bun and Deno (all implement node:crypto natively).
 */
import {
  createHmac,
  createSecretKey,
  pbkdf2,
  pbkdf2Sync,
  randomFillSync,
  type KeyObject,
} from 'node:crypto';
import { Buffer } from 'node:buffer';
import { promisify } from 'node:util';
import { startupSnapshot } from 'node:v8';
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

/** HMAC keys are KeyObjects; AES keys keep their cipher contexts open (see node-aes.ts). */
function importKey(raw: Uint8Array, algorithm: KeyAlgorithm): KeyObject | NodeAesKey {
  return algorithm === 'sha256' ? createSecretKey(raw) : new NodeAesKey(raw, algorithm);
}

/** Imports derived key bytes, then wipes them: the key keeps what it needs. */
function importDerived(raw: Buffer, algorithm: KeyAlgorithm): KeyObject | NodeAesKey {
  const key = importKey(raw, algorithm);
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
    return createHmac('sha256', key as KeyObject)
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
