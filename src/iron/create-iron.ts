/**
 * The Fe26.2 engine, written once over a {@link CryptoBackend}. It owns the format, the
 * validation order, password rotation, errors and every cache.
 *
 * Validation order on unseal: token grammar (no key work for garbage) → password id →
 * MAC in constant time → expiration → decryption → safe JSON parse. The expiration is
 * trusted only after the MAC, so "expired" always describes an authentic token.
 */
import { SessionError } from '../errors.js';
import { encodeBase64url } from '../internal/base64url.js';
import { equalStrings } from '../internal/constant-time.js';
import { LruCache } from '../internal/lru.js';
import { chain, toPromise, type MaybePromise } from '../internal/maybe-promise.js';
import type { BackendKey, CryptoBackend, KeyAlgorithm } from './backend/types.js';
import { MAC_PREFIX, decodedLength, parseToken } from './format.js';
import { parseSafe, stringifyLossless } from './json.js';
import {
  resolveOptions,
  type ResolvedOptions,
  type SealOptionsInput,
  type SealOptionsSub,
} from './options.js';
import {
  assertSecretUsable,
  passwordForSeal,
  passwordForUnseal,
  type NormalizedPassword,
  type PasswordInput,
  type RawPassword,
} from './password.js';

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
   * (`IronLimits.unverifiedDerivations`); derivations already running go on.
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
  /** Derived keys kept per secret (one per salt, algorithm and iteration count). */
  readonly keysPerSecret: number;
  /** Verified tokens kept, with their plaintext. */
  readonly verifiedTokens: number;
  /** Longest token the verified-token cache keeps. */
  readonly verifiedTokenLength: number;
  /** Derivations of unverified tokens' MAC keys shared while they run, per secret. */
  readonly sharedDerivations: number;
  /**
   * Asynchronous derivations of unverified tokens' MAC keys running at once, whatever the
   * secret; a token that needs one more is refused with ERR_DERIVATION_LIMIT, not queued.
   */
  readonly unverifiedDerivations: number;
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
  // Four times libuv's default thread pool (4 threads): enough to keep the pool busy, while
  // fs, dns and zlib work queued behind forged tokens waits for at most about four rounds
  // of derivations. Legitimate tokens rarely need one: keys of this process's own sealing
  // salts are cached, a peer's salt is derived once, and parallel requests share a run.
  unverifiedDerivations: 16,
  saltReuseCount: 10_000,
  saltReuseMs: 60_000,
});

/** A random salt being reused for sealing; its key lives in the key cache. */
interface SealingSalt {
  readonly salt: string;
  readonly born: number;
  uses: number;
}

/** Keys of one secret. */
interface SecretKeys {
  /** Derived (string secret) or imported (byte secret) keys by algorithm, iterations and salt. */
  readonly keys: LruCache<string, MaybePromise<BackendKey>>;
  /** The salt currently reused for sealing, by algorithm, iterations and salt size. */
  readonly sealing: Map<string, SealingSalt>;
  /** MAC keys of unverified tokens still being derived (asynchronously), by cache key. */
  readonly deriving: Map<string, Promise<BackendKey>>;
}

/** A token whose MAC verified (or that we sealed), with what it decrypts to. */
interface VerifiedToken {
  readonly token: string;
  readonly passwordId: string;
  readonly encryption: RawPassword;
  readonly integrity: RawPassword;
  readonly fingerprint: string;
  readonly expiration: number;
  readonly plaintext: string;
}

/** Characters of an HMAC-SHA256 digest in base64url without padding: a token's last field. */
const MAC_CHARS = 43;

const invalidToken = (): SessionError =>
  new SessionError('ERR_SEAL_INVALID', 'Not a valid Fe26.2 token');
const unsealFailed = (): SessionError =>
  new SessionError('ERR_SEAL_UNSEAL_FAILED', 'The token does not verify with this password');
const expired = (): SessionError => new SessionError('ERR_SEAL_EXPIRED', 'The token has expired');
const derivationLimited = (): SessionError =>
  new SessionError(
    'ERR_DERIVATION_LIMIT',
    'Too many key derivations for unverified tokens are running; the token was not checked',
  );

