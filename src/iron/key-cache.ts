/**
 * The engine's keys: every key it derives (PBKDF2, string secrets) or imports (byte
 * secrets), kept per secret so a session password and its salts cost one derivation, not
 * one per token. Four mechanisms live here, each bounded whatever the traffic:
 *
 * - key caches: per secret, the keys by algorithm, iterations and salt (the first two
 *   come from the options, never from a token, so only salts vary with the traffic);
 * - the last-key memo: per algorithm, the last key used with a string secret, answering
 *   the lookup nearly every request makes without building a cache key;
 * - sealing-salt reuse: a random salt is reused for a while, so sealing needs no
 *   derivation per token;
 * - MAC keys of tokens not yet verified: never cached until their MAC verifies, but an
 *   asynchronous derivation is shared while it runs (or waits), only so many run at once,
 *   within a share of time, and synchronous ones have a budget per turn of the event loop.
 */
import { SessionError } from '../errors.js';
import { encodeBase64url } from '../internal/base64url.js';
import { LruCache } from '../internal/lru.js';
import { TimeShare } from '../internal/time-share.js';
import { TurnBudget } from '../internal/turn-budget.js';
import { withoutStack } from '../internal/stackless.js';
import type { MaybePromise } from '../internal/maybe-promise.js';
import type { BackendKey, CryptoBackend, KeyAlgorithm } from './backend/types.js';
import type { IronLimits } from './create-iron.js';
import type { SealOptionsSub } from './options.js';
import { assertSecretUsable, type RawPassword } from './password.js';

/** The limits the key cache enforces. */
export type KeyCacheLimits = Pick<
  IronLimits,
  | 'secrets'
  | 'keysPerSecret'
  | 'sharedDerivations'
  | 'unverifiedDerivations'
  | 'unverifiedDerivationShare'
  | 'unverifiedDerivationBurstMs'
  | 'unverifiedDerivationsPerTurn'
  | 'unverifiedDerivationsWaiting'
  | 'saltReuseCount'
  | 'saltReuseMs'
>;

/** A key to seal with, and the salt to write into the token for it. */
export interface SealingKey {
  /** Hex text; empty for a byte secret, which needs no salt. */
  readonly salt: string;
  readonly key: MaybePromise<BackendKey>;
}

/** A random salt being reused for sealing; its key lives in the key cache. */
interface SealingSalt {
  readonly salt: string;
  readonly born: number;
  uses: number;
}

/** Keys of one algorithm and iteration count, by salt. */
type SaltKeys = LruCache<string, MaybePromise<BackendKey>>;

/** Keys of one secret. */
interface SecretKeys {
  /**
   * Derived (string secret) or imported (byte secret) keys by algorithm, iterations and
   * salt. Nested maps, not one map under a composite key: a never-seen token would build
   * and hash such a key several times over.
   */
  readonly keys: Map<KeyAlgorithm, Map<number, SaltKeys>>;
  /** The salt currently reused for sealing, by algorithm, iterations and salt size. */
  readonly sealing: Map<string, SealingSalt>;
  /** MAC keys of unverified tokens still being derived (asynchronously), by iterations and salt. */
  readonly deriving: Map<string, Promise<BackendKey>>;
}

/** The last key used for one algorithm with a string secret. */
interface LastKey {
  readonly secret: string;
  readonly iterations: number;
  readonly salt: string;
  key: MaybePromise<BackendKey>;
}

// Made without a stack: it is how a flood of forged tokens is answered (see stackless.ts).
const derivationLimited = (): SessionError =>
  withoutStack(
    () =>
      new SessionError(
        'ERR_DERIVATION_LIMIT',
        'Too many unverified tokens need a key derivation; the token was not checked',
      ),
  );

/** Validates a derivation limit; the one rule for the engine's limits and the setter. */
function checkDerivationLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new SessionError(
      'ERR_OPTIONS_INVALID',
      'Invalid iron options: the derivation limit must be a positive integer',
    );
  }
  return limit;
}

