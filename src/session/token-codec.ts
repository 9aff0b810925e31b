/**
 * The token codec: a session to a sealed token and back, with no HTTP in sight. Opening
 * checks, in order: the iron token (grammar, MAC, expiry, decryption, safe JSON; once more
 * at 1 iteration under `legacySealFallback`), the session's shape, its purpose, creation
 * and last-seen times not in the future, then `maxAge` and `idleTimeout`. Sealing writes
 * what h3 seals, `{ id, createdAt, data, lastSeenAt? }`, then the flash values and the
 * purpose.
 *
 * With a store, a token is a reference instead: `{ ref, createdAt, lastSeenAt?, stored,
 * purpose }`, the session's id and times and whether its record was written, and no data.
 * A reference and a whole session never open as each other (one has `ref`, the other `id`
 * and `data`), so a cookie of one mode is refused by a configuration of the other.
 *
 * The codec takes its iron instance and its clock, so tests can run it on a fake clock.
 */
import { SessionError, isSessionError } from '../errors.js';
import type { Iron } from '../iron/create-iron.js';
import type { MaybePromise } from '../internal/maybe-promise.js';
import { LruCache } from '../internal/lru.js';
import { chain } from '../internal/maybe-promise.js';
import type { ResolvedConfig } from './config.js';
import { checkPurpose } from './purpose.js';
import type { Session } from './types.js';

/**
 * Longest token read from a request or written. 100 chunks of h3 2.x's default 4000
 * characters would be 400 KB, far past what servers accept in request headers (Node 16 KB
 * and nginx 8 KB by default), so the bound follows what a request can carry: twice Node's
 * default, for servers that raised it.
 */
export const MAX_TOKEN_LENGTH: number = 32 * 1024;

/** Characters of a token's MAC (its last field): what identifies a verified token. */
const MAC_CHARS = 43;
/** Tokens remembered as verifying only at 1 iteration (see `legacyTokens`). */
const LEGACY_TOKENS = 1024;

/** What a token holds besides the session. */
export interface OpenedToken {
  readonly session: Session;
  /** Flash values sealed with it, if any. */
  readonly flash: Record<string, unknown> | undefined;
  /** It verified only at 1 iteration: it should be resealed with the current options. */
  readonly legacySeal: boolean;
  /**
   * For a store reference, whether the session's record was written when it was sealed
   * (a record that is then missing was revoked or ended); undefined for a whole session.
   */
  readonly stored: boolean | undefined;
}

