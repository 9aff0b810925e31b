/**
 * The Fe26.2 engine, written once over a {@link CryptoBackend}: `seal` and `unseal`, in the
 * order they check and compute. It owns the validation order, password rotation and errors;
 * the rest sits beside it:
 *
 * - format.ts: the token grammar;
 * - key-cache.ts: derived keys, sealing salts, and the limits on deriving keys for tokens
 *   not yet verified;
 * - verified-tokens.ts: tokens already verified, answered without crypto;
 * - options.ts, password.ts, json.ts: options, password shapes, lossless and safe JSON.
 *
 * Validation order on unseal: token grammar (no key work for garbage) → password id →
 * MAC in constant time → expiration → decryption → safe JSON parse. The expiration is
 * trusted only after the MAC, so "expired" always describes an authentic token. A token
 * in the verified-token cache skips the crypto: its secrets are looked up by its password
 * id and compared with those it verified under, then its expiration is checked.
 */
import { SessionError } from '../errors.js';
import { encodeBase64url } from '../internal/base64url.js';
import { equalStrings } from '../internal/constant-time.js';
import { chain, toPromiseLate, type MaybePromise } from '../internal/maybe-promise.js';
import { withoutStack } from '../internal/stackless.js';
import type { CryptoBackend } from './backend/types.js';
import { MAC_PREFIX, decodedLength, invalidToken, parseToken } from './format.js';
import { parseSafe, stringifyLossless } from './json.js';
import { KeyCache } from './key-cache.js';
import { resolveOptions, type ResolvedOptions, type SealOptionsInput } from './options.js';
import {
  assertSecretUsable,
  passwordForSeal,
  passwordForUnseal,
  type PasswordInput,
} from './password.js';
import { VerifiedTokens } from './verified-tokens.js';

/** The sealing functions bound to one backend. */
export interface Iron {
  /** Name of the crypto backend in use. */
  readonly backend: CryptoBackend['name'];
  seal(object: unknown, password: PasswordInput, options?: SealOptionsInput): Promise<string>;
  /**
   * Seals with an expiration given as a time (ms since the epoch) instead of `ttl`: the
   * session engine uses it so a token expires exactly when its session does.
   */
  sealUntil(
    object: unknown,
    password: PasswordInput,
    options: SealOptionsInput | undefined,
    expiresAt: number,
  ): Promise<string>;
  unseal(token: string, password: PasswordInput, options?: SealOptionsInput): Promise<unknown>;
  /**
   * As `unseal`, but answers synchronously when the backend does (node:crypto, unless a
   * key must be derived with many PBKDF2 iterations), and throws instead of rejecting
   * then: the session engine's per-request path, where each promise hop is a measurable
   * share of the cost.
   */
  unsealEager(
    token: string,
    password: PasswordInput,
    options?: SealOptionsInput,
  ): MaybePromise<unknown>;
  /**
   * Sets how many asynchronous derivations of unverified tokens' MAC keys may run at once
   * (`IronLimits.unverifiedDerivations`); derivations already running go on, and tokens
   * waiting start when it rises.
   *
   * @throws SessionError `ERR_OPTIONS_INVALID` unless `limit` is a positive integer
   */
  setDerivationLimit(limit: number): void;
  /**
   * Random bytes from the backend's pool (refilled in each process started from a startup
   * snapshot): the session layer makes its default ids from them.
   */
  randomBytes(size: number): Uint8Array;
}