/** Validates a derivation limit; the one rule for createIron's limits and the setter. */
function checkDerivationLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new SessionError(
      'ERR_OPTIONS_INVALID',
      'Invalid iron options: the derivation limit must be a positive integer',
    );
  }
  return limit;
}

/** Creates the seal/unseal pair over `backend`, with its own bounded caches. */
export function createIron(backend: CryptoBackend, limits: IronLimits = defaultLimits): Iron {
  // Byte secrets are keyed by their content, never by the array: a caller may refill the
  // same buffer with a new key, and the old key's entries must not answer for the new one.
  const secrets = new LruCache<string, SecretKeys>(limits.secrets);
  const byteSecrets = new LruCache<string, SecretKeys>(limits.secrets);
  // Keyed by the token's MAC (its last 43 characters), not the whole token: hashing a
  // 300-character string on every seal and every miss cost more than the rest of the
  // lookup. A hit still needs the whole token to be equal (`verifiedToken`), so the cache
  // answers exactly as one keyed by the token would.
  const verified = new LruCache<string, VerifiedToken>(limits.verifiedTokens);
  let derivationLimit = checkDerivationLimit(limits.unverifiedDerivations);
  /** Asynchronous derivations of unverified tokens' MAC keys running now. */
  let derivationsRunning = 0;

  function verifiedToken(token: string): VerifiedToken | undefined {
    if (token.length <= MAC_CHARS) return undefined;
    const entry = verified.get(token.slice(-MAC_CHARS));
    return entry?.token === token ? entry : undefined;
  }

  function keysOf(secret: RawPassword): SecretKeys {
    const cache = typeof secret === 'string' ? secrets : byteSecrets;
    const id = typeof secret === 'string' ? secret : encodeBase64url(secret);
    let entry = cache.get(id);
    if (entry === undefined) {
      entry = { keys: new LruCache(limits.keysPerSecret), sealing: new Map(), deriving: new Map() };
      cache.set(id, entry);
    }
    return entry;
  }

  // The last key used per algorithm, for string secrets: one session password and one
  // sealing salt make nearly every lookup the same, and this answers it without building a
  // cache key or touching the caches.
  const lastKeys = new Map<
    KeyAlgorithm,
    { secret: string; iterations: number; salt: string; key: MaybePromise<BackendKey> }
  >();

  /** A cached key for `salt`, or undefined. */
  function cachedKey(
    secret: RawPassword,
    algorithm: KeyAlgorithm,
    iterations: number,
    salt: string,
  ): MaybePromise<BackendKey> | undefined {
    const last = lastKeys.get(algorithm);
    if (
      last !== undefined &&
      last.secret === secret &&
      last.salt === salt &&
      last.iterations === iterations
    ) {
      return last.key;
    }
    return keysOf(secret).keys.get(`${algorithm}|${iterations}|${salt}`);
  }

  function makeKey(
    secret: RawPassword,
    algorithm: KeyAlgorithm,
    iterations: number,
    salt: string,
  ): MaybePromise<BackendKey> {
    return typeof secret === 'string'
      ? backend.deriveKey(secret, salt, iterations, algorithm)
      : backend.importKey(secret, algorithm);
  }

  /** The key for `salt`, from the cache or newly made and cached. */
  function keyFor(
    secret: RawPassword,
    algorithm: KeyAlgorithm,
    sub: SealOptionsSub,
    salt: string,
  ): MaybePromise<BackendKey> {
    const cached = cachedKey(secret, algorithm, sub.iterations, salt);
    if (cached !== undefined) return cached;
    const made = makeKey(secret, algorithm, sub.iterations, salt);
    rememberKey(secret, algorithm, sub.iterations, salt, made);
    return made;
  }

  function rememberKey(
    secret: RawPassword,
    algorithm: KeyAlgorithm,
    iterations: number,
    salt: string,
    key: MaybePromise<BackendKey>,
  ): void {
    const entry = keysOf(secret);
    const cacheKey = `${algorithm}|${iterations}|${salt}`;
    entry.keys.set(cacheKey, key);
    if (typeof secret === 'string') lastKeys.set(algorithm, { secret, iterations, salt, key });
    if (key instanceof Promise) {
      key.then(
        // Once derived, the key itself replaces the promise: later uses need no microtask.
        (ready) => {
          if (entry.keys.get(cacheKey) === key) entry.keys.set(cacheKey, ready);
          const last = lastKeys.get(algorithm);
          if (last?.key === key) last.key = ready;
        },
        // A failed asynchronous derivation must not stay cached.
        () => {
          entry.keys.delete(cacheKey);
          if (lastKeys.get(algorithm)?.key === key) lastKeys.delete(algorithm);
        },
      );
    }
  }

  /**
   * The MAC key of a token not yet verified. It is cached only once the MAC verifies (forged
   * tokens must not fill the key cache), but an asynchronous derivation (WebCrypto, or many
   * PBKDF2 iterations) is shared while it runs: a page's parallel requests carrying one new
   * cookie derive its key once. At most `sharedDerivations` per secret; each entry leaves
   * when its derivation settles.
   *
   * Anyone can send tokens with fresh salts, each costing a derivation. Asynchronous ones
   * run where other work waits for them (libuv's thread pool serves fs, dns and zlib too), so
   * at most `derivationLimit` run at once; a token needing one more is refused at once, as
   * a queue would only move the wait to every request behind it. Joining a running
   * derivation costs nothing and is never refused; synchronous ones are cheap and uncapped.
   */
  function unverifiedMacKey(
    secret: RawPassword,
    iterations: number,
    salt: string,
  ): MaybePromise<BackendKey> {
    const entry = keysOf(secret);
    const cacheKey = `sha256|${iterations}|${salt}`;
    const running = entry.deriving.get(cacheKey);
    if (running !== undefined) return running;
    const derives = typeof secret === 'string';
    if (
      derives &&
      iterations > backend.syncDerivationIterations &&
      derivationsRunning >= derivationLimit
    ) {
      throw derivationLimited();
    }
    const made = makeKey(secret, 'sha256', iterations, salt);
    if (made instanceof Promise) {
      const shared = entry.deriving.size < limits.sharedDerivations;
      if (shared) entry.deriving.set(cacheKey, made);
      if (derives) derivationsRunning++;
      const settled = (): void => {
        if (shared) entry.deriving.delete(cacheKey);
        if (derives) derivationsRunning--;
      };
      made.then(settled, settled);
    }
    return made;
  }

  /** Salt and key for a new seal: the fixed salt if options give one, else a reused random one. */
  function sealingKey(
    secret: RawPassword,
    algorithm: KeyAlgorithm,
    sub: SealOptionsSub,
    now: number,
  ): { salt: string; key: MaybePromise<BackendKey> } {
    assertSecretUsable(secret, algorithm, sub);
    if (typeof secret !== 'string') return { salt: '', key: keyFor(secret, algorithm, sub, '') };
    if (sub.salt !== undefined)
      return { salt: sub.salt, key: keyFor(secret, algorithm, sub, sub.salt) };
    const entry = keysOf(secret);
    const slot = `${algorithm}|${sub.iterations}|${sub.saltBits}`;
    let current = entry.sealing.get(slot);
    if (
      current === undefined ||
      current.uses >= limits.saltReuseCount ||
      now - current.born >= limits.saltReuseMs
    ) {
      const salt = toHex(backend.randomBytes(Math.ceil(sub.saltBits / 8)));
      current = { salt, born: now, uses: 0 };
      entry.sealing.set(slot, current);
    }
    current.uses++;
    // Looked up each time (the last-key memo answers it) so a derived key that has
    // resolved is used directly, not through its promise.
    return { salt: current.salt, key: keyFor(secret, algorithm, sub, current.salt) };
  }

  function checkExpiration(expiration: number, now: number, options: ResolvedOptions): void {
    if (expiration !== 0 && expiration <= now - options.timestampSkewSec * 1000) throw expired();
  }

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
    const enc = sealingKey(pw.encryption, encAlgorithm, options.encryption, now);
    const mac = sealingKey(pw.integrity, 'sha256', options.integrity, now);
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
            remember(token, digest, pw, options, expiration, plaintext);
            return token;
          }),
        );
      }),
    );
  }

  function remember(
    token: string,
    mac: string,
    pw: NormalizedPassword,
    options: ResolvedOptions,
    expiration: number,
    plaintext: string,
  ): void {
    if (token.length > limits.verifiedTokenLength) return;
    verified.set(mac, {
      token,
      passwordId: pw.id,
      encryption: snapshot(pw.encryption),
      integrity: snapshot(pw.integrity),
      fingerprint: options.fingerprint,
      expiration,
      plaintext,
    });
  }

  function unsealNow(
    token: string,
    password: PasswordInput,
    input: SealOptionsInput | undefined,
  ): MaybePromise<unknown> {
    const options = resolveOptions(input);
    const now = Date.now() + options.localtimeOffsetMsec;
    if (typeof token !== 'string') throw invalidToken();

    // The same cookie arrives on every request: a token already verified under the same
    // secrets and options skips the crypto. Expiration is checked again on every hit, and
    // each caller parses its own copy of the data.
    const hit = verifiedToken(token);
    if (hit !== undefined) {
      const pw = passwordForUnseal(password, hit.passwordId);
      if (
        sameSecret(pw.encryption, hit.encryption) &&
        sameSecret(pw.integrity, hit.integrity) &&
        hit.fingerprint === options.fingerprint
      ) {
        checkExpiration(hit.expiration, now, options);
        return parseSafe(hit.plaintext);
      }
    }

    const parsed = parseToken(token);
    if (parsed === undefined) throw invalidToken();
    const encAlgorithm = options.encryption.algorithm;
    if (encAlgorithm === 'aes-256-cbc' && decodedLength(parsed.ciphertext) % 16 !== 0)
      throw invalidToken();
    const pw = passwordForUnseal(password, parsed.passwordId);
    assertSecretUsable(pw.integrity, 'sha256', options.integrity);
    assertSecretUsable(pw.encryption, encAlgorithm, options.encryption);
    // A string secret needs the salt to derive its key; a token without one cannot verify.
    if (
      (typeof pw.integrity === 'string' && parsed.hmacSalt === '') ||
      (typeof pw.encryption === 'string' && parsed.encryptionSalt === '')
    ) {
      throw unsealFailed();
    }

    const macIterations = options.integrity.iterations;
    const cachedMacKey = cachedKey(pw.integrity, 'sha256', macIterations, parsed.hmacSalt);
    const macKey = cachedMacKey ?? unverifiedMacKey(pw.integrity, macIterations, parsed.hmacSalt);
    return chain(macKey, (key) =>
      chain(backend.mac(key, parsed.macBase), (digest) => {
        if (!equalStrings(digest, parsed.hmac)) throw unsealFailed();
        // Only keys of authentic tokens are cached: random tokens cannot churn the cache.
        if (cachedMacKey === undefined) {
          rememberKey(pw.integrity, 'sha256', macIterations, parsed.hmacSalt, key);
        }
        checkExpiration(parsed.expiration, now, options);
        const encKey = keyFor(
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
              remember(token, parsed.hmac, pw, options, parsed.expiration, plaintext);
              return value;
            },
          ),
        );
      }),
    );
  }

  // A startup snapshot copies this heap into every process started from it. Backend keys
  // hold platform handles no snapshot can carry, and processes sharing a copied sealing salt
  // would seal under the same salt: each such process starts with empty caches.
  backend.beforeSnapshot?.(() => {
    secrets.clear();
    byteSecrets.clear();
    verified.clear();
    lastKeys.clear();
  });

  return {
    backend: backend.name,
    seal: (object, password, options) =>
      toPromise(() => guard(() => sealNow(object, password, options))),
    sealUntil: (object, password, options, expiresAt) =>
      toPromise(() => guard(() => sealNow(object, password, options, expiresAt))),
    unseal: (token, password, options) =>
      toPromise(() => guard(() => unsealNow(token, password, options))),
    unsealEager: (token, password, options) => guard(() => unsealNow(token, password, options)),
    setDerivationLimit(limit) {
      derivationLimit = checkDerivationLimit(limit);
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

/**
 * A byte secret is copied (never `Buffer#slice`, a view): the verified-token cache must
 * remember the key, not the buffer.
 */
function snapshot(secret: RawPassword): RawPassword {
  return typeof secret === 'string' ? secret : new Uint8Array(secret);
}

function sameSecret(given: RawPassword, kept: RawPassword): boolean {
  if (typeof given === 'string' || typeof kept === 'string') return given === kept;
  if (given.length !== kept.length) return false;
  for (let i = 0; i < given.length; i++) if (given[i] !== kept[i]) return false;
  return true;
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}
