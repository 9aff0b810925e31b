/**
 * node:crypto backend: synchronous, so a sealed-session unseal never leaves the current
 * tick. Used on Node, Bun and Deno (all implement node:crypto natively).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  pbkdf2Sync,
  randomFillSync,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { Buffer } from 'node:buffer';
import { KEY_BYTES, type CryptoBackend, type KeyAlgorithm } from './types.js';

// Random bytes come from a pool refilled in one call: a 16-byte IV per seal would otherwise
// cost a syscall-sized call each time.
const POOL_SIZE = 4096;
let pool = Buffer.allocUnsafe(0);
let poolOffset = 0;

function randomBytes(size: number): Uint8Array {
  if (size > POOL_SIZE) return randomFillSync(new Uint8Array(size));
  if (poolOffset + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_SIZE));
    poolOffset = 0;
  }
  // A copy, so a caller can never see bytes handed to another caller.
  const out = new Uint8Array(pool.subarray(poolOffset, poolOffset + size));
  pool.fill(0, poolOffset, poolOffset + size);
  poolOffset += size;
  return out;
}

function importKey(raw: Uint8Array): KeyObject {
  return createSecretKey(raw);
}

export const nodeBackend: CryptoBackend = {
  name: 'node',
  randomBytes,
  deriveKey(
    password: string,
    salt: string,
    iterations: number,
    algorithm: KeyAlgorithm,
  ): KeyObject {
    return importKey(pbkdf2Sync(password, salt, iterations, KEY_BYTES[algorithm], 'sha1'));
  },
  importKey,
  mac(key, data) {
    return createHmac('sha256', key as KeyObject)
      .update(data, 'utf8')
      .digest('base64url');
  },
  encrypt(algorithm, key, iv, plaintext) {
    const cipher = createCipheriv(algorithm, key as KeyObject, iv);
    return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64url');
  },
  decrypt(algorithm, key, iv, ciphertext) {
    try {
      const decipher = createDecipheriv(algorithm, key as KeyObject, Buffer.from(iv, 'base64url'));
      const input = Buffer.from(ciphertext, 'base64url');
      return Buffer.concat([decipher.update(input), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  },
  equal(a, b) {
    if (a.length !== b.length) return false;
    return timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
  },
};
