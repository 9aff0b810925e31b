/**
 * What `inspect` reports about a token: its public fields and the cookie it would make,
 * read without a password.
 */
import { MAX_SET_COOKIE_BYTES, serializeCookie } from '../cookie/session-cookie.js';
import { decodedLength, MAC_PREFIX, type ParsedToken } from '../iron/format.js';
import { usageError } from './cli-error.js';

/** The attributes the size check assumes: the library's default session cookie. */
const COOKIE_ATTRIBUTES = { path: '/', httpOnly: true, secure: true, sameSite: 'lax' } as const;

/** A salt field: hex text for string passwords, empty for byte passwords. */
export interface SaltField {
  readonly present: boolean;
  /** Length of the hex text (4 bits per character). */
  readonly length: number;
}

/** How the token would travel as a cookie. */
export interface CookieFit {
  readonly name: string;
  /** The header with the token elided. */
  readonly setCookie: string;
  /** Bytes of the Set-Cookie value (`name=token; attributes`), as the library counts them. */
  readonly bytes: number;
  readonly limit: number;
  readonly fits: boolean;
}

/** What a token shows without its password. Nothing here is verified. */
export interface TokenDescription {
  readonly format: string;
  /** `null` when the token has no id (a password map looks up `default`). */
  readonly passwordId: string | null;
  /** `null` when the token never expires. */
  readonly expiration: {
    readonly ms: number;
    /** `null` for a time past what a Date represents. */
    readonly iso: string | null;
    readonly past: boolean;
  } | null;
  readonly encryptionSalt: SaltField;
  readonly integritySalt: SaltField;
  readonly iv: string;
  readonly ivBytes: number;
  readonly ciphertextBytes: number;
  readonly tokenLength: number;
  readonly cookie: CookieFit;
}

/**
 * The Set-Cookie value the library would write for `token` under cookie `name`.
 *
 * @throws CliError (exit 2) when `name` is not a valid cookie name
 */
export function setCookieValue(name: string, token: string): string {
  try {
    return serializeCookie(name, token, COOKIE_ATTRIBUTES);
  } catch {
    throw usageError("--name takes a cookie name (printable ASCII without space, ';' or '=')");
  }
}

function salt(field: string): SaltField {
  return { present: field !== '', length: field.length };
}

/** Describes a token that follows the grammar; `now` decides whether it has expired. */
export function describeToken(
  token: string,
  parsed: ParsedToken,
  cookieName: string,
  now: number,
): TokenDescription {
  const header = setCookieValue(cookieName, token);
  // The grammar's characters are all left alone by the cookie encoder, so the value sits
  // verbatim right after "name=".
  const valueStart = cookieName.length + 1;
  const bytes = Buffer.byteLength(header);
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
      setCookie: `Set-Cookie: ${header.slice(0, valueStart)}<token>${header.slice(valueStart + token.length)}`,
      bytes,
      limit: MAX_SET_COOKIE_BYTES,
      fits: bytes <= MAX_SET_COOKIE_BYTES,
    },
  };
}
