/**
 * Every failure this library reports is a {@link SessionError} with a stable `code`.
 *
 * Messages are fixed phrases: they never contain a token, a password, a cookie or session
 * data, so they are safe to log. Branch on `code`, never on the message.
 */

/** Stable error codes. Adding a code is a minor change; renaming one is a major change. */
export type SessionErrorCode =
  /** The token is not an Fe26.2 token: wrong number of parts, prefix, or a malformed part. */
  | 'ERR_SEAL_INVALID'
  /** The MAC did not verify, or decryption failed (one code on purpose: no padding oracle). */
  | 'ERR_SEAL_UNSEAL_FAILED'
  /** The token is authentic but its iron expiration has passed. */
  | 'ERR_SEAL_EXPIRED'
  /** The token names a password id that the given password map does not hold. */
  | 'ERR_PASSWORD_NOT_FOUND'
  /** A password is missing, too short, of the wrong shape, or has an invalid id. */
  | 'ERR_PASSWORD_INVALID'
  /** An iron option is invalid (unknown algorithm, bad iterations, bad ttl, ...). */
  | 'ERR_OPTIONS_INVALID'
  /**
   * Data JSON cannot represent faithfully (seal), or sealed JSON that is malformed or would
   * pollute prototypes (unseal).
   */
  | 'ERR_DATA_INVALID'
  /**
   * The token is a session sealed for another purpose (another session name, or a
   * `purpose` set in the config): a token of one session never opens as another.
   */
  | 'ERR_PURPOSE_MISMATCH'
  /** The token carries no purpose (sealed by h3, vinxi or an older version) and the config refuses such tokens. */
  | 'ERR_PURPOSE_MISSING'
  /** The request carried the session cookie more than once (one may be planted); the first was used. */
  | 'ERR_COOKIE_DUPLICATE'
  /**
   * Too many tokens not yet verified were waiting for a key derivation (where the backend
   * has no clock, as on workerd: too many derivations were running): the token was not
   * checked, and the request went on without it.
   */
  | 'ERR_DERIVATION_LIMIT'
  /** The session is older than `maxAge`, or idle for longer than allowed. */
  | 'ERR_SESSION_EXPIRED'
  /** A session configuration value breaks a rule (the message names the rule). */
  | 'ERR_CONFIG_INVALID'
  /** A cookie value that is not a session token of this configuration. */
  | 'ERR_COOKIE_INVALID'
  /** A cookie or header larger than allowed. */
  | 'ERR_COOKIE_TOO_LARGE'
  /** The response headers were already sent; the session can no longer be written. */
  | 'ERR_HEADERS_SENT'
  /** The value given as an event is not an event of a supported host. */
  | 'ERR_EVENT_UNSUPPORTED'
  /** A session function was called without an event outside of any request scope. */
  | 'ERR_EVENT_MISSING'
  /** A crypto primitive of the platform failed unexpectedly (see `cause`). */
  | 'ERR_CRYPTO'
  /**
   * The session store failed or did not answer within its deadline (see `cause`): the
   * request's session is unknown, so nothing was read or written, and the session cookie
   * was left as it was. Hosts answer 503 (`status`).
   */
  | 'ERR_STORE_UNAVAILABLE'
  /**
   * The session's store record is gone: revoked, signed out elsewhere, or ended. On a
   * request's cookie the request gets a fresh session (reported to `onInvalidToken`); a
   * write that finds its record gone is refused with it, so it never brings the session back.
   */
  | 'ERR_SESSION_REVOKED';

/**
 * The HTTP status a host answers when an error of this code ends a request, for the codes
 * that are not a server fault: h3, Express (`status`) and Nitro read it from the error.
 */
const HTTP_STATUS: Partial<Record<SessionErrorCode, number>> = {
  ERR_STORE_UNAVAILABLE: 503,
  // The session was signed out while this request was using it: the request's change
  // conflicts with that, and a retry starts from a fresh session.
  ERR_SESSION_REVOKED: 409,
};

const BRAND: unique symbol = Symbol.for('sealed-session.SessionError');

/** The one error class of sealed-session. */
export class SessionError extends Error {
  /** Stable machine-readable code; see {@link SessionErrorCode}. */
  readonly code: SessionErrorCode;
  override readonly name = 'SessionError' as const;
  /**
   * The HTTP status for the response when this error ends a request (503 for
   * `ERR_STORE_UNAVAILABLE`, 409 for `ERR_SESSION_REVOKED`); undefined for a server fault
   * (500). Express, h3 and Nitro
   * read `status` or `statusCode`.
   */
  readonly status?: number;
  /** The same as `status`, under the name h3 1.x reads. */
  readonly statusCode?: number;

  /**
   * @param code - the stable code
   * @param message - a fixed phrase: never include secrets, tokens or data
   * @param options - `cause` for a wrapped platform error
   */
  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    const status = HTTP_STATUS[code];
    if (status !== undefined) {
      this.status = status;
      this.statusCode = status;
    }
  }
}

// The brand lives on the prototype under a registered symbol, which every copy of this
// package shares, so isSessionError works across copies where instanceof does not.
Object.defineProperty(SessionError.prototype, BRAND, { value: true });

/**
 * Tells whether `value` is a {@link SessionError}, also when it comes from another copy of
 * this package (a plain `instanceof` fails across copies).
 *
 * @param value - anything caught
 * @param code - when given, also require this code
 */
export function isSessionError(value: unknown, code?: SessionErrorCode): value is SessionError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true &&
    (code === undefined || (value as SessionError).code === code)
  );
}

/**
 * The HTTP status a host answers for `error` when it ends a request: the error's own
 * `status` for a {@link SessionError} that has one (503 when the store is unavailable,
 * 409 when the session was revoked during the request), else 500.
 */
export function httpStatusOf(error: unknown): number {
  return isSessionError(error) && error.status !== undefined ? error.status : 500;
}
