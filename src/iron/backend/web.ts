/**
 * WebCrypto backend, for Cloudflare Workers, browsers and any runtime without node:crypto.
 *
 * WebCrypto supplies randomness, and PBKDF2 for keys of many iterations. The MAC is always
 * our own synchronous HMAC-SHA256 (src/internal/hmac-sha256.ts), and keys of few iterations
 * (iron's default is one) are derived by our own PBKDF2 (src/internal/pbkdf2-sha1.ts): a
 * token with salts never seen then unseals in one synchronous pass too, where two
 * `crypto.subtle` derivations cost two promises and, on Node and in browsers, two
 * thread-pool round trips. AES depends on what a `crypto.subtle` call costs where the
 * backend runs, which is why there are two instances:
 *   - `webBackend` (browsers, generic workers, anything else): where `crypto.subtle` hands
 *     work to another thread and resolves later (Node and browsers), that round trip costs
 *     more than the cipher, so AES on cookie-sized messages runs here in JS
 *     (src/internal/aes.ts, bitsliced, constant-time). Longer messages go to WebCrypto.
 *   - `workerdBackend` (Cloudflare's workerd): its WebCrypto is native BoringSSL and cheap
 *     at any cookie size, cheaper than JS AES, so AES always goes to WebCrypto.
 * What each choice rests on was measured on Node and through Miniflare: bench/results/NOTES.md.
 * Both produce the same bytes; the engine's key cache makes either a single pass per token.
 */
import { cbcDecrypt, cbcEncrypt, ctrXor, expandAesKey, type AesKey } from '../../internal/aes.js';
import { decodeBase64url, encodeBase64url } from '../../internal/base64url.js';
import { createHmacKey, hmacSha256Utf8, type HmacKey } from '../../internal/hmac-sha256.js';
import type { MaybePromise } from '../../internal/maybe-promise.js';
import { Pbkdf2Sha1 } from '../../internal/pbkdf2-sha1.js';
import { createRandomPool } from '../../internal/random-pool.js';
import { KEY_BYTES, type CryptoBackend, type KeyAlgorithm } from './types.js';

type AesAlgorithm = Exclude<KeyAlgorithm, 'sha256'>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const IV_BYTES = 16;

export interface WebBackendOptions {
  /**
   * Messages up to this many bytes (plaintext when sealing, ciphertext when unsealing) are
   * encrypted in JS; longer ones through `crypto.subtle`. 0 sends everything to WebCrypto.
   */
  readonly aesInJsUpToBytes: number;
  /**
   * Keys of up to this many PBKDF2 iterations are derived in JS, synchronously; keys of more
   * through `crypto.subtle`, asynchronously (and counted by the engine's derivation limit).
   * 0 sends every derivation to WebCrypto.
   */
  readonly pbkdf2InJsUpToIterations: number;
}

function subtle(): SubtleCrypto {
  return globalThis.crypto.subtle;
}

