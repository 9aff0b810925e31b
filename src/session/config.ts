/**
 * A session configuration, validated once and resolved with every default: each rule it
 * breaks fails at the first call with an error naming the rule, never at the first write.
 */
import { SessionError } from '../errors.js';
import type { SealOptionsInput } from '../iron/options.js';
import { resolveOptions } from '../iron/options.js';
import {
  isPasswordMap,
  normalizePassword,
  passwordForSeal,
  type PasswordInput,
  type RawPassword,
} from '../iron/password.js';
import { compileCookie, type CookieTemplate } from '../cookie/session-cookie.js';
import { validatePurpose } from './purpose.js';
import type { CookieOptions, SessionConfig, SessionRejection } from './types.js';

/** A validated configuration with every default applied. */
export interface ResolvedConfig {
  readonly password: PasswordInput;
  /** Password id new tokens are sealed with ('' for none). */
  readonly sealingPasswordId: string;
  readonly name: string;
  /** Lifetime in milliseconds, 0 for none. */
  readonly maxAgeMs: number;
  /** Tokens expire with the session (`createdAt + maxAge`): maxAge set, no explicit seal.ttl. */
  readonly expiresWithSession: boolean;
  readonly cookie: false | Readonly<CookieOptions>;
  /** The session cookie's prepared Set-Cookie header (undefined when `cookie` is false). */
  readonly cookieTemplate: CookieTemplate | undefined;
  readonly sessionHeader: false | string;
  /** iron options, one frozen object so the engine's per-options cache always hits. */
  readonly seal: SealOptionsInput;
  readonly generateId: () => string;
  readonly onInvalidToken: ((rejection: SessionRejection) => void) | undefined;
  /** What the tokens are for (sealed into each). */
  readonly purpose: string;
  readonly acceptUnboundTokens: boolean;
  /** iron's clock skew, which also bounds how far in the future `createdAt` may be. */
  readonly clockSkewMs: number;
  readonly onUnawaitedError: (error: unknown) => void;
}

/** Cookie defaults: h3's, plus SameSite=Lax. Frozen: configurations spread over it. */
export const DEFAULT_COOKIE: Readonly<CookieOptions> = Object.freeze({
  path: '/',
  secure: true,
  httpOnly: true,
  sameSite: 'lax',
});

/** The default session name (and cookie name), as in h3. */
export const DEFAULT_NAME = 'h3';

/** Smallest secret accepted, in characters or bytes (iron's rule). */
export const MIN_PASSWORD_LENGTH = 32;

// RFC 6265 §4.1.1: cookie-name = token (RFC 2616 §2.2): visible ASCII except separators.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 7230 §3.2.6: header field-name = token.
const HEADER_NAME = COOKIE_NAME;

function invalid(rule: string): SessionError {
  return new SessionError('ERR_CONFIG_INVALID', `Invalid session config: ${rule}`);
}

function checkSecret(secret: RawPassword): void {
  if (secret.length < MIN_PASSWORD_LENGTH) {
    throw new SessionError(
      'ERR_PASSWORD_INVALID',
      `Invalid session config: password must have at least ${MIN_PASSWORD_LENGTH} characters (or bytes)`,
    );
  }
}

/** Checks every secret the configuration holds, so a weak one fails at the first call. */
function checkPassword(password: unknown): string {
  if (password === undefined || password === null || password === '') {
    throw new SessionError('ERR_PASSWORD_INVALID', 'Invalid session config: password is required');
  }
  const entries = isPasswordMap(password) ? Object.entries(password) : [['', password] as const];
  for (const [id, entry] of entries) {
    const normalized = normalizePassword(entry, id === '' ? undefined : id);
    checkSecret(normalized.encryption);
    checkSecret(normalized.integrity);
  }
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
  for (const kind of ['encryption', 'integrity'] as const) {
    const sub: unknown = (seal as Record<string, unknown>)[kind];
    if (typeof sub !== 'object' || sub === null) continue;
    for (const fixed of ['salt', 'iv'] as const) {
      if ((sub as Record<string, unknown>)[fixed] !== undefined) {
        throw invalid(`seal.${kind}.${fixed} must not be set: every token needs a random one`);
      }
    }
  }
}

function resolveCookie(name: string, cookie: unknown): false | Readonly<CookieOptions> {
  if (cookie === false) return false;
  if (cookie === undefined) return DEFAULT_COOKIE;
  if (typeof cookie !== 'object' || cookie === null)
    throw invalid('cookie must be an object or false');
  const merged: CookieOptions = { ...DEFAULT_COOKIE, ...withoutUndefined(cookie) };
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
  if (maxAge !== undefined && !Number.isInteger(maxAge)) {
    throw invalid('cookie.maxAge must be a whole number of seconds');
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

  const sealingPasswordId = checkPassword(config.password);
  const name = config.name ?? DEFAULT_NAME;
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    throw invalid("name must be a cookie name (letters, digits and !#$%&'*+-.^_`|~)");
  }
  const maxAge: unknown = config.maxAge ?? 0;
  if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0) {
    throw invalid('maxAge must be a non-negative number of seconds');
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
  const randomSource = config.crypto ?? globalThis.crypto;
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

  const seal: SealOptionsInput = Object.freeze({
    ttl: maxAge > 0 ? maxAge * 1000 : 0,
    ...config.seal,
  });
  // Fails fast on bad iron options, not at the first write.
  const ironOptions = resolveOptions(seal);

  const cookie = resolveCookie(name, config.cookie);
  const result: ResolvedConfig = Object.freeze({
    password: config.password,
    sealingPasswordId,
    name,
    maxAgeMs: maxAge * 1000,
    expiresWithSession: maxAge > 0 && config.seal?.ttl === undefined,
    cookie,
    cookieTemplate: cookie === false ? undefined : compileCookie(name, cookie),
    sessionHeader,
    seal,
    generateId:
      (config.generateId as (() => string) | undefined) ?? (() => randomSource.randomUUID()),
    onInvalidToken: config.onInvalidToken,
    purpose,
    acceptUnboundTokens: acceptUnbound,
    clockSkewMs: ironOptions.timestampSkewSec * 1000,
    onUnawaitedError: config.onUnawaitedError ?? logUnawaitedError,
  });
  resolved.set(input, result);
  return result;
}