/** Bounds of the engine's caches; every one is fixed, whatever the traffic. */
export interface IronLimits {
  /** Secrets whose keys are kept (string and byte secrets each). */
  readonly secrets: number;
  /**
   * Derived keys kept per secret, for each algorithm and iteration count the options use
   * (one key per salt).
   */
  readonly keysPerSecret: number;
  /** Verified tokens kept, with their plaintext. */
  readonly verifiedTokens: number;
  /** Longest token the verified-token cache keeps. */
  readonly verifiedTokenLength: number;
  /**
   * Derivations of unverified tokens' MAC keys shared while they run, per secret, where the
   * backend has no clock (with one, every derivation running or waiting is shared).
   */
  readonly sharedDerivations: number;
  /**
   * Asynchronous derivations of unverified tokens' MAC keys running at once, whatever the
   * secret. Where the backend has a `clock`, a token that needs one more waits, in order,
   * and so does one arriving while the derivations have used their share of time (below);
   * past `unverifiedDerivationsWaiting` waiting, and at once where the backend has no
   * clock, it is refused with ERR_DERIVATION_LIMIT.
   */
  readonly unverifiedDerivations: number;
  /**
   * The share of wall time those asynchronous derivations may take on average, in threads
   * (0.5: half of one thread), each charged the time it took (src/internal/time-share.ts).
   */
  readonly unverifiedDerivationShare: number;
  /** Milliseconds of derivation time the share holds when unused, for a burst at once. */
  readonly unverifiedDerivationBurstMs: number;
  /**
   * Synchronous derivations of unverified tokens' MAC keys started in one turn of the event
   * loop (where the backend has `scheduleTurn`); the tokens past it wait for the next turns,
   * in order (src/internal/turn-budget.ts), so a flood of forged tokens cannot take the
   * turns the valid requests need.
   */
  readonly unverifiedDerivationsPerTurn: number;
  /**
   * Tokens waiting for such a turn at most; past it a token is checked at once, as without
   * the budget (the queue stays bounded, and no token is refused for it). The same bound
   * holds for tokens waiting for an asynchronous derivation; past it they are refused.
   */
  readonly unverifiedDerivationsWaiting: number;
  /** A sealing salt (and its key) is reused for at most this many seals... */
  readonly saltReuseCount: number;
  /** ...and at most this many milliseconds. */
  readonly saltReuseMs: number;
}

export const defaultLimits: IronLimits = Object.freeze({
  secrets: 32,
  keysPerSecret: 256,
  verifiedTokens: 1024,
  verifiedTokenLength: 4096,
  sharedDerivations: 64,
  // Four times libuv's default thread pool (4 threads): enough to keep the pool busy in a
  // burst (a restart's new cookies, within the share's burst below), while fs, dns and zlib
  // work queued behind them waits for at most about four rounds of derivations. In a flood
  // the share lets about one run at a time. Legitimate tokens rarely need one: keys of this
  // process's own sealing salts are cached, a peer's salt is derived once, and parallel
  // requests share a run.
  unverifiedDerivations: 16,
  // A flood of forged tokens at h3 2.x's 8192 iterations keeps every slot full: without a
  // share, the pool's threads took most of two cores and left the valid requests a tenth of
  // their throughput. With a share of 1, 0.5 and 0.25 thread they kept 0.45, 0.69 to 0.74
  // and 0.94 of it, while the forged tokens were checked at about 200, 90 and 27 a second
  // (RELIABILITY.md: Floods). Half a thread keeps the valid traffic well above its fair
  // share and still checks the salts a restart finds new at 8192 iterations about 90 a
  // second, after 250 ms of derivation time at once when the process has been quiet.
  unverifiedDerivationShare: 0.5,
  unverifiedDerivationBurstMs: 250,
  // A forged token's request costs a few valid ones. Four a turn leave most of a busy turn
  // to requests with known keys, also in store mode, where each valid request spans more
  // turns (a flood's valid share, cookie mode: 0.2 without the budget, 0.65 to 0.68 with 4,
  // 0.56 to 0.58 with 8; store mode: 0.50 to 0.56 with 4, 0.39 with 8), and cost a loop of
  // sequential unseals of never-seen tokens one turn per four, about 10% (RELIABILITY.md:
  // Floods; bench/results/NOTES.md).
  unverifiedDerivationsPerTurn: 4,
  // Each waiting token holds its request (and its token, up to 32 KB): 1024 bound that to
  // a few MiB, and are 256 turns of the budget. The same bound holds for the tokens waiting
  // for the share of time, so the two queues hold 2048 requests at most.
  unverifiedDerivationsWaiting: 1024,
  saltReuseCount: 10_000,
  saltReuseMs: 60_000,
});

