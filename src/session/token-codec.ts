/**
 * The token codec: a session to a sealed token and back, with no HTTP in sight. Opening
 * checks, in order: the iron token (grammar, MAC, expiry, decryption, safe JSON), the
 * session's shape, its purpose, a creation time not in the future, and `maxAge`. Sealing
 * writes exactly what h3 seals, `{ id, createdAt, data }`, plus the purpose.
 *
 * The codec takes its iron instance and its clock, so tests can run it on a fake clock.
 */
import { SessionError } from '../errors.js';
import type { Iron } from '../iron/create-iron.js';
import type { MaybePromise } from '../internal/maybe-promise.js';
import { chain } from '../internal/maybe-promise.js';
import type { ResolvedConfig } from './config.js';
import { checkPurpose } from './purpose.js';
import type { Session } from './types.js';

/** Longest token read from a request; anything longer is refused unread. */
export const MAX_TOKEN_LENGTH: number = 16 * 1024;

/** Seals and opens sessions for one iron instance and clock. */
export interface TokenCodec {
  /** Milliseconds since the epoch, as the codec sees them. */
  readonly now: () => number;
  /**
   * Opens `token` into a session. Synchronous when the crypto backend is (node:crypto),
   * so a request's session costs no promise hops there.
   *
   * @throws SessionError — a token error (`ERR_SEAL_*`, `ERR_PASSWORD_NOT_FOUND`,
   *   `ERR_PURPOSE_*`, `ERR_SESSION_EXPIRED`, `ERR_COOKIE_INVALID`, `ERR_COOKIE_TOO_LARGE`,
   *   `ERR_DATA_INVALID`, `ERR_DERIVATION_LIMIT`)
   */
  open(config: ResolvedConfig, token: string): MaybePromise<Session>;
  /** Seals `session` for `config`'s purpose; with `maxAge`, the token expires with it. */
  seal(config: ResolvedConfig, session: Session): Promise<string>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const notASession = (): SessionError =>
  new SessionError('ERR_COOKIE_INVALID', 'The token does not hold a session');

/** A codec over `iron` that reads the time from `now`. */
export function createTokenCodec(iron: Iron, now: () => number): TokenCodec {
  function toSession(config: ResolvedConfig, value: unknown): Session {
    if (
      !isPlainObject(value) ||
      typeof value.id !== 'string' ||
      value.id === '' ||
      typeof value.createdAt !== 'number' ||
      !Number.isFinite(value.createdAt) ||
      !isPlainObject(value.data)
    ) {
      throw notASession();
    }
    checkPurpose(value, config.purpose, config.acceptUnboundTokens);
    const time = now();
    // An authentic token cannot have been made in the future: one that claims so would
    // never reach its maxAge. The clock skew iron allows for expirations applies here too.
    if (value.createdAt > time + config.clockSkewMs) {
      throw new SessionError('ERR_COOKIE_INVALID', 'The session was created in the future');
    }
    if (config.maxAgeMs > 0 && time - value.createdAt > config.maxAgeMs) {
      throw new SessionError('ERR_SESSION_EXPIRED', 'The session has expired');
    }
    return { id: value.id, createdAt: value.createdAt, data: value.data };
  }

  return {
    now,
    open(config, token) {
      // JavaScript callers of unsealSession may pass a non-string: iron refuses it
      // (ERR_SEAL_INVALID).
      if (typeof token === 'string' && token.length > MAX_TOKEN_LENGTH) {
        throw new SessionError('ERR_COOKIE_TOO_LARGE', 'The session token is too large');
      }
      return chain(iron.unsealEager(token, config.password, config.seal), (value) =>
        toSession(config, value),
      );
    },
    seal(config, session) {
      // h3's { id, createdAt, data } in this order, so h3 reads our tokens, then the purpose.
      const payload = {
        id: session.id,
        createdAt: session.createdAt,
        data: session.data,
        purpose: config.purpose,
      };
      // With maxAge, the token expires when the session does (h3 counted from the seal, so
      // the token and the cookie disagreed); an explicit seal.ttl still wins.
      return config.expiresWithSession
        ? iron.sealUntil(payload, config.password, config.seal, session.createdAt + config.maxAgeMs)
        : iron.seal(payload, config.password, config.seal);
    },
  };
}
