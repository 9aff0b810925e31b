/**
 * WebCrypto backend, for Cloudflare Workers, browsers and any runtime without node:crypto.
 * Asynchronous by nature; the engine's key cache keeps it to one HMAC and one AES call per
 * unseal.
 */
import { decodeBase64url, encodeBase64url } from '../../internal/base64url.js';
import { KEY_BYTES, type BackendKey, type CryptoBackend, type KeyAlgorithm } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function subtle(): SubtleCrypto {
  return globalThis.crypto.subtle;
}

function keyParams(algorithm: KeyAlgorithm): AesKeyAlgorithm | HmacImportParams {
  return algorithm === 'sha256'
    ? { name: 'HMAC', hash: 'SHA-256' }
    : {
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

function importKey(raw: Uint8Array, algorithm: KeyAlgorithm): Promise<CryptoKey> {
  const usages: KeyUsage[] = algorithm === 'sha256' ? ['sign'] : ['encrypt', 'decrypt'];
  return subtle().importKey('raw', plain(raw), keyParams(algorithm), false, usages);
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
    return importKey(new Uint8Array(bits), algorithm);
  },
  importKey,
  async mac(key, data) {
    const signature = await subtle().sign('HMAC', key as CryptoKey, encoder.encode(data));
    return encodeBase64url(new Uint8Array(signature));
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
