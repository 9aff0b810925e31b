/**
 * The Fe26.2 token grammar. One token is eight `*`-separated fields:
 *
 *   Fe26.2*<password-id>*<encryption-salt>*<iv>*<ciphertext>*<expiration>*<hmac-salt>*<hmac>
 *
 * - password-id: empty, or /^\w+$/ (iron)
 * - salts: hex text of random bits for string passwords, empty for byte passwords
 * - iv: 16 bytes, base64url without padding (22 characters)
 * - ciphertext: base64url without padding
 * - expiration: empty, or milliseconds since the epoch in decimal without leading zeros
 * - hmac: HMAC-SHA256, base64url without padding (43 characters), over the first six
 *   fields joined by `*`
 */
import { SessionError } from '../errors.js';
import { withoutStack } from '../internal/stackless.js';

export const MAC_PREFIX = 'Fe26.2';

/**
 * The error for a token that does not follow the grammar, wherever it is refused: anyone
 * can send one, so it is made without a stack (see stackless.ts).
 */
export function invalidToken(): SessionError {
  return withoutStack(() => new SessionError('ERR_SEAL_INVALID', 'Not a valid Fe26.2 token'));
}

/** Every field checked before any key is derived: a malformed token costs one regex. */
const TOKEN =
  /^Fe26\.2\*(\w*)\*([0-9a-fA-F]{0,256})\*([\w-]{22})\*([\w-]+)\*((?:[1-9]\d{0,15})?)\*([0-9a-fA-F]{0,256})\*([\w-]{43})$/;

/** A token split into its fields. */
export interface ParsedToken {
  readonly passwordId: string;
  readonly encryptionSalt: string;
  readonly iv: string;
  readonly ciphertext: string;
  /** Milliseconds since the epoch, or 0 for no expiration. */
  readonly expiration: number;
  readonly hmacSalt: string;
  readonly hmac: string;
  /** The first six fields joined by `*`: what the MAC covers. */
  readonly macBase: string;
}

/** Parses a token, or returns undefined when it does not follow the grammar. */
export function parseToken(token: string): ParsedToken | undefined {
  const match = TOKEN.exec(token);
  if (match === null) return undefined;
  const ciphertext = match[4]!;
  // Base64url of n bytes never has a length of 4k+1.
  if (ciphertext.length % 4 === 1) return undefined;
  const hmac = match[7]!;
  return {
    passwordId: match[1]!,
    encryptionSalt: match[2]!,
    iv: match[3]!,
    ciphertext,
    expiration: match[5] === '' ? 0 : Number(match[5]),
    hmacSalt: match[6]!,
    hmac,
    macBase: token.slice(0, token.length - hmac.length - match[6]!.length - 2),
  };
}

/** Size in bytes of the data base64url `text` encodes. */
export function decodedLength(text: string): number {
  return Math.floor((text.length * 3) / 4);
}
