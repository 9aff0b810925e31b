/**
 * A session configuration, validated once and resolved with every default: each rule it
 * breaks fails at the first call with an error naming the rule, never at the first write.
 */
import { SessionError } from '../errors.js';
import { resolveOptions, type ResolvedOptions, type SealOptionsInput } from '../iron/options.js';
import { assertPasswordUsable, passwordForSeal, type PasswordInput } from '../iron/password.js';
import { compileCookie, type CookieTemplate } from '../cookie/session-cookie.js';
import { validatePurpose } from './purpose.js';
import { STORE_METHODS, type SessionStore } from '../store/store.js';
import type { CookieOptions, SessionConfig, SessionDataT, SessionRejection } from './types.js';

/** A validated configuration with every default applied. */
export interface ResolvedConfig {
  readonly password: PasswordInput;
  /** Password id new tokens are sealed with ('' for none). */
  readonly sealingPasswordId: string;
  readonly name: string;
  /** Lifetime in milliseconds, 0 for none. */
  readonly maxAgeMs: number;
  /** Idle lifetime in milliseconds (from `lastSeenAt`), 0 for none. */
  readonly idleTimeoutMs: number;
  /** iron options to retry a token with at 1 iteration, or undefined for no fallback. */
  readonly legacySeal: SealOptionsInput | undefined;
  /**
   * Tokens expire with the session (the earlier of `createdAt + maxAge` and
   * `lastSeenAt + idleTimeout`): a lifetime is set and no explicit seal.ttl.
   */
  readonly expiresWithSession: boolean;
  /** The cookie attributes (without the value options below). */
  readonly cookie: false | Readonly<CookieOptions>;
  /** Longest value of one cookie before the session is split into chunks. */
  readonly chunkMaxLength: number;
  /** `cookie.encode`, applied to each cookie value written (`cookie.stringify` needs none). */
  readonly encodeValue: ((value: string) => string) | undefined;
  /** The session cookie's prepared Set-Cookie header (undefined when `cookie` is false). */
  readonly cookieTemplate: CookieTemplate | undefined;
  readonly sessionHeader: false | string;
  /** iron options, one frozen object so the engine's per-options cache always hits. */
  readonly seal: SealOptionsInput;
  /** Makes session ids; undefined for the engine's default (a random UUID v4). */
  readonly generateId: (() => string) | undefined;
  readonly onInvalidToken: ((rejection: SessionRejection) => void) | undefined;
  /** What the tokens are for (sealed into each). */
  readonly purpose: string;
  readonly acceptUnboundTokens: boolean;
  /** iron's clock skew, which also bounds how far in the future `createdAt` may be. */
  readonly clockSkewMs: number;
  readonly onUnawaitedError: (error: unknown) => void;
  /** The server-side store, or undefined for a session sealed whole into its cookie. */
  readonly store: SessionStore | undefined;
  /** Deadline of each store call in milliseconds. */
  readonly storeTimeoutMs: number;
  /** The user a session's data belongs to, for the store's per-user index. */
  readonly userKey: ((data: SessionDataT) => unknown) | undefined;
}

/** Deadline of a store call when the store names none. */
export const DEFAULT_STORE_TIMEOUT_MS = 1500;

/** Cookie defaults: h3's, plus SameSite=Lax. Frozen: configurations spread over it. */
export const DEFAULT_COOKIE: Readonly<CookieOptions> = Object.freeze({
  path: '/',
  secure: true,
  httpOnly: true,
  sameSite: 'lax',
});

/** The default session name (and cookie name), as in h3. */
export const DEFAULT_NAME = 'h3';

/** h3 2.x's default longest cookie value before chunking. */
export const DEFAULT_CHUNK_MAX_LENGTH = 4000;

/** Smallest secret accepted, in characters or bytes (iron's rule). */
export const MIN_PASSWORD_LENGTH = 32;

// RFC 6265 §4.1.1: cookie-name = token (RFC 2616 §2.2): visible ASCII except separators.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 7230 §3.2.6: header field-name = token.
const HEADER_NAME = COOKIE_NAME;

