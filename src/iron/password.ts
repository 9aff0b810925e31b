/**
 * Iron's password shapes (a secret, `{ id, secret }`, `{ id, encryption, integrity }`, a map
 * of those by id), how seal and unseal pick one, and the one definition of the rules a
 * secret must follow for the options in use.
 */
import { SessionError } from '../errors.js';
import { KEY_BYTES, type KeyAlgorithm } from './backend/types.js';
import type { ResolvedOptions, SealOptionsSub } from './options.js';

/** A secret: a string of at least 32 characters, or key bytes. */
export type RawPassword = string | Uint8Array;

/** A secret with an id, written into the token so the right secret is found on unseal. */
export interface PasswordSecret {
  readonly id?: string | undefined;
  readonly secret: RawPassword;
}

/** Separate secrets for encryption and integrity, with an optional id. */
export interface PasswordSpecific {
  readonly id?: string | undefined;
  readonly encryption: RawPassword;
  readonly integrity: RawPassword;
}

/** One password in any of iron's shapes. */
export type Password = RawPassword | PasswordSecret | PasswordSpecific;

/**
 * Passwords by id, for rotation. Unseal looks up the token's password id (`default` for a
 * token without one). Seal uses the entry with the highest numeric id, as iron-session does.
 */
export type PasswordMap = Readonly<Record<string, RawPassword | PasswordSecret | PasswordSpecific>>;

/** What `seal` and `unseal` accept. */
export type PasswordInput = Password | PasswordMap;

/** A password resolved to its parts. */
export interface NormalizedPassword {
  readonly id: string;
  readonly encryption: RawPassword;
  readonly integrity: RawPassword;
}

// iron: "passwordId: /^\w+$/" — letters, digits and underscore; empty means no id.
const PASSWORD_ID = /^\w+$/;

function invalid(rule: string): SessionError {
  return new SessionError('ERR_PASSWORD_INVALID', `Invalid password: ${rule}`);
}

function isRaw(value: unknown): value is RawPassword {
  return typeof value === 'string' || value instanceof Uint8Array;
}

/** An object is one password (not a map) when it has `secret`, or `encryption` and `integrity`. */
function isPasswordObject(value: object): value is PasswordSecret | PasswordSpecific {
  return 'secret' in value || ('encryption' in value && 'integrity' in value);
}

function checkId(id: unknown): string {
  if (id === undefined || id === '') return '';
  if (typeof id !== 'string' || !PASSWORD_ID.test(id)) {
    throw invalid('an id must be letters, digits and underscores (/^\\w+$/)');
  }
  return id;
}

function checkRaw(value: unknown): RawPassword {
  if (!isRaw(value)) throw invalid('a secret must be a string or a Uint8Array');
  return value;
}

const normalizedObjects = new WeakMap<object, NormalizedPassword>();

/** Resolves one password (not a map) to its parts; `id` overrides the object's own id. */
export function normalizePassword(password: unknown, id?: string): NormalizedPassword {
  if (isRaw(password)) return { id: id ?? '', encryption: password, integrity: password };
  if (typeof password !== 'object' || password === null || !isPasswordObject(password)) {
    throw invalid('expected a string, bytes, { id, secret } or { id, encryption, integrity }');
  }
  if (id === undefined) {
    const cached = normalizedObjects.get(password);
    if (cached !== undefined) return cached;
  }
  const ownId = checkId(password.id);
  const result: NormalizedPassword =
    'secret' in password
      ? {
          id: id ?? ownId,
          encryption: checkRaw(password.secret),
          integrity: checkRaw(password.secret),
        }
      : {
          id: id ?? ownId,
          encryption: checkRaw(password.encryption),
          integrity: checkRaw(password.integrity),
        };
  if (id === undefined) normalizedObjects.set(password, result);
  return result;
}

/** Tells a password map from a single password. */
export function isPasswordMap(password: unknown): password is PasswordMap {
  return (
    typeof password === 'object' &&
    password !== null &&
    !(password instanceof Uint8Array) &&
    !isPasswordObject(password)
  );
}

const sealingPasswords = new WeakMap<object, NormalizedPassword>();

/**
 * The password a seal uses: a single password as given, or from a map the entry whose id
 * is the largest number (a map with one entry uses that entry).
 *
 * @throws SessionError `ERR_PASSWORD_INVALID`
 */
