/**
 * node:crypto backend: synchronous, so a sealed-session unseal never leaves the current
 * tick. Used on Node, Bun and Deno (all implement node:crypto natively).
 */
import {
  createHmac,
  createSecretKey,
  pbkdf2Sync,
  randomFillSync,
  type KeyObject,
} from 'node:crypto';
import { Buffer } from 'node:buffer';
import { createRandomPool } from '../../internal/random-pool.js';
import { NodeAesKey } from './node-aes.js';
import { KEY_BYTES, type CryptoBackend, type KeyAlgorithm } from './types.js';

const randomBytes = createRandomPool((target) => randomFillSync(target));

/** HMAC keys are KeyObjects; AES keys keep their cipher contexts open (see node-aes.ts). */
function importKey(raw: Uint8Array, algorithm: KeyAlgorithm): KeyObject | NodeAesKey {
  return algorithm === 'sha256' ? createSecretKey(raw) : new NodeAesKey(raw, algorithm);
}

export const nodeBackend: CryptoBackend = {
  name: 'node',
  randomBytes,
  deriveKey(password: string, salt: string, iterations: number, algorithm: KeyAlgorithm) {
    const raw = pbkdf2Sync(password, salt, iterations, KEY_BYTES[algorithm], 'sha1');
    const key = importKey(raw, algorithm);
    raw.fill(0);
    return key;
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