/**
 * Every option of h3 1.15's and 2.0.8's session config, and ours. A misspelt option
 * (`maxage`, `idleTimout`) would otherwise be ignored without a word, and the session
 * would quietly not expire.
 */
const CONFIG_KEYS: ReadonlySet<string> = new Set([
  'password',
  'maxAge',
  'idleTimeout',
  'name',
  'cookie',
  'sessionHeader',
  'seal',
  'legacySealFallback',
  'crypto',
  'generateId',
  'onInvalidToken',
  'purpose',
  'acceptUnboundTokens',
  'onUnawaitedError',
  'store',
  'userKey',
]);

/** h3's cookie options: the cookie package's serialize options, and h3 2.x's chunk length. */
const COOKIE_KEYS: ReadonlySet<string> = new Set([
  'path',
  'domain',
  'secure',
  'httpOnly',
  'sameSite',
  'priority',
  'partitioned',
  'expires',
  'maxAge',
  'chunkMaxLength',
  'encode',
  'stringify',
]);

/** iron's options and those of its two keys. */
const SEAL_KEYS: ReadonlySet<string> = new Set([
  'encryption',
  'integrity',
  'ttl',
  'timestampSkewSec',
  'localtimeOffsetMsec',
]);
const SEAL_KEY_KEYS: ReadonlySet<string> = new Set([
  'saltBits',
  'algorithm',
  'iterations',
  'minPasswordlength',
  'salt',
  'iv',
]);

/** @throws SessionError `ERR_CONFIG_INVALID` naming the first key of `value` not in `known` */
function refuseUnknownKeys(value: object, known: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw invalid(`${where}${key} is not an option`);
  }
}

function invalid(rule: string): SessionError {
  return new SessionError('ERR_CONFIG_INVALID', `Invalid session config: ${rule}`);
}

/**
 * Checks every secret the configuration holds against iron's rules for its seal options
 * (one definition, in the iron layer), so a password the engine cannot seal or unseal with
 * fails at the first call, not at the first write.
 *
 * @returns the password id new tokens are sealed with
 */
function checkPassword(password: unknown, options: ResolvedOptions): string {
  if (password === undefined || password === null || password === '') {
    throw new SessionError('ERR_PASSWORD_INVALID', 'Invalid session config: password is required');
  }
  assertPasswordUsable(password as PasswordInput, options);
  return passwordForSeal(password as PasswordInput).id;
}

/**
 * Cookie name prefixes browsers enforce (RFC 6265bis §4.1.3, matched case-insensitively):
 * a `__Secure-` cookie must be Secure; a `__Host-` cookie must be Secure, have Path=/ and
 * no Domain, so no other host (a sibling subdomain) and no other path can set one. A config
 * that breaks them would write cookies the browser drops.
 */
function checkPrefix(name: string, cookie: Readonly<CookieOptions>): void {
  const lower = name.toLowerCase();
  if (lower.startsWith('__secure-') && cookie.secure !== true) {
    throw invalid('a __Secure- cookie name needs cookie.secure');
  }
  if (lower.startsWith('__host-')) {
    if (cookie.secure !== true) throw invalid('a __Host- cookie name needs cookie.secure');
    if (cookie.path !== '/') throw invalid('a __Host- cookie name needs cookie.path "/"');
    if (cookie.domain !== undefined) throw invalid('a __Host- cookie name allows no cookie.domain');
  }
}

/**
 * A fixed salt or IV takes away what makes every token different: with a fixed IV and a
 * reused salt every cookie shares one keystream (with aes-128-ctr two cookies give away
 * each other's plaintext). They exist in iron's options for known-answer tests only.
 */