/** Seals and opens sessions for one iron instance and clock. */
export interface TokenCodec {
  /**
   * Opens `token` into a session. Synchronous when the crypto backend is (node:crypto),
   * so a request's session costs no promise hops there.
   *
   * @throws SessionError — a token error (`ERR_SEAL_*`, `ERR_PASSWORD_NOT_FOUND`,
   *   `ERR_PURPOSE_*`, `ERR_SESSION_EXPIRED`, `ERR_COOKIE_INVALID`, `ERR_COOKIE_TOO_LARGE`,
   *   `ERR_DATA_INVALID`, `ERR_DERIVATION_LIMIT`)
   */
  open(config: ResolvedConfig, token: string): MaybePromise<OpenedToken>;
  /** Seals `session` (and `flash`) for `config`'s purpose; the token expires with the session. */
  seal(
    config: ResolvedConfig,
    session: Session,
    flash: Record<string, unknown> | undefined,
  ): Promise<string>;
  /** Seals a store reference to `session` (its id and times), `stored` telling whether its record exists. */
  sealReference(config: ResolvedConfig, session: Session, stored: boolean): Promise<string>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

const notASession = (): SessionError =>
  new SessionError('ERR_COOKIE_INVALID', 'The token does not hold a session');

/**
 * When a session ends, in ms since the epoch: the earlier of `createdAt + maxAge` and
 * `lastSeenAt + idleTimeout`, or undefined when neither is set.
 */
export function sessionEnd(config: ResolvedConfig, session: Session): number | undefined {
  let end: number | undefined;
  if (config.maxAgeMs > 0) end = session.createdAt + config.maxAgeMs;
  if (config.idleTimeoutMs > 0) {
    const idleEnd = (session.lastSeenAt ?? session.createdAt) + config.idleTimeoutMs;
    end = end === undefined ? idleEnd : Math.min(end, idleEnd);
  }
  return end;
}

/** A codec over `iron` that reads the time from `now`. */
export function createTokenCodec(iron: Iron, now: () => number): TokenCodec {
  function toOpened(config: ResolvedConfig, value: unknown, legacySeal: boolean): OpenedToken {
    const reference = config.store !== undefined;
    if (
      !isPlainObject(value) ||
      !isTime(value.createdAt) ||
      (reference
        ? typeof value.ref !== 'string' || value.ref === '' || typeof value.stored !== 'boolean'
        : typeof value.id !== 'string' || value.id === '' || !isPlainObject(value.data))
    ) {
      throw notASession();
    }
    // Store references are new: none was ever sealed without a purpose, so an unbound one
    // is something else sealed with the same password, never accepted as a reference.
    checkPurpose(value, config.purpose, config.acceptUnboundTokens && !reference);
    const time = now();
    const lastSeenAt = isTime(value.lastSeenAt) ? value.lastSeenAt : undefined;
    // An authentic token cannot have been made in the future: one that claims so would
    // never reach its maxAge. The clock skew iron allows for expirations applies here too.
    if (Math.max(value.createdAt, lastSeenAt ?? 0) > time + config.clockSkewMs) {
      throw new SessionError('ERR_COOKIE_INVALID', 'The session was created in the future');
    }
    const session: Session = reference
      ? { id: value.ref as string, createdAt: value.createdAt, data: {} }
      : { id: value.id as string, createdAt: value.createdAt, data: value.data as Session['data'] };
    if (lastSeenAt !== undefined) session.lastSeenAt = lastSeenAt;
    if (config.maxAgeMs > 0 && time - session.createdAt > config.maxAgeMs) {
      throw new SessionError('ERR_SESSION_EXPIRED', 'The session has expired');
    }
    if (
      config.idleTimeoutMs > 0 &&
      time - (lastSeenAt ?? session.createdAt) > config.idleTimeoutMs
    ) {
      throw new SessionError('ERR_SESSION_EXPIRED', 'The session was idle for too long');
    }
    const flash = !reference && isPlainObject(value.flash) ? value.flash : undefined;
    const stored = reference ? (value.stored as boolean) : undefined;
    return { session, flash, legacySeal, stored };
  }

  // Tokens that verified only at 1 iteration, by their MAC: one that is never resealed (a
  // session header, `cookie: false`) is then opened at 1 iteration straight away, from the
  // verified-token cache, instead of failing a full-iteration derivation on every request.
  // Only tokens that verified enter, and the bound holds whatever the traffic.
  const legacyTokens = new LruCache<string, true>(LEGACY_TOKENS);

  /** Unseals with the config's options, then once more at 1 iteration when it allows. */
  function unseal(config: ResolvedConfig, token: string): MaybePromise<OpenedToken> {
    const legacy = config.legacySeal;
    const opened = (value: unknown): OpenedToken => toOpened(config, value, false);
    if (legacy === undefined) {
      return chain(iron.unsealEager(token, config.password, config.seal), opened);
    }
    const openedLegacy = (value: unknown): OpenedToken => {
      legacyTokens.set(token.slice(-MAC_CHARS), true);
      return toOpened(config, value, true);
    };
    if (legacyTokens.get(token.slice(-MAC_CHARS)) === true) {
      return chain(iron.unsealEager(token, config.password, legacy), openedLegacy);
    }
    // Only a MAC failure is retried: a malformed or expired token would fail again.
    const retry = (error: unknown): MaybePromise<OpenedToken> => {
      if (!isSessionError(error, 'ERR_SEAL_UNSEAL_FAILED')) throw error;
      return chain(iron.unsealEager(token, config.password, legacy), openedLegacy);
    };
    let first: MaybePromise<unknown>;
    try {
      first = iron.unsealEager(token, config.password, config.seal);
    } catch (error) {
      return retry(error);
    }
    return first instanceof Promise ? first.then(opened, retry) : opened(first);
  }

  /** Seals `payload`, expiring with the session unless an explicit seal.ttl says otherwise. */
  function sealPayload(
    config: ResolvedConfig,
    session: Session,
    payload: Record<string, unknown>,
  ): Promise<string> {
    payload.purpose = config.purpose;
    // The token expires when the session does (h3 counted from the seal, so the token
    // and the cookie disagreed); an explicit seal.ttl still wins.
    const end = config.expiresWithSession ? sessionEnd(config, session) : undefined;
    return end === undefined
      ? iron.seal(payload, config.password, config.seal)
      : iron.sealUntil(payload, config.password, config.seal, end);
  }

  return {
    open(config, token) {
      // JavaScript callers of unsealSession may pass a non-string: iron refuses it
      // (ERR_SEAL_INVALID).
      if (typeof token === 'string' && token.length > MAX_TOKEN_LENGTH) {
        throw new SessionError('ERR_COOKIE_TOO_LARGE', 'The session token is too large');
      }
      return unseal(config, token);
    },
    seal(config, session, flash) {
      // h3's { id, createdAt, data, lastSeenAt? } first, so h3 reads our tokens as its own.
      const payload: Record<string, unknown> = {
        id: session.id,
        createdAt: session.createdAt,
        data: session.data,
      };
      if (session.lastSeenAt !== undefined) payload.lastSeenAt = session.lastSeenAt;
      if (flash !== undefined && Object.keys(flash).length > 0) payload.flash = flash;
      return sealPayload(config, session, payload);
    },
    sealReference(config, session, stored) {
      const payload: Record<string, unknown> = { ref: session.id, createdAt: session.createdAt };
      if (session.lastSeenAt !== undefined) payload.lastSeenAt = session.lastSeenAt;
      payload.stored = stored;
      return sealPayload(config, session, payload);
    },
  };
}