/** WebCrypto wants bytes over a plain ArrayBuffer; a copy guarantees one. */
function plain(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

function cipherParams(algorithm: AesAlgorithm, iv: Uint8Array): AesCbcParams | AesCtrParams {
  // Node's aes-128-ctr increments the whole 16-byte block as the counter: length 128.
  return algorithm === 'aes-128-ctr'
    ? { name: 'AES-CTR', counter: plain(iv), length: 128 }
    : { name: 'AES-CBC', iv: plain(iv) };
}

/**
 * An AES key, prepared for whichever path a message takes: the JS key schedule and the
 * WebCrypto CryptoKey are each made on first use and kept.
 */
class WebAesKey {
  readonly #algorithm: AesAlgorithm;
  #raw: Uint8Array | undefined;
  #expanded: AesKey | undefined;
  #cryptoKey: Promise<CryptoKey> | undefined;
  #imported = false;

  constructor(raw: Uint8Array, algorithm: AesAlgorithm) {
    this.#algorithm = algorithm;
    this.#raw = new Uint8Array(raw);
  }

  get expanded(): AesKey {
    this.#expanded ??= expandAesKey(this.#rawBytes());
    this.#forgetRawWhenComplete();
    return this.#expanded;
  }

  get cryptoKey(): Promise<CryptoKey> {
    this.#cryptoKey ??= subtle()
      .importKey(
        'raw',
        plain(this.#rawBytes()),
        { name: this.#algorithm === 'aes-256-cbc' ? 'AES-CBC' : 'AES-CTR' },
        false,
        ['encrypt', 'decrypt'],
      )
      .then((key) => {
        this.#imported = true;
        this.#forgetRawWhenComplete();
        return key;
      });
    return this.#cryptoKey;
  }

  #rawBytes(): Uint8Array {
    if (this.#raw === undefined) throw new Error('AES key material already released');
    return this.#raw;
  }

  /** Once both forms exist, the raw bytes are no longer needed: wipe our copy. */
  #forgetRawWhenComplete(): void {
    if (this.#expanded !== undefined && this.#imported && this.#raw !== undefined) {
      this.#raw.fill(0);
      this.#raw = undefined;
    }
  }
}

export function createWebBackend({
  aesInJsUpToBytes,
  pbkdf2InJsUpToIterations,
}: WebBackendOptions): CryptoBackend {
  const randomBytes = createRandomPool((target) => globalThis.crypto.getRandomValues(target));
  // Keyed passwords kept: as many as the engine keeps secrets by default.
  const pbkdf2Js = new Pbkdf2Sha1(32);
  // Keys are derived here, by size: every key keeps what it needs, and these are wiped
  // after each.
  const scratch16 = new Uint8Array(16);
  const scratch32 = new Uint8Array(32);
  function importKey(raw: Uint8Array, algorithm: KeyAlgorithm): HmacKey | WebAesKey {
    return algorithm === 'sha256' ? createHmacKey(raw) : new WebAesKey(raw, algorithm);
  }
  /** Imports derived key bytes, then wipes them: the key keeps its own copy. */
  function importDerived(raw: Uint8Array, algorithm: KeyAlgorithm): HmacKey | WebAesKey {
    const key = importKey(raw, algorithm);
    raw.fill(0);
    return key;
  }

  return {
    name: 'web',
    randomBytes,
    syncDerivationIterations: pbkdf2InJsUpToIterations,
    deriveKey(password, salt, iterations, algorithm): MaybePromise<HmacKey | WebAesKey> {
      const size = KEY_BYTES[algorithm];
      if (iterations <= pbkdf2InJsUpToIterations) {
        const scratch = size === 16 ? scratch16 : scratch32;
        const raw = pbkdf2Js.deriveInto(password, salt, iterations, scratch);
        return importDerived(raw, algorithm);
      }
      // Async, so that a failure (an iteration count WebCrypto refuses) is a rejection.
      return (async () => {
        const base = await subtle().importKey('raw', encoder.encode(password), 'PBKDF2', false, [
          'deriveBits',
        ]);
        const bits = await subtle().deriveBits(
          { name: 'PBKDF2', hash: 'SHA-1', salt: encoder.encode(salt), iterations },
          base,
          size * 8,
        );
        return importDerived(new Uint8Array(bits), algorithm);
      })();
    },
    importKey,
    mac(key, data) {
      return encodeBase64url(hmacSha256Utf8(key as HmacKey, data));
    },
    encrypt(algorithm, key, iv, plaintext): MaybePromise<string> {
      const aes = key as WebAesKey;
      const data = encoder.encode(plaintext);
      if (data.length <= aesInJsUpToBytes) {
        const sealed =
          algorithm === 'aes-128-ctr'
            ? ctrXor(aes.expanded, iv, data)
            : cbcEncrypt(aes.expanded, iv, data);
        return encodeBase64url(sealed);
      }
      return aes.cryptoKey.then(async (cryptoKey) => {
        const sealed = await subtle().encrypt(
          cipherParams(algorithm as AesAlgorithm, iv),
          cryptoKey,
          data,
        );
        return encodeBase64url(new Uint8Array(sealed));
      });
    },
    decrypt(algorithm, key, iv, ciphertext): MaybePromise<string | undefined> {
      const aes = key as WebAesKey;
      const ivBytes = decodeBase64url(iv);
      const data = decodeBase64url(ciphertext);
      if (ivBytes?.length !== IV_BYTES || data === undefined) return undefined;
      if (data.length <= aesInJsUpToBytes) {
        const opened =
          algorithm === 'aes-128-ctr'
            ? ctrXor(aes.expanded, ivBytes, data)
            : cbcDecrypt(aes.expanded, ivBytes, data);
        return opened === undefined ? undefined : decoder.decode(opened);
      }
      return aes.cryptoKey.then(async (cryptoKey) => {
        try {
          const opened = await subtle().decrypt(
            cipherParams(algorithm as AesAlgorithm, ivBytes),
            cryptoKey,
            plain(data),
          );
          return decoder.decode(opened);
        } catch {
          return undefined;
        }
      });
    },
  };
}

/**
 * For browsers, generic workers and unknown runtimes: JS AES up to 512 bytes. The bound
 * comes from timing JS AES-256-CBC per block against one `crypto.subtle` call on Node
 * (bench/results/NOTES.md): JS stays cheaper well past 512 bytes, which keeps a margin.
 * PBKDF2 in JS up to 32 iterations, the node backend's bound for the same code: a token
 * with new salts holds the thread no longer than there, and a `crypto.subtle` derivation
 * costs more than that in its round trip alone.
 */
export const webBackend: CryptoBackend = createWebBackend({
  aesInJsUpToBytes: 512,
  pbkdf2InJsUpToIterations: 32,
});

/**
 * For workerd, where a `crypto.subtle` call is cheap native code: AES always in WebCrypto,
 * and PBKDF2 in JS only for the few iterations where two calls and their promises cost
 * more than the hashing.
 */
export const workerdBackend: CryptoBackend = createWebBackend({
  aesInJsUpToBytes: 0,
  pbkdf2InJsUpToIterations: 8,
});