function checkSealOptions(seal: unknown): void {
  if (seal === undefined) return;
  if (typeof seal !== 'object' || seal === null) throw invalid('seal must be an object');
  refuseUnknownKeys(seal, SEAL_KEYS, 'seal.');
  for (const kind of ['encryption', 'integrity'] as const) {
    const sub: unknown = (seal as Record<string, unknown>)[kind];
    if (typeof sub !== 'object' || sub === null) continue;
    refuseUnknownKeys(sub, SEAL_KEY_KEYS, `seal.${kind}.`);
    for (const fixed of ['salt', 'iv'] as const) {
      if ((sub as Record<string, unknown>)[fixed] !== undefined) {
        throw invalid(`seal.${kind}.${fixed} must not be set: every token needs a random one`);
      }
    }
  }
}

/** The value options of `cookie` (how values are written), apart from the attributes. */
function resolveValueOptions(cookie: unknown): {
  chunkMaxLength: number;
  encodeValue: ((value: string) => string) | undefined;
} {
  if (typeof cookie !== 'object' || cookie === null) {
    return { chunkMaxLength: DEFAULT_CHUNK_MAX_LENGTH, encodeValue: undefined };
  }
  const { chunkMaxLength, encode } = cookie as CookieOptions;
  if (chunkMaxLength !== undefined && (!Number.isInteger(chunkMaxLength) || chunkMaxLength < 1)) {
    // Above 4096 it is accepted, as h3 2.x does: no Set-Cookie passes 4096 bytes anyway.
    throw invalid('cookie.chunkMaxLength must be a positive whole number');
  }
  if (encode !== undefined && typeof encode !== 'function') {
    throw invalid('cookie.encode must be a function');
  }
  return { chunkMaxLength: chunkMaxLength ?? DEFAULT_CHUNK_MAX_LENGTH, encodeValue: encode };
}

function resolveCookie(name: string, cookie: unknown): false | Readonly<CookieOptions> {
  if (cookie === false) return false;
  if (cookie === undefined) return DEFAULT_COOKIE;
  if (typeof cookie !== 'object' || cookie === null)
    throw invalid('cookie must be an object or false');
  refuseUnknownKeys(cookie, COOKIE_KEYS, 'cookie.');
  // chunkMaxLength and encode say how values are written, not attributes (see above).
  const attributes = withoutUndefined(cookie);
  delete attributes.chunkMaxLength;
  delete attributes.encode;
  delete attributes.stringify;
  const merged: CookieOptions = { ...DEFAULT_COOKIE, ...attributes };
  const { sameSite, path, domain, maxAge } = merged;
  if (![undefined, true, false, 'lax', 'strict', 'none'].includes(sameSite)) {
    throw invalid("cookie.sameSite must be 'lax', 'strict', 'none' or a boolean");
  }
  if (sameSite === 'none' && merged.secure !== true) {
    throw invalid('cookie.sameSite "none" requires cookie.secure (browsers drop it otherwise)');
  }
  if (path !== undefined && (typeof path !== 'string' || /[;\s]/.test(path))) {
    throw invalid('cookie.path must be a string without ";" or spaces');
  }
  if (domain !== undefined && (typeof domain !== 'string' || /[;\s]/.test(domain))) {
    throw invalid('cookie.domain must be a string without ";" or spaces');
  }
  if (maxAge !== undefined && (!Number.isInteger(maxAge) || maxAge < 0)) {
    throw invalid('cookie.maxAge must be a non-negative whole number of seconds');
  }
  if (merged.partitioned === true && merged.secure !== true) {
    throw invalid('cookie.partitioned requires cookie.secure (browsers drop it otherwise)');
  }
  const frozen = Object.freeze(merged);
  checkPrefix(name, frozen);
  try {
    // The serializer checks domain, path, expires and priority against RFC 6265's grammar:
    // a value it would refuse at the first write is refused now instead.
    compileCookie(name, frozen);
  } catch (error) {
    throw new SessionError(
      'ERR_CONFIG_INVALID',
      'Invalid session config: a cookie attribute breaks RFC 6265',
      {
        cause: error,
      },
    );
  }
  return frozen;
}

function withoutUndefined(value: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) if (entry !== undefined) out[key] = entry;
  return out;
}

