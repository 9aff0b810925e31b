/**
 * The verified-token cache: tokens this engine sealed or whose MAC it verified, with their
 * plaintext. The same session cookie arrives on every request, and a token already
 * verified under the same secrets and options needs no crypto again. The caller still
 * checks the expiration on every hit and parses its own copy of the data.
 */
import { LruCache } from '../internal/lru.js';
import { copyJson, parseSafe } from './json.js';
import {
  passwordForUnseal,
  type NormalizedPassword,
  type PasswordInput,
  type RawPassword,
} from './password.js';

/** A token whose MAC verified (or that we sealed), with what it decrypts to. */
export interface VerifiedToken {
  readonly token: string;
  readonly passwordId: string;
  readonly encryption: RawPassword;
  readonly integrity: RawPassword;
  /** The options' fingerprint: what changes the meaning of a token. */
  readonly fingerprint: string;
  /** Milliseconds since the epoch, or 0 for no expiration. */
  readonly expiration: number;
  readonly plaintext: string;
  /**
   * Hits so far, and from the second one on the parsed plaintext that each hit copies
   * (see {@link VerifiedTokens.data}); never handed out itself.
   */
  hits: number;
  parsed: unknown;
}

/** Characters of an HMAC-SHA256 digest in base64url without padding: a token's last field. */
const MAC_CHARS = 43;

/** A bounded cache of verified tokens. */
export class VerifiedTokens {
  // Keyed by the token's MAC (its last 43 characters), not the whole token: a Map hashes a
  // string key in full, and hashing whole tokens on every seal and every miss was measured
  // as the larger part of a lookup (bench/results/NOTES.md). A hit still needs the whole
  // token to be equal (`find`), so the cache answers exactly as one keyed by the token
  // would.
  readonly #entries: LruCache<string, VerifiedToken>;
  readonly #maxTokenLength: number;

  /**
   * @param capacity - tokens kept
   * @param maxTokenLength - longest token kept; longer ones are never remembered
   * @throws RangeError when `capacity` is not an integer of at least 2
   */
  constructor(capacity: number, maxTokenLength: number) {
    this.#entries = new LruCache(capacity);
    this.#maxTokenLength = maxTokenLength;
  }

  /**
   * The entry of `token` if it verified under the very secrets `password` gives its
   * password id, and under options of the same `fingerprint`; else undefined.
   *
   * @throws SessionError `ERR_PASSWORD_NOT_FOUND`, `ERR_PASSWORD_INVALID` from
   *   `passwordForUnseal`, for a known token whose id `password` does not hold
   */
  find(token: string, password: PasswordInput, fingerprint: string): VerifiedToken | undefined {
    if (token.length <= MAC_CHARS) return undefined;
    const entry = this.#entries.get(token.slice(-MAC_CHARS));
    if (entry?.token !== token) return undefined;
    const pw = passwordForUnseal(password, entry.passwordId);
    return sameSecret(pw.encryption, entry.encryption) &&
      sameSecret(pw.integrity, entry.integrity) &&
      entry.fingerprint === fingerprint
      ? entry
      : undefined;
  }

  /** Remembers a token just sealed or verified, unless it is longer than the bound. */
  remember(
    token: string,
    mac: string,
    pw: NormalizedPassword,
    fingerprint: string,
    expiration: number,
    plaintext: string,
  ): void {
    if (token.length > this.#maxTokenLength) return;
    this.#entries.set(mac, {
      token,
      passwordId: pw.id,
      encryption: snapshot(pw.encryption),
      integrity: snapshot(pw.integrity),
      fingerprint,
      expiration,
      plaintext,
      hits: 0,
      parsed: undefined,
    });
  }

  /**
   * A fresh copy of a found entry's data, for each caller. The same cookie comes on every
   * request, and JSON.parse of its plaintext on each was a large share of a read: from the
   * second hit on, the entry keeps one parse and hands out copies of it (copyJson, a third
   * of a parse). A token read once (a session rewritten on every request) is parsed once,
   * as before, and keeps nothing more.
   *
   * @throws SessionError `ERR_DATA_INVALID`, `ERR_SEAL_UNSEAL_FAILED` from `parseSafe`
   */
  data(entry: VerifiedToken): unknown {
    if (entry.hits < 2) entry.hits++;
    if (entry.hits === 1) return parseSafe(entry.plaintext);
    if (entry.parsed === undefined) entry.parsed = parseSafe(entry.plaintext);
    return copyJson(entry.parsed) ?? parseSafe(entry.plaintext);
  }

  /** Forgets every token. */
  clear(): void {
    this.#entries.clear();
  }
}

/**
 * A byte secret is copied (never `Buffer#slice`, a view): the cache must remember the key,
 * not the buffer.
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
