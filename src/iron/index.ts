/**
 * `sealed-session/iron`: seal and unseal iron Fe26.2 tokens, byte-compatible with
 * @hapi/iron, iron-webcrypto and h3/vinxi, and read a token's public fields without its
 * password. The crypto backend (node:crypto or WebCrypto) is chosen by the package's
 * export conditions.
 */
import { iron } from './instance.js';
import type { SealOptionsInput } from './options.js';
import type { PasswordInput } from './password.js';

export { defaults } from './options.js';
export type {
  EncryptionAlgorithm,
  IntegrityAlgorithm,
  SealOptions,
  SealOptionsInput,
  SealOptionsSub,
} from './options.js';
export type {
  Password,
  PasswordInput,
  PasswordMap,
  PasswordSecret,
  PasswordSpecific,
  RawPassword,
} from './password.js';
export { inspectToken } from './inspect-token.js';
export type {
  InspectTokenOptions,
  TokenCookieFit,
  TokenExpiration,
  TokenInspection,
  TokenSalt,
} from './inspect-token.js';
export { SessionError, isSessionError, type SessionErrorCode } from '../errors.js';

/** The crypto backend in use: `'node'` (node:crypto, also on Bun and Deno) or `'web'` (WebCrypto). */
export const backend: 'node' | 'web' = iron.backend;

/**
 * Sets how many key derivations for tokens not yet verified may run at once, for the whole
 * process (`seal`, `unseal` and sessions share one engine). Default: 16.
 *
 * A token whose salts this process has no key for needs a PBKDF2 derivation before its MAC
 * can be checked, and anyone can send such tokens. Derivations that run off the calling
 * thread are the ones counted: on node:crypto, those of more than 100 iterations (they use
 * libuv's thread pool, shared with fs, dns and zlib); on WebCrypto, those of more than 32
 * iterations (8 on workerd; fewer are derived on the calling thread). On node:crypto (Node,
 * Bun, Deno) these derivations also take at most half of one thread's time on average, and
 * a token that would need one more derivation past the limit or that share waits for it,
 * in order; past 1024 waiting, and at once on WebCrypto, where no timer outlives its
 * request in workerd, it is refused with `ERR_DERIVATION_LIMIT`, which sessions treat as a
 * request without a token. Requests carrying a token whose derivation is already running
 * (or waiting) join it without counting again, and sealing and keys already derived are
 * never limited. Synchronous derivations are not counted either; on node:crypto at most 4
 * of them start in one turn of the event loop, and the tokens past it wait for the next
 * turns (never refused).
 *
 * Raise it with the thread pool (`UV_THREADPOOL_SIZE`); lower it to keep more of the pool
 * for other work. Derivations already running go on when the limit drops, and tokens
 * waiting start when it rises, as far as the share of time allows.
 *
 * @param limit - a positive integer
 * @throws SessionError `ERR_OPTIONS_INVALID` when `limit` is not a positive integer
 */
export function setDerivationLimit(limit: number): void {
  iron.setDerivationLimit(limit);
}

/**
 * Seals `object` into an Fe26.2 token: JSON, AES-256-CBC (or AES-128-CTR), HMAC-SHA256.
 *
 * @param object - any value JSON represents faithfully
 * @param password - a string (32+ characters), bytes, `{ id, secret }`,
 *   `{ id, encryption, integrity }`, or a map of those by id (the highest numeric id seals)
 * @param options - iron options, merged over {@link defaults}
 * @returns the token
 * @throws SessionError `ERR_DATA_INVALID`, `ERR_PASSWORD_INVALID`, `ERR_OPTIONS_INVALID`, `ERR_CRYPTO`
 */
export function seal(
  object: unknown,
  password: PasswordInput,
  options?: SealOptionsInput,
): Promise<string> {
  return iron.seal(object, password, options);
}

/**
 * Verifies and opens an Fe26.2 token.
 *
 * @param token - the token
 * @param password - as for {@link seal}; a map is looked up by the token's password id
 *   (`default` for tokens without one): this is how passwords are rotated
 * @param options - iron options, merged over {@link defaults}
 * @returns the sealed value
 * @throws SessionError `ERR_SEAL_INVALID`, `ERR_SEAL_UNSEAL_FAILED`, `ERR_SEAL_EXPIRED`,
 *   `ERR_PASSWORD_NOT_FOUND`, `ERR_PASSWORD_INVALID`, `ERR_OPTIONS_INVALID`, `ERR_DATA_INVALID`,
 *   `ERR_DERIVATION_LIMIT` (see {@link setDerivationLimit}), `ERR_CRYPTO`
 */
export function unseal(
  token: string,
  password: PasswordInput,
  options?: SealOptionsInput,
): Promise<unknown> {
  return iron.unseal(token, password, options);
}
