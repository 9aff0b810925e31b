/**
 * Iron's options, in @hapi/iron's shape and with its defaults: their types, their
 * validation, and the resolved form the engine uses (cached per options object), with a
 * fingerprint of what changes the meaning of a token.
 */
import { SessionError } from '../errors.js';

/** Encryption algorithms of iron. */
export type EncryptionAlgorithm = 'aes-256-cbc' | 'aes-128-ctr';
/** Integrity algorithms of iron. */
export type IntegrityAlgorithm = 'sha256';

/** Options of one key (encryption or integrity), as in @hapi/iron. */
export interface SealOptionsSub<A extends string = string> {
  /** Random salt size in bits for string passwords. @default 256 */
  readonly saltBits: number;
  /** Algorithm. @default 'aes-256-cbc' (encryption), 'sha256' (integrity) */
  readonly algorithm: A;
  /** PBKDF2 iterations for string passwords. @default 1 */
  readonly iterations: number;
  /** Minimum length of string passwords. @default 32 */
  readonly minPasswordlength: number;
  /** Fixed salt (hex text) instead of a random one; for tests and known answers only. */
  readonly salt?: string | undefined;
  /** Fixed IV instead of a random one (encryption only); for tests and known answers only. */
  readonly iv?: Uint8Array | undefined;
}

/** The full iron options, as @hapi/iron's `defaults`. */
export interface SealOptions {
  readonly encryption: SealOptionsSub<EncryptionAlgorithm>;
  readonly integrity: SealOptionsSub<IntegrityAlgorithm>;
  /** Token lifetime in milliseconds; 0 means the token carries no expiration. @default 0 */
  readonly ttl: number;
  /** Clock skew allowed when checking an expiration, in seconds. @default 60 */
  readonly timestampSkewSec: number;
  /** Offset added to the local clock, in milliseconds. @default 0 */
  readonly localtimeOffsetMsec: number;
}

/** Options as callers pass them: any subset, merged over {@link defaults}. */
export interface SealOptionsInput {
  readonly encryption?: Partial<SealOptionsSub<EncryptionAlgorithm>> | undefined;
  readonly integrity?: Partial<SealOptionsSub<IntegrityAlgorithm>> | undefined;
  readonly ttl?: number | undefined;
  readonly timestampSkewSec?: number | undefined;
  readonly localtimeOffsetMsec?: number | undefined;
}

/** @hapi/iron's defaults, frozen: callers clone, never mutate. */
export const defaults: SealOptions = Object.freeze({
  encryption: Object.freeze({
    saltBits: 256,
    algorithm: 'aes-256-cbc',
    iterations: 1,
    minPasswordlength: 32,
  }),
  integrity: Object.freeze({
    saltBits: 256,
    algorithm: 'sha256',
    iterations: 1,
    minPasswordlength: 32,
  }),
  ttl: 0,
  timestampSkewSec: 60,
  localtimeOffsetMsec: 0,
} as const);

/** Options after validation, with a fingerprint of what changes the meaning of a token. */
export interface ResolvedOptions extends SealOptions {
  /** Same fingerprint = a token verified under one is valid under the other. */
  readonly fingerprint: string;
}

function invalid(rule: string): SessionError {
  return new SessionError('ERR_OPTIONS_INVALID', `Invalid iron options: ${rule}`);
}

// Hex salts are what every iron implementation writes (the hex text of random bytes); the
// bound keeps attacker-chosen salts from making key derivation arbitrarily expensive.
const SALT_TEXT = /^[0-9a-fA-F]{1,256}$/;
const MAX_ITERATIONS = 10_000_000;

function resolveSub<A extends string>(
  kind: 'encryption' | 'integrity',
  base: SealOptionsSub<A>,
  input: unknown,
  algorithms: readonly string[],
): SealOptionsSub<A> {
  if (input !== undefined && (typeof input !== 'object' || input === null))
    throw invalid(`${kind} must be an object`);
  const merged = { ...base, ...stripUndefined(input ?? {}) } as SealOptionsSub<A>;
  if (!algorithms.includes(merged.algorithm)) {
    throw invalid(`${kind}.algorithm must be one of ${algorithms.join(', ')}`);
  }
  if (
    !Number.isInteger(merged.iterations) ||
    merged.iterations < 1 ||
    merged.iterations > MAX_ITERATIONS
  ) {
    throw invalid(`${kind}.iterations must be an integer from 1 to ${MAX_ITERATIONS}`);
  }
  if (!Number.isInteger(merged.saltBits) || merged.saltBits < 64 || merged.saltBits > 1024) {
    throw invalid(`${kind}.saltBits must be an integer from 64 to 1024`);
  }
  if (!Number.isInteger(merged.minPasswordlength) || merged.minPasswordlength < 32) {
    throw invalid(`${kind}.minPasswordlength must be an integer of at least 32`);
  }
  if (
    merged.salt !== undefined &&
    (typeof merged.salt !== 'string' || !SALT_TEXT.test(merged.salt))
  ) {
    throw invalid(`${kind}.salt must be 1 to 256 hex characters`);
  }
  if (merged.iv !== undefined && (!(merged.iv instanceof Uint8Array) || merged.iv.length !== 16)) {
    throw invalid(`${kind}.iv must be 16 bytes`);
  }
  return Object.freeze(merged);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] !== undefined) out[key] = value[key];
  }
  return out;
}

function finiteNumber(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw invalid(`${name} must be a finite number of at least ${min}`);
  }
  return value;
}

const resolvedCache = new WeakMap<object, ResolvedOptions>();

function fingerprintOf(options: SealOptions): string {
  const { encryption: e, integrity: i } = options;
  return `${e.algorithm}/${e.iterations}/${e.minPasswordlength}|${i.algorithm}/${i.iterations}/${i.minPasswordlength}`;
}

const resolvedDefaults: ResolvedOptions = Object.freeze({
  ...defaults,
  fingerprint: fingerprintOf(defaults),
});

/**
 * Validates options and merges them over the defaults. Results are cached per options
 * object, so passing the same object on every call costs one WeakMap lookup.
 *
 * @throws SessionError `ERR_OPTIONS_INVALID` naming the rule broken
 */
export function resolveOptions(options: SealOptionsInput | undefined): ResolvedOptions {
  if (options === undefined) return resolvedDefaults;
  // Checked as unknown: JavaScript callers and config files reach here unchecked.
  const input: unknown = options;
  if (typeof input !== 'object' || input === null) throw invalid('options must be an object');
  const cached = resolvedCache.get(input);
  if (cached !== undefined) return cached;
  const given = input as Record<keyof SealOptionsInput, unknown>;
  const resolved: SealOptions = {
    encryption: resolveSub('encryption', defaults.encryption, given.encryption, [
      'aes-256-cbc',
      'aes-128-ctr',
    ]),
    integrity: resolveSub('integrity', defaults.integrity, given.integrity, ['sha256']),
    ttl: finiteNumber('ttl', given.ttl ?? defaults.ttl, 0),
    timestampSkewSec: finiteNumber(
      'timestampSkewSec',
      given.timestampSkewSec ?? defaults.timestampSkewSec,
      0,
    ),
    localtimeOffsetMsec:
      given.localtimeOffsetMsec === undefined
        ? 0
        : finiteNumber('localtimeOffsetMsec', given.localtimeOffsetMsec, -Number.MAX_VALUE),
  };
  const result: ResolvedOptions = Object.freeze({
    ...resolved,
    fingerprint: fingerprintOf(resolved),
  });
  resolvedCache.set(input, result);
  return result;
}