// Refusals anyone can cause with a token of their own: made without a stack (stackless.ts).
const unsealFailed = (): SessionError =>
  withoutStack(
    () =>
      new SessionError('ERR_SEAL_UNSEAL_FAILED', 'The token does not verify with this password'),
  );
const expired = (): SessionError =>
  withoutStack(() => new SessionError('ERR_SEAL_EXPIRED', 'The token has expired'));

/** Refuses an expiration (0: none) that has passed, allowing the options' clock skew. */
function checkExpiration(expiration: number, now: number, options: ResolvedOptions): void {
  if (expiration !== 0 && expiration <= now - options.timestampSkewSec * 1000) throw expired();
}

/** Creates the seal/unseal pair over `backend`, with its own bounded caches. */
export function createIron(backend: CryptoBackend, limits: IronLimits = defaultLimits): Iron {
  const verified = new VerifiedTokens(limits.verifiedTokens, limits.verifiedTokenLength);
  const keys = new KeyCache(backend, limits);

  // A startup snapshot copies this heap into every process started from it. Backend keys
  // hold platform handles no snapshot can carry, and processes sharing a copied sealing salt
  // would seal under the same salt: each such process starts with empty caches.
  backend.beforeSnapshot?.(() => {
    keys.clear();
    verified.clear();
  });

  function sealNow(
    object: unknown,
    password: PasswordInput,
    input: SealOptionsInput | undefined,
    expiresAt?: number,
  ): MaybePromise<string> {
    const options = resolveOptions(input);
    const now = Date.now() + options.localtimeOffsetMsec;
    const plaintext = stringifyLossless(object);
    const pw = passwordForSeal(password);
    const encAlgorithm = options.encryption.algorithm;
    const enc = keys.sealingKey(pw.encryption, encAlgorithm, options.encryption, now);
    const mac = keys.sealingKey(pw.integrity, 'sha256', options.integrity, now);
    const iv = options.encryption.iv ?? backend.randomBytes(16);
    const expiration =
      expiresAt !== undefined
        ? Math.max(1, Math.floor(expiresAt))
        : options.ttl > 0
          ? Math.floor(now + options.ttl)
          : 0;

    return chain(enc.key, (encKey) =>
      chain(backend.encrypt(encAlgorithm, encKey, iv, plaintext), (ciphertext) => {
        const macBase = `${MAC_PREFIX}*${pw.id}*${enc.salt}*${encodeBase64url(iv)}*${ciphertext}*${expiration === 0 ? '' : expiration}`;
        return chain(mac.key, (macKey) =>
          chain(backend.mac(macKey, macBase), (digest) => {
            const token = `${macBase}*${mac.salt}*${digest}`;
            verified.remember(token, digest, pw, options.fingerprint, expiration, plaintext);
            return token;
          }),
        );
      }),
    );
  }

  function unsealNow(
    token: string,
    password: PasswordInput,
    input: SealOptionsInput | undefined,
  ): MaybePromise<unknown> {
    const options = resolveOptions(input);
    const now = Date.now() + options.localtimeOffsetMsec;
    if (typeof token !== 'string') throw invalidToken();

    // Already verified under the same secrets and options: no crypto, straight to the
    // expiration, and a fresh copy of the data for each caller.
    const known = verified.find(token, password, options.fingerprint);
    if (known !== undefined) {
      checkExpiration(known.expiration, now, options);
      return verified.data(known);
    }

    // Grammar: every field, before any key work.
    const parsed = parseToken(token);
    if (parsed === undefined) throw invalidToken();
    const encAlgorithm = options.encryption.algorithm;
    // CBC ciphertext is whole 16-byte blocks; CTR ciphertext has the plaintext's length.
    if (encAlgorithm === 'aes-256-cbc' && decodedLength(parsed.ciphertext) % 16 !== 0) {
      throw invalidToken();
    }

    // Password id: the secrets the token names, usable under these options.
    const pw = passwordForUnseal(password, parsed.passwordId);
    assertSecretUsable(pw.integrity, 'sha256', options.integrity);
    assertSecretUsable(pw.encryption, encAlgorithm, options.encryption);
    // A string secret needs the salt to derive its key; a token without one cannot verify.
    // A byte secret is the key itself, and every iron sealer leaves its salt empty: the MAC
    // salt is not under the MAC, so a salt there can only be a changed token (one session
    // would otherwise have endless spellings, each taking a cache entry).
    if (
      (typeof pw.integrity === 'string') === (parsed.hmacSalt === '') ||
      (typeof pw.encryption === 'string') === (parsed.encryptionSalt === '')
    ) {
      throw unsealFailed();
    }

    // MAC, compared in constant time.
    const macIterations = options.integrity.iterations;
    const cachedMacKey = keys.cached(pw.integrity, 'sha256', macIterations, parsed.hmacSalt);
    const macKey =
      cachedMacKey ?? keys.unverifiedMacKey(pw.integrity, macIterations, parsed.hmacSalt);
    return chain(macKey, (key) =>
      chain(backend.mac(key, parsed.macBase), (digest) => {
        if (!equalStrings(digest, parsed.hmac)) throw unsealFailed();
        // Only keys of authentic tokens are cached: random tokens cannot churn the cache.
        if (cachedMacKey === undefined) {
          keys.remember(pw.integrity, 'sha256', macIterations, parsed.hmacSalt, key);
        }

        // Expiration, now that it is authentic.
        checkExpiration(parsed.expiration, now, options);

        // Decryption, then safe JSON.
        const encKey = keys.keyFor(
          pw.encryption,
          encAlgorithm,
          options.encryption,
          parsed.encryptionSalt,
        );
        return chain(encKey, (decryptKey) =>
          chain(
            backend.decrypt(encAlgorithm, decryptKey, parsed.iv, parsed.ciphertext),
            (plaintext) => {
              if (plaintext === undefined) throw unsealFailed();
              const value = parseSafe(plaintext);
              verified.remember(
                token,
                parsed.hmac,
                pw,
                options.fingerprint,
                parsed.expiration,
                plaintext,
              );
              return value;
            },
          ),
        );
      }),
    );
  }

  return {
    backend: backend.name,
    seal: (object, password, options) =>
      toPromiseLate(() => guard(() => sealNow(object, password, options))),
    sealUntil: (object, password, options, expiresAt) =>
      toPromiseLate(() => guard(() => sealNow(object, password, options, expiresAt))),
    unseal: (token, password, options) =>
      toPromiseLate(() => guard(() => unsealNow(token, password, options))),
    unsealEager: (token, password, options) => guard(() => unsealNow(token, password, options)),
    setDerivationLimit(limit) {
      keys.setDerivationLimit(limit);
    },
    randomBytes: (size) => backend.randomBytes(size),
  };
}

/**
 * Lets SessionErrors through and wraps anything else a platform throws (a crypto provider
 * failing, say) as ERR_CRYPTO, so callers only ever see SessionError.
 */
function guard<T>(run: () => MaybePromise<T>): MaybePromise<T> {
  try {
    const result = run();
    return result instanceof Promise
      ? result.catch((error: unknown) => {
          throw wrap(error);
        })
      : result;
  } catch (error) {
    throw wrap(error);
  }
}

function wrap(error: unknown): SessionError {
  return error instanceof SessionError
    ? error
    : new SessionError('ERR_CRYPTO', 'A crypto operation failed', { cause: error });
}