/** The keys of one engine, over its backend. */
export class KeyCache {
  readonly #backend: CryptoBackend;
  readonly #limits: KeyCacheLimits;
  // Byte secrets are keyed by their content, never by the array: a caller may refill the
  // same buffer with a new key, and the old key's entries must not answer for the new one.
  readonly #stringSecrets: LruCache<string, SecretKeys>;
  readonly #byteSecrets: LruCache<string, SecretKeys>;
  // One session password and one sealing salt make nearly every lookup the same: this
  // answers it without building a cache key or touching the caches.
  readonly #lastKeys = new Map<KeyAlgorithm, LastKey>();
  // The string secret looked up last, and its keys: a token's MAC and encryption keys, and
  // caching them, look the same secret up several times in a row.
  #lastSecret: string | undefined;
  #lastSecretKeys: SecretKeys | undefined;
  #derivationLimit: number;
  /**
   * Asynchronous derivations of unverified tokens' MAC keys running now, where the backend
   * has no clock (past the limit a token is refused at once).
   */
  #derivationsRunning = 0;
  /**
   * Asynchronous derivations of unverified tokens' MAC keys, held to a share of time, where
   * the backend has a clock (past the limit a token waits).
   */
  readonly #asyncDerivations: TimeShare | undefined;
  /**
   * Synchronous derivations of unverified tokens' MAC keys, spread over turns; none where
   * the backend has no turns to spread them over.
   */
  readonly #syncDerivations: TurnBudget | undefined;

  /**
   * @throws RangeError when a cache bound is not an integer of at least 2
   * @throws SessionError `ERR_OPTIONS_INVALID` unless `unverifiedDerivations` is a positive
   *   integer
   */
  constructor(backend: CryptoBackend, limits: KeyCacheLimits) {
    this.#backend = backend;
    this.#limits = limits;
    this.#stringSecrets = new LruCache(limits.secrets);
    this.#byteSecrets = new LruCache(limits.secrets);
    this.#derivationLimit = checkDerivationLimit(limits.unverifiedDerivations);
    this.#syncDerivations =
      backend.scheduleTurn === undefined
        ? undefined
        : new TurnBudget(
            limits.unverifiedDerivationsPerTurn,
            limits.unverifiedDerivationsWaiting,
            backend.scheduleTurn,
          );
    this.#asyncDerivations =
      backend.clock === undefined
        ? undefined
        : new TimeShare(
            {
              running: this.#derivationLimit,
              share: limits.unverifiedDerivationShare,
              burstMs: limits.unverifiedDerivationBurstMs,
              maxWaiting: limits.unverifiedDerivationsWaiting,
            },
            backend.clock,
          );
  }

  /**
   * Sets how many asynchronous derivations of unverified tokens' MAC keys may run at once;
   * derivations already running go on.
   *
   * @throws SessionError `ERR_OPTIONS_INVALID` unless `limit` is a positive integer
   */
  setDerivationLimit(limit: number): void {
    this.#derivationLimit = checkDerivationLimit(limit);
    this.#asyncDerivations?.setRunning(limit);
  }

  /** Forgets every key and sealing salt. */
  clear(): void {
    this.#stringSecrets.clear();
    this.#byteSecrets.clear();
    this.#lastKeys.clear();
    this.#lastSecret = undefined;
    this.#lastSecretKeys = undefined;
  }

  /** A cached key for `salt`, or undefined. */
  cached(
    secret: RawPassword,
    algorithm: KeyAlgorithm,
    iterations: number,
    salt: string,
  ): MaybePromise<BackendKey> | undefined {
    const last = this.#lastKeys.get(algorithm);
    if (
      last !== undefined &&
      last.secret === secret &&
      last.salt === salt &&
      last.iterations === iterations
    ) {
      return last.key;
    }
    return this.#saltKeys(this.#keysOf(secret), algorithm, iterations)?.get(salt);
  }

  /** The key for `salt`, from the cache or newly made and cached. */
  keyFor(
    secret: RawPassword,
    algorithm: KeyAlgorithm,
    sub: SealOptionsSub,
    salt: string,
  ): MaybePromise<BackendKey> {
    const cached = this.cached(secret, algorithm, sub.iterations, salt);
    if (cached !== undefined) return cached;
    const made = this.#make(secret, algorithm, sub.iterations, salt);
    this.remember(secret, algorithm, sub.iterations, salt, made);
    return made;
  }