export function passwordForSeal(password: PasswordInput): NormalizedPassword {
  if (!isPasswordMap(password)) return normalizePassword(password);
  const cached = sealingPasswords.get(password);
  if (cached !== undefined) return cached;
  const ids = Object.keys(password);
  if (ids.length === 0) throw invalid('a password map must not be empty');
  let chosen: string | undefined;
  if (ids.length === 1) {
    chosen = ids[0];
  } else {
    let best = -Infinity;
    for (const id of ids) {
      const n = /^\d+$/.test(id) ? Number(id) : NaN;
      if (n > best) {
        best = n;
        chosen = id;
      }
    }
  }
  if (chosen === undefined) {
    throw invalid(
      'to seal with a map of several passwords, give them numeric ids (the highest seals)',
    );
  }
  const result = normalizePassword(password[chosen], chosen === 'default' ? '' : checkId(chosen));
  sealingPasswords.set(password, result);
  return result;
}

/**
 * The password that unseals a token with `tokenId` (empty when the token has none). A
 * string or bytes password ignores the id, as in @hapi/iron; a password object must carry
 * the same id; a map is looked up by id, then `default` for id-less tokens.
 *
 * @throws SessionError `ERR_PASSWORD_NOT_FOUND`, `ERR_PASSWORD_INVALID`
 */
export function passwordForUnseal(password: PasswordInput, tokenId: string): NormalizedPassword {
  if (isRaw(password)) return normalizePassword(password);
  if (!isPasswordMap(password)) {
    const normalized = normalizePassword(password);
    if (normalized.id !== tokenId) throw notFound();
    return normalized;
  }
  const key = tokenId === '' ? 'default' : tokenId;
  const entry = Object.hasOwn(password, key) ? password[key] : undefined;
  if (entry === undefined) throw notFound();
  return normalizePassword(entry, tokenId);
}

function notFound(): SessionError {
  return new SessionError('ERR_PASSWORD_NOT_FOUND', 'No password for the id of this token');
}

/**
 * Checks one secret against iron's rules for its use: a string needs at least
 * `minPasswordlength` characters; bytes are the key itself, so an integrity key needs at
 * least 32 bytes and an encryption key exactly the algorithm's key size. The one definition
 * of these rules: the engine applies it on every seal and unseal, {@link assertPasswordUsable}
 * to a whole configuration up front.
 *
 * @throws SessionError `ERR_PASSWORD_INVALID` naming the rule, never the secret
 */
export function assertSecretUsable(
  secret: RawPassword,
  algorithm: KeyAlgorithm,
  sub: SealOptionsSub,
): void {
  if (typeof secret === 'string') {
    if (secret.length < sub.minPasswordlength) {
      throw invalid(`a string password must have at least ${sub.minPasswordlength} characters`);
    }
  } else if (algorithm === 'sha256') {
    if (secret.length < KEY_BYTES.sha256) {
      throw invalid(`a byte password must have at least ${KEY_BYTES.sha256} bytes`);
    }
  } else if (secret.length !== KEY_BYTES[algorithm]) {
    throw invalid(
      `a byte password for ${algorithm} must have exactly ${KEY_BYTES[algorithm]} bytes`,
    );
  }
}

/**
 * Checks that `password` can seal and unseal under `options`: its shape, and every secret it
 * holds (each entry of a map, the encryption and the integrity part of each) against
 * {@link assertSecretUsable}. No secret of a password that passes is refused later by a
 * seal or an unseal under the same options, so callers can check once, when a configuration
 * is made, instead of failing at the first request. (Which entry of a map seals is
 * `passwordForSeal`'s business.)
 *
 * @param password - any shape `seal` and `unseal` accept
 * @param options - the options the password will be used with (from `resolveOptions`)
 * @throws SessionError `ERR_PASSWORD_INVALID` naming the rule broken, never the secret
 */
export function assertPasswordUsable(password: PasswordInput, options: ResolvedOptions): void {
  const given: unknown = password;
  if (given === undefined || given === null || given === '') {
    throw invalid('a password is required');
  }
  const entries: [string | undefined, unknown][] = isPasswordMap(given)
    ? Object.entries(given)
    : [[undefined, given]];
  if (entries.length === 0) throw invalid('a password map must not be empty');
  for (const [id, entry] of entries) {
    const normalized = normalizePassword(entry, id);
    assertSecretUsable(normalized.encryption, options.encryption.algorithm, options.encryption);
    assertSecretUsable(normalized.integrity, 'sha256', options.integrity);
  }
}
