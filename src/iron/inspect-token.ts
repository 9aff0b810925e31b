/**
 * What an Fe26.2 token shows to anyone who holds it, without its password: its public
 * fields, and whether it fits one cookie. `inspectToken` is public (`sealed-session/iron`);
 * the CLI's `inspect` command prints its result.
 */
import { SessionError } from '../errors.js';
import { MAC_PREFIX, decodedLength, invalidToken, parseToken } from './format.js';

/**
 * The cookie name the size check assumes unless told: the name of the default session
 * (h3's default, which sealed-session keeps).
 */
export const DEFAULT_INSPECT_COOKIE_NAME = 'h3';

/**
 * The most a browser is bound to keep of one cookie: 4096 bytes, name, value and attributes
 * together. The session layer writes no larger Set-Cookie header.
 */
const COOKIE_LIMIT_BYTES = 4096;

/** The attributes of the default session cookie, in the order the session layer writes them. */
const COOKIE_ATTRIBUTES = '; Path=/; HttpOnly; Secure; SameSite=Lax';

// A cookie name by the rule of the cookie package the session layer writes with: printable
// ASCII without space, ';' or '='. Every character is one byte, and so is every character of
// a token and of the attributes: the header's length is its size in bytes.
const COOKIE_NAME = /^[\u0021-\u003A\u003C\u003E-\u007E]+$/;

/** Options of {@link inspectToken}. */
export interface InspectTokenOptions {
  /**
   * Name of the cookie the token would travel in, for the size check.
   * @default 'h3' (the default session name)
   */
  readonly cookieName?: string | undefined;
  /**
   * The time `expiration.past` is decided against, in milliseconds since the epoch.
   * @default Date.now()
   */
  readonly now?: number | undefined;
}

/** A salt field: hex text for string passwords, empty for byte passwords. */
export interface TokenSalt {
  readonly present: boolean;
  /** Length of the hex text (4 bits per character); 0 when absent. */
  readonly length: number;
}

/** The expiration a token carries. Not verified: anyone can write any number there. */
export interface TokenExpiration {
  /** Milliseconds since the epoch. */
  readonly ms: number;
  /** ISO 8601, or `null` for a time past what a `Date` represents. */
  readonly iso: string | null;
  /**
   * Whether it is at or before `now`. `unseal` also allows the options' clock skew
   * (`timestampSkewSec`, 60 s by default), so it may still accept a token just past.
   */
  readonly past: boolean;
}

/** How the token would travel as the default session cookie. */
export interface TokenCookieFit {
  /** The cookie name assumed. */
  readonly name: string;
  /**
   * The header line, for display, with `<token>` in place of the token:
   * `Set-Cookie: h3=<token>; Path=/; HttpOnly; Secure; SameSite=Lax`.
   */
  readonly setCookie: string;
  /** Size of the Set-Cookie value (`name=token; attributes`) in bytes. */
  readonly bytes: number;
  /** The most a browser keeps of one cookie: 4096 bytes. */
  readonly limit: number;
  /** Whether `bytes` is within `limit`; a browser drops a larger cookie without a word. */
  readonly fits: boolean;
}

/** What a token shows without its password. Nothing here is verified. */
export interface TokenInspection {
  readonly format: 'Fe26.2';
  /** `null` when the token has no id (a password map is then looked up by `default`). */
  readonly passwordId: string | null;
  /** `null` when the token never expires. */
  readonly expiration: TokenExpiration | null;
  readonly encryptionSalt: TokenSalt;
  readonly integritySalt: TokenSalt;
  /** The IV, base64url as in the token. */
  readonly iv: string;
  readonly ivBytes: number;
  readonly ciphertextBytes: number;
  /** Characters of the whole token. */
  readonly tokenLength: number;
  readonly cookie: TokenCookieFit;
}

/** Whether `name` can name a cookie (printable ASCII without space, ';' or '='). */
export function isCookieName(name: string): boolean {
  return COOKIE_NAME.test(name);
}

function invalidOption(rule: string): SessionError {
  return new SessionError('ERR_OPTIONS_INVALID', `Invalid inspectToken options: ${rule}`);
}

function salt(field: string): TokenSalt {
  return { present: field !== '', length: field.length };
}

/**
 * Reads what an Fe26.2 token shows without its password: password id, expiration, salts,
 * IV, sizes, and whether it fits one cookie (the default session cookie's attributes,
 * `Path=/; HttpOnly; Secure; SameSite=Lax`, under `cookieName`).
 *
 * Nothing is verified: anyone can write any value into these fields, so read them as
 * claims, for debugging and size checks; only `unseal` tells whether a token is
 * authentic. The data, and a session's purpose with it, are encrypted and not shown.
 * The token itself appears in neither the result nor an error.
 *
 * @param token - the token as sealed (a cookie value percent-decoded first, if it was
 *   encoded)
 * @param options - the cookie name for the size check, and the time that decides
 *   `expiration.past`
 * @returns the token's public fields
 * @throws SessionError `ERR_SEAL_INVALID` when `token` is not an Fe26.2 token (the grammar
 *   `unseal` checks first), `ERR_OPTIONS_INVALID` when `cookieName` cannot name a cookie
 *   or `now` is not a finite number
 */
export function inspectToken(token: string, options?: InspectTokenOptions): TokenInspection {
  const cookieName = options?.cookieName ?? DEFAULT_INSPECT_COOKIE_NAME;
  const now = options?.now ?? Date.now();
  if (typeof cookieName !== 'string' || !isCookieName(cookieName)) {
    throw invalidOption(
      "cookieName must be a cookie name (printable ASCII without space, ';' or '=')",
    );
  }
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw invalidOption('now must be a finite number of milliseconds since the epoch');
  }
  const parsed = typeof token === 'string' ? parseToken(token) : undefined;
  if (parsed === undefined) throw invalidToken();

  const bytes = cookieName.length + 1 + token.length + COOKIE_ATTRIBUTES.length;
  const date = new Date(parsed.expiration);
  return {
    format: MAC_PREFIX,
    passwordId: parsed.passwordId === '' ? null : parsed.passwordId,
    expiration:
      parsed.expiration === 0
        ? null
        : {
            ms: parsed.expiration,
            iso: Number.isNaN(date.getTime()) ? null : date.toISOString(),
            past: parsed.expiration <= now,
          },
    encryptionSalt: salt(parsed.encryptionSalt),
    integritySalt: salt(parsed.hmacSalt),
    iv: parsed.iv,
    ivBytes: decodedLength(parsed.iv),
    ciphertextBytes: decodedLength(parsed.ciphertext),
    tokenLength: token.length,
    cookie: {
      name: cookieName,
      setCookie: `Set-Cookie: ${cookieName}=<token>${COOKIE_ATTRIBUTES}`,
      bytes,
      limit: COOKIE_LIMIT_BYTES,
      fits: bytes <= COOKIE_LIMIT_BYTES,
    },
  };
}