/**
 * Longest `maxAge` or `idleTimeout`, in seconds (about 31 years): a token's expiration is at
 * most 16 digits of milliseconds in iron's grammar, and a session end past it would seal a
 * token other processes refuse.
 */
const MAX_LIFETIME_SECONDS = 1e9;

/** A lifetime option in seconds, 0 when absent. */
function lifetimeOption(name: 'maxAge' | 'idleTimeout', value: unknown): number {
  const seconds = value ?? 0;
  if (
    typeof seconds !== 'number' ||
    !Number.isFinite(seconds) ||
    seconds < 0 ||
    seconds > MAX_LIFETIME_SECONDS
  ) {
    throw invalid(`${name} must be a number of seconds from 0 to ${MAX_LIFETIME_SECONDS}`);
  }
  return seconds;
}

/**
 * The store options: a store must have every method of the contract, and its records an
 * end (`maxAge` or `idleTimeout`), so that a store never keeps what no cookie can reach;
 * `userKey` indexes sessions by user, which only a store can do.
 */
function resolveStoreOptions(
  config: SessionConfig,
  maxAge: number,
  idleTimeout: number,
): Pick<ResolvedConfig, 'store' | 'storeTimeoutMs' | 'userKey'> {
  const store: unknown = config.store;
  const userKey: unknown = config.userKey;
  if (userKey !== undefined && typeof userKey !== 'function') {
    throw invalid('userKey must be a function of the session data');
  }
  if (store === undefined) {
    if (userKey !== undefined) throw invalid('userKey needs a store');
    return { store: undefined, storeTimeoutMs: DEFAULT_STORE_TIMEOUT_MS, userKey: undefined };
  }
  if (
    typeof store !== 'object' ||
    store === null ||
    STORE_METHODS.some((method) => typeof (store as Record<string, unknown>)[method] !== 'function')
  ) {
    throw invalid(`store must have the methods ${STORE_METHODS.join(', ')}`);
  }
  if (maxAge === 0 && idleTimeout === 0) {
    throw invalid('a store needs maxAge or idleTimeout, so that every record ends');
  }
  const timeout: unknown = (store as SessionStore).timeout ?? DEFAULT_STORE_TIMEOUT_MS;
  // Timers take at most 2^31 - 1 ms; past it Node fires them at once.
  if (typeof timeout !== 'number' || !(timeout > 0 && timeout <= 2_147_483_647)) {
    throw invalid('store.timeout must be a number of milliseconds from 1 to 2147483647');
  }
  return {
    store: store as SessionStore,
    storeTimeoutMs: timeout,
    userKey: userKey as ((data: SessionDataT) => unknown) | undefined,
  };
}

/** The default `onUnawaitedError`: the failure must show somewhere. */
export function logUnawaitedError(error: unknown): void {
  console.error('sealed-session: a session write that nobody awaited failed:', error);
}

const resolved = new WeakMap<object, ResolvedConfig>();

/**
 * Validates a configuration and applies the defaults. Cached per config object: define the
 * config once (as h3's docs do) and each call costs one WeakMap lookup.
 *
 * @throws SessionError `ERR_CONFIG_INVALID` or `ERR_PASSWORD_INVALID`, naming the rule
 */
