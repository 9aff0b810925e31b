/**
 * WebCrypto backend, for Cloudflare Workers, browsers and any runtime without node:crypto.
 * AES and PBKDF2 go through WebCrypto (asynchronous); the MAC is our own synchronous
 * HMAC-SHA256, because a `subtle.sign` round trip costs far more than hashing a token. With
 * the engine's key cache, an unseal is one WebCrypto call (the AES decryption).
 */
import { decodeBase64url, encodeBase64url } from '../../internal/base64url.js';
import { createHmacKey, hmacSha256Utf8, type HmacKey } from '../../internal/hmac-sha256.js';
import { KEY_BYTES, type BackendKey, type CryptoBackend, type KeyAlgorithm } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function subtle(): SubtleCrypto {
  return globalThis.crypto.subtle;
}

function aesParams(algorithm: Exclude<KeyAlgorithm, 'sha256'>): AesKeyAlgorithm {
  return {
    name: algorithm === 'aes-256-cbc' ? 'AES-CBC' : 'AES-CTR',
    length: KEY_BYTES[algorithm] * 8,
  };
}

/** WebCrypto wants bytes over a plain ArrayBuffer; a copy guarantees one. */
function plain(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

function cipherParams(algorithm: KeyAlgorithm, iv: Uint8Array): AesCbcParams | AesCtrParams {
  // Node's aes-128-ctr increments the whole 16-byte block as the counter: length 128.
  return algorithm === 'aes-128-ctr'
    ? { name: 'AES-CTR', counter: plain(iv), length: 128 }
    : { name: 'AES-CBC', iv: plain(iv) };
}

/** An HMAC key is prepared synchronously (no WebCrypto call); an AES key is a CryptoKey. */
function importKey(raw: Uint8Array, algorithm: KeyAlgorithm): HmacKey | Promise<CryptoKey> {
  if (algorithm === 'sha256') return createHmacKey(raw);
  return subtle().importKey('raw', plain(raw), aesParams(algorithm), false, ['encrypt', 'decrypt']);
}

export const webBackend: CryptoBackend = {
  name: 'web',
  randomBytes(size) {
    return globalThis.crypto.getRandomValues(new Uint8Array(size));
  },
  async deriveKey(password, salt, iterations, algorithm) {
    const base = await subtle().importKey('raw', encoder.encode(password), 'PBKDF2', false, [
      'deriveBits',
    ]);
    const bits = await subtle().deriveBits(
      { name: 'PBKDF2', hash: 'SHA-1', salt: encoder.encode(salt), iterations },
      base,
      KEY_BYTES[algorithm] * 8,
    );
    const raw = new Uint8Array(bits);
    const key = importKey(raw, algorithm);
    // Our own copy of the key bytes: nothing else needs them once imported.
    if (algorithm === 'sha256') raw.fill(0);
    return key;
  },
  importKey,
  mac(key, data) {
    return encodeBase64url(hmacSha256Utf8(key as HmacKey, data));
  },
  async encrypt(algorithm, key, iv, plaintext) {
    const encrypted = await subtle().encrypt(
      cipherParams(algorithm, iv),
      key as CryptoKey,
      encoder.encode(plaintext),
    );
    return encodeBase64url(new Uint8Array(encrypted));
  },
  async decrypt(algorithm, key: BackendKey, iv, ciphertext) {
    const ivBytes = decodeBase64url(iv);
    const data = decodeBase64url(ciphertext);
    if (ivBytes === undefined || data === undefined) return undefined;
    try {
      const decrypted = await subtle().decrypt(
        cipherParams(algorithm, ivBytes),
        key as CryptoKey,
        plain(data),
      );
      return decoder.decode(decrypted);
    } catch {
      return undefined;
    }
  },
  equal(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
    return diff === 0;
  },
};
