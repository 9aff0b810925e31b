/**
 * What the Fe26.2 engine needs from a crypto platform (node:crypto, WebCrypto), and the key
 * sizes of iron's algorithms.
 */
import type { MaybePromise } from '../../internal/maybe-promise.js';
import type { Clock } from '../../internal/time-share.js';
import type { ScheduleTurn } from '../../internal/turn-budget.js';

/** The iron algorithm a key is for; it fixes the key length and how the key is used. */
export type KeyAlgorithm = 'aes-256-cbc' | 'aes-128-ctr' | 'sha256';

/** A key prepared by a backend (a node KeyObject, a WebCrypto CryptoKey); opaque to the engine. */
export type BackendKey = object;

/**
 * The few primitives Fe26.2 needs. Everything else (format, validation order, rotation,
 * errors, caching) lives once in the engine. Methods may answer synchronously (node:crypto)
 * or with a promise (WebCrypto); the engine handles both without extra awaits.
 *
 * Failures of `decrypt` are reported as `undefined`, never thrown, so the engine can turn
 * MAC and decryption failures into one error code.
 */
export interface CryptoBackend {
  /** Short name, reported by `sealed-session/iron`'s `backend` export. */
  readonly name: 'node' | 'web';
  /** Cryptographically strong random bytes. */
  randomBytes(size: number): Uint8Array;
  /**
   * `deriveKey` answers synchronously up to this many iterations and with a promise above
   * (0: always a promise). The engine needs to know before it asks, to hold back (or
   * refuse) a derivation past its limits instead of starting it.
   */
  readonly syncDerivationIterations: number;
  /**
   * Where the heap can be written into a startup snapshot that new processes start from
   * (Node's `--build-snapshot`), registers `callback` to run just before it is written.
   * Absent where there are no such snapshots; a no-op unless one is being built.
   */
  beforeSnapshot?(callback: () => void): void;
  /**
   * Where synchronous derivations share their thread with the requests an event loop
   * serves, and a callback scheduled for a later turn always runs (Node, Bun, Deno): how
   * to schedule one. The engine then lets only so many derivations for unverified tokens
   * start in one turn (src/internal/turn-budget.ts). Absent (workerd cancels a request's
   * timers when it ends, so a scheduled turn could be lost): no such budget.
   */
  readonly scheduleTurn?: ScheduleTurn;
  /**
   * Where a timer fires whoever set it (Node, Bun, Deno): a clock and such timers. The
   * engine then holds asynchronous derivations for unverified tokens to a share of time,
   * and tokens past the limit wait for it (src/internal/time-share.ts). Absent (workerd
   * cancels a request's timers when it ends): such tokens past the limit are refused.
   */
  readonly clock?: Clock;
  /** PBKDF2-HMAC-SHA1(password UTF-8, salt = UTF-8 of the salt text), imported for `algorithm`. */
  deriveKey(
    password: string,
    salt: string,
    iterations: number,
    algorithm: KeyAlgorithm,
  ): MaybePromise<BackendKey>;
  /** Imports raw key bytes for `algorithm`; the engine has checked the length. */
  importKey(raw: Uint8Array, algorithm: KeyAlgorithm): MaybePromise<BackendKey>;
  /** HMAC-SHA256 of the UTF-8 bytes of `data`, base64url without padding. */
  mac(key: BackendKey, data: string): MaybePromise<string>;
  /** Encrypts the UTF-8 bytes of `plaintext`; returns the ciphertext in base64url. */
  encrypt(
    algorithm: KeyAlgorithm,
    key: BackendKey,
    iv: Uint8Array,
    plaintext: string,
  ): MaybePromise<string>;
  /** Decrypts base64url `ciphertext` with base64url `iv`; `undefined` when it fails. */
  decrypt(
    algorithm: KeyAlgorithm,
    key: BackendKey,
    iv: string,
    ciphertext: string,
  ): MaybePromise<string | undefined>;
}

/** Key and IV sizes of each iron algorithm, in bytes. */
export const KEY_BYTES: Readonly<Record<KeyAlgorithm, number>> = Object.freeze({
  'aes-256-cbc': 32,
  'aes-128-ctr': 16,
  sha256: 32,
});