export function resolveConfig(config: SessionConfig): ResolvedConfig {
  // Checked as unknown: JavaScript callers reach here unchecked.
  const input: unknown = config;
  if (typeof input !== 'object' || input === null) throw invalid('config must be an object');
  const cached = resolved.get(input);
  if (cached !== undefined) return cached;
  refuseUnknownKeys(input, CONFIG_KEYS, '');

  const name = config.name ?? DEFAULT_NAME;
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    throw invalid("name must be a cookie name (letters, digits and !#$%&'*+-.^_`|~)");
  }
  const maxAge = lifetimeOption('maxAge', config.maxAge);
  const idleTimeout = lifetimeOption('idleTimeout', config.idleTimeout);
  const legacySealFallback: unknown = config.legacySealFallback ?? true;
  if (typeof legacySealFallback !== 'boolean') {
    throw invalid('legacySealFallback must be a boolean');
  }
  const header: unknown = config.sessionHeader;
  let sessionHeader: false | string;
  if (header === false) sessionHeader = false;
  else if (header === undefined) sessionHeader = `x-${name.toLowerCase()}-session`;
  else if (typeof header === 'string' && HEADER_NAME.test(header))
    sessionHeader = header.toLowerCase();
  else throw invalid('sessionHeader must be a header name or false');

  const generateId: unknown = config.generateId;
  if (generateId !== undefined && typeof generateId !== 'function') {
    throw invalid('generateId must be a function');
  }
  // h3's `crypto` option; without it the engine makes ids from the crypto backend's pool.
  const randomSource: unknown = config.crypto;
  if (
    randomSource !== undefined &&
    (typeof randomSource !== 'object' ||
      randomSource === null ||
      typeof (randomSource as { randomUUID?: unknown }).randomUUID !== 'function')
  ) {
    throw invalid('crypto must have a randomUUID function');
  }
  const onInvalidToken: unknown = config.onInvalidToken;
  if (onInvalidToken !== undefined && typeof onInvalidToken !== 'function') {
    throw invalid('onInvalidToken must be a function');
  }

  checkSealOptions(config.seal);
  const purpose = config.purpose === undefined ? name : validatePurpose(config.purpose, 'purpose');
  const acceptUnbound: unknown = config.acceptUnboundTokens ?? true;
  if (typeof acceptUnbound !== 'boolean') throw invalid('acceptUnboundTokens must be a boolean');
  const onUnawaitedError: unknown = config.onUnawaitedError;
  if (onUnawaitedError !== undefined && typeof onUnawaitedError !== 'function') {
    throw invalid('onUnawaitedError must be a function');
  }

  const { store, storeTimeoutMs, userKey } = resolveStoreOptions(config, maxAge, idleTimeout);

  // As h3: the iron ttl is the lifetime, absolute or else idle.
  const lifetime = maxAge > 0 ? maxAge : idleTimeout;
  const seal: SealOptionsInput = Object.freeze({
    ttl: lifetime * 1000,
    ...config.seal,
  });
  // Fails fast on bad iron options, not at the first write.
  const ironOptions = resolveOptions(seal);
  const sealingPasswordId = checkPassword(config.password, ironOptions);
  // h3 2.x retries at 1 iteration when the integrity key takes more (its own default is
  // 8192): tokens of h3 1.x and vinxi keep working across the switch.
  const legacySeal =
    legacySealFallback && ironOptions.integrity.iterations !== 1
      ? Object.freeze({
          ...seal,
          encryption: { ...seal.encryption, iterations: 1 },
          integrity: { ...seal.integrity, iterations: 1 },
        })
      : undefined;

  const cookie = resolveCookie(name, config.cookie);
  const result: ResolvedConfig = Object.freeze({
    password: config.password,
    sealingPasswordId,
    name,
    maxAgeMs: maxAge * 1000,
    idleTimeoutMs: idleTimeout * 1000,
    legacySeal,
    expiresWithSession: lifetime > 0 && config.seal?.ttl === undefined,
    cookie,
    ...resolveValueOptions(config.cookie),
    cookieTemplate: cookie === false ? undefined : compileCookie(name, cookie),
    sessionHeader,
    seal,
    generateId:
      (config.generateId as (() => string) | undefined) ??
      (randomSource === undefined
        ? undefined
        : () => (randomSource as { randomUUID(): string }).randomUUID()),
    onInvalidToken: config.onInvalidToken,
    purpose,
    acceptUnboundTokens: acceptUnbound,
    clockSkewMs: ironOptions.timestampSkewSec * 1000,
    onUnawaitedError: config.onUnawaitedError ?? logUnawaitedError,
    store,
    storeTimeoutMs,
    userKey,
  });
  resolved.set(input, result);
  return result;
}