  /** Caches `key`, also as the last key of `algorithm` when the secret is a string. */
  remember(
    secret: RawPassword,
    algorithm: KeyAlgorithm,
    iterations: number,
    salt: string,
    key: MaybePromise<BackendKey>,
  ): void {
    const entry = this.#keysOf(secret);
    let byIterations = entry.keys.get(algorithm);
    if (byIterations === undefined) {
      byIterations = new Map<number, SaltKeys>();
      entry.keys.set(algorithm, byIterations);
    }
    let keys = byIterations.get(iterations);
    if (keys === undefined) {
      keys = new LruCache<string, MaybePromise<BackendKey>>(this.#limits.keysPerSecret);
      byIterations.set(iterations, keys);
    }
    const lastKeys = this.#lastKeys;
    keys.set(salt, key);
    if (typeof secret === 'string') lastKeys.set(algorithm, { secret, iterations, salt, key });
    if (key instanceof Promise) {
      const saltKeys = keys;
      key.then(
        // Once derived, the key itself replaces the promise: later uses need no microtask.
        (ready) => {
          if (saltKeys.get(salt) === key) saltKeys.set(salt, ready);
          const last = lastKeys.get(algorithm);
          if (last?.key === key) last.key = ready;
        },
        // A failed asynchronous derivation must not stay cached.
        () => {
          saltKeys.delete(salt);
          if (lastKeys.get(algorithm)?.key === key) lastKeys.delete(algorithm);
        },
      );
    }
  }

  /**
   * The MAC key of a token not yet verified. It is cached only once the MAC verifies (the
   * caller then calls {@link remember}: forged tokens must not fill the key cache), but an
   * asynchronous derivation (many PBKDF2 iterations, or a byte secret imported by a
   * backend that answers with a promise) is shared while it runs: a page's parallel
   * requests carrying one new cookie derive its key once. At most `sharedDerivations` per
   * secret where the backend has no clock (with one, the share of time bounds them: at most
   * the limit running and `unverifiedDerivationsWaiting` waiting); each entry leaves when
   * its derivation settles.
   *
   * Anyone can send tokens with fresh salts, each costing a derivation. Asynchronous ones
   * run where other work waits for them (libuv's thread pool serves fs, dns and zlib too),
   * so at most the derivation limit run at once. Where the backend has a clock, they also
   * take at most `unverifiedDerivationShare` of the time (src/internal/time-share.ts): a
   * limit alone still lets a flood keep the pool's threads busy all the time, and they take
   * the cores the event loop needs. A token past either waits in this queue, not in the
   * pool's, so work behind it in the pool does not wait for it, and a flood's requests come
   * no faster than the share lets them through; past `unverifiedDerivationsWaiting`
   * waiting, and at once where there is no clock, it is refused. Joining a running (or
   * waiting) derivation costs nothing and is never refused.
   *
   * Synchronous ones (iron's default of one iteration) run on the caller's thread, where
   * they compete with every other request for the event loop: where the backend has turns
   * (`scheduleTurn`), at most `unverifiedDerivationsPerTurn` start in one turn, and the
   * tokens past it wait for the next turns in order. Requests with known keys go first;
   * every token is still checked, and none is refused for it (past
   * `unverifiedDerivationsWaiting` waiting, a token is checked at once).
   *
   * @throws SessionError `ERR_DERIVATION_LIMIT`
   */
  unverifiedMacKey(
    secret: RawPassword,
    iterations: number,
    salt: string,
  ): MaybePromise<BackendKey> {
    const derives = typeof secret === 'string';
    // A synchronous derivation is over before anyone could share it.
    if (derives && iterations <= this.#backend.syncDerivationIterations) {
      const admitted = this.#syncDerivations?.admit() ?? true;
      if (admitted === true) return this.#make(secret, 'sha256', iterations, salt);
      return admitted.then(() => this.#make(secret, 'sha256', iterations, salt));
    }
    const entry = this.#keysOf(secret);
    const cacheKey = `${iterations}|${salt}`;
    const running = entry.deriving.get(cacheKey);
    if (running !== undefined) return running;
    if (derives && this.#asyncDerivations !== undefined) {
      const made = this.#asyncDerivations.run(() =>
        Promise.resolve(this.#make(secret, 'sha256', iterations, salt)),
      );
      if (made === undefined) throw derivationLimited();
      // Always shared: the share bounds what runs and waits, whatever the secret, so a
      // flood cannot fill this map and make a page's parallel requests derive one by one.
      entry.deriving.set(cacheKey, made);
      const settled = (): void => {
        entry.deriving.delete(cacheKey);
      };
      made.then(settled, settled);
      return made;
    }
    if (derives && this.#derivationsRunning >= this.#derivationLimit) {
      throw derivationLimited();
    }
    const made = this.#make(secret, 'sha256', iterations, salt);
    if (made instanceof Promise) {
      const shared = entry.deriving.size < this.#limits.sharedDerivations;
      if (shared) entry.deriving.set(cacheKey, made);
      if (derives) this.#derivationsRunning++;
      const settled = (): void => {
        if (shared) entry.deriving.delete(cacheKey);
        if (derives) this.#derivationsRunning--;
      };
      made.then(settled, settled);
    }
    return made;
  }

  /**
   * Salt and key for a new seal: the fixed salt if options give one, else a random one
   * reused for at most `saltReuseCount` seals and `saltReuseMs` milliseconds. `algorithm`
   * is `sub`'s own (`sub` is the encryption or the integrity part of resolved options).
   *
   * @throws SessionError `ERR_PASSWORD_INVALID` when `secret` breaks the rules of `sub`
   */
  sealingKey(
    secret: RawPassword,
    algorithm: KeyAlgorithm,
    sub: SealOptionsSub,
    now: number,
  ): SealingKey {
    assertSecretUsable(secret, algorithm, sub);
    if (typeof secret !== 'string') {
      return { salt: '', key: this.keyFor(secret, algorithm, sub, '') };
    }
    if (sub.salt !== undefined) {
      return { salt: sub.salt, key: this.keyFor(secret, algorithm, sub, sub.salt) };
    }
    const entry = this.#keysOf(secret);
    const slot = sealingSlot(sub);
    let current = entry.sealing.get(slot);
    if (
      current === undefined ||
      current.uses >= this.#limits.saltReuseCount ||
      now - current.born >= this.#limits.saltReuseMs
    ) {
      const salt = toHex(this.#backend.randomBytes(Math.ceil(sub.saltBits / 8)));
      current = { salt, born: now, uses: 0 };
      entry.sealing.set(slot, current);
    }
    current.uses++;
    // Looked up each time (the last-key memo answers it) so a derived key that has
    // resolved is used directly, not through its promise.
    return { salt: current.salt, key: this.keyFor(secret, algorithm, sub, current.salt) };
  }

  #keysOf(secret: RawPassword): SecretKeys {
    if (secret === this.#lastSecret && this.#lastSecretKeys !== undefined) {
      return this.#lastSecretKeys;
    }
    const cache = typeof secret === 'string' ? this.#stringSecrets : this.#byteSecrets;
    const id = typeof secret === 'string' ? secret : encodeBase64url(secret);
    let entry = cache.get(id);
    if (entry === undefined) {
      entry = { keys: new Map(), sealing: new Map(), deriving: new Map() };
      cache.set(id, entry);
    }
    if (typeof secret === 'string') {
      this.#lastSecret = secret;
      this.#lastSecretKeys = entry;
    }
    return entry;
  }

  /** The keys of one algorithm and iteration count of a secret, if it has any. */
  #saltKeys(entry: SecretKeys, algorithm: KeyAlgorithm, iterations: number): SaltKeys | undefined {
    return entry.keys.get(algorithm)?.get(iterations);
  }

  #make(
    secret: RawPassword,
    algorithm: KeyAlgorithm,
    iterations: number,
    salt: string,
  ): MaybePromise<BackendKey> {
    return typeof secret === 'string'
      ? this.#backend.deriveKey(secret, salt, iterations, algorithm)
      : this.#backend.importKey(secret, algorithm);
  }
}

/**
 * Resolved options are frozen and kept per options object, so the same few come back on
 * every seal: each keeps the name of its sealing slot here, instead of the name being
 * written anew twice a seal (measurable in a seal's profile).
 */
const slotNames = new WeakMap<SealOptionsSub, string>();

/**
 * The sealing salt's slot for `sub` (the encryption or the integrity part of resolved
 * options, whose algorithm is the key's): what must match to share a salt.
 */
function sealingSlot(sub: SealOptionsSub): string {
  let name = slotNames.get(sub);
  if (name === undefined) {
    name = `${sub.algorithm}|${sub.iterations}|${sub.saltBits}`;
    slotNames.set(sub, name);
  }
  return name;
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}
