/**
 * Shared fixtures of the iron suites: passwords, the two backends, and thin wrappers over
 * the peer implementations (@hapi/iron 7, iron-webcrypto 1.x and 2.x) that take the same
 * partial options as ours and merge them over iron's defaults, as each peer needs.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes, webcrypto } from 'node:crypto';
import * as Hapi from '@hapi/iron';
import * as IronV1 from 'iron-webcrypto-v1';
import * as IronV2 from 'iron-webcrypto-v2';
import { expect } from 'vitest';
import { nodeBackend } from '../../src/iron/backend/node.js';
import type { CryptoBackend } from '../../src/iron/backend/types.js';
import { webBackend, workerdBackend } from '../../src/iron/backend/web.js';
import { isSessionError, type SessionErrorCode } from '../../src/errors.js';
import { defaults, type SealOptionsInput } from '../../src/iron/options.js';

/** @hapi/iron's own test password. */
export const PASSWORD = 'some_not_random_password_that_is_also_long_enough';
export const OTHER_PASSWORD = 'another_password_that_is_at_least_32_chars';
export const THIRD_PASSWORD = 'yet_another_password_of_sufficient_length!';

/** 32 fixed bytes, a valid byte password for aes-256-cbc and sha256. */
export const BYTES_32: Uint8Array = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);
export const OTHER_BYTES_32: Uint8Array = Uint8Array.from(
  { length: 32 },
  (_, i) => (i * 13 + 101) & 0xff,
);

export const backends: readonly (readonly [string, CryptoBackend])[] = [
  ['node', nodeBackend],
  ['web', webBackend],
  // The web backend as chosen on workerd: AES always through crypto.subtle.
  ['workerd', workerdBackend],
];

/** A password as the peers take it (our shapes, byte passwords as Uint8Array). */
export type PeerSecret = string | Uint8Array;
export type PeerPassword =
  | PeerSecret
  | { readonly id?: string; readonly secret: PeerSecret }
  | { readonly id?: string; readonly encryption: PeerSecret; readonly integrity: PeerSecret };
export type PeerPasswordMap = Readonly<Record<string, PeerPassword>>;

export interface Peer {
  readonly name: string;
  seal(object: unknown, password: PeerPassword, options?: SealOptionsInput): Promise<string>;
  unseal(
    token: string,
    password: PeerSecret | PeerPasswordMap,
    options?: SealOptionsInput,
  ): Promise<unknown>;
}

interface FullSub {
  saltBits: number;
  algorithm: 'aes-256-cbc' | 'aes-128-ctr' | 'sha256';
  iterations: number;
  minPasswordlength: number;
  salt?: string;
  iv?: Uint8Array;
}

interface FullOptions {
  encryption: FullSub;
  integrity: FullSub;
  ttl: number;
  timestampSkewSec: number;
  localtimeOffsetMsec: number;
}

/** Merges partial options over iron's defaults, dropping undefined values. */
export function fullOptions(input: SealOptionsInput = {}): FullOptions {
  const sub = (base: object, given: object | undefined): FullSub => {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(given ?? {})) {
      if (value !== undefined) out[key] = value;
    }
    return out as unknown as FullSub;
  };
  return {
    encryption: sub(defaults.encryption, input.encryption),
    integrity: sub(defaults.integrity, input.integrity),
    ttl: input.ttl ?? defaults.ttl,
    timestampSkewSec: input.timestampSkewSec ?? defaults.timestampSkewSec,
    localtimeOffsetMsec: input.localtimeOffsetMsec ?? defaults.localtimeOffsetMsec,
  };
}

/** @hapi/iron checks Buffer.isBuffer: byte secrets (and a fixed IV) must be Buffers. */
function toBuffer(secret: PeerSecret): string | Buffer {
  return typeof secret === 'string' ? secret : Buffer.from(secret);
}

function hapiPassword(password: PeerPassword): Hapi.password.Hash[string] {
  if (typeof password === 'string' || password instanceof Uint8Array) return toBuffer(password);
  if ('secret' in password) {
    return password.id === undefined
      ? { secret: toBuffer(password.secret) }
      : { id: password.id, secret: toBuffer(password.secret) };
  }
  const specific = {
    encryption: toBuffer(password.encryption),
    integrity: toBuffer(password.integrity),
  };
  return password.id === undefined ? specific : { id: password.id, ...specific };
}

function hapiOptions(input: SealOptionsInput | undefined): Hapi.SealOptions {
  const options: FullOptions = fullOptions(input);
  if (options.encryption.iv !== undefined) {
    options.encryption.iv = Buffer.from(options.encryption.iv);
  }
  return options;
}

export const hapi: Peer = {
  name: '@hapi/iron 7',
  seal: (object, password, options) =>
    Hapi.seal(object, hapiPassword(password), hapiOptions(options)),
  async unseal(token, password, options) {
    const pw: Hapi.password.Hash | string | Buffer =
      typeof password === 'string' || password instanceof Uint8Array
        ? toBuffer(password)
        : Object.fromEntries(Object.entries(password).map(([id, p]) => [id, hapiPassword(p)]));
    const value: unknown = await Hapi.unseal(token, pw, hapiOptions(options));
    return value;
  },
};

const webcryptoV1 = webcrypto as unknown as Parameters<typeof IronV1.seal>[0];

export const ironWebcryptoV1: Peer = {
  name: 'iron-webcrypto 1.x',
  seal: (object, password, options) =>
    IronV1.seal(
      webcryptoV1,
      object,
      password,
      fullOptions(options) as unknown as IronV1.SealOptions,
    ),
  unseal: (token, password, options) =>
    IronV1.unseal(
      webcryptoV1,
      token,
      password,
      fullOptions(options) as unknown as IronV1.SealOptions,
    ),
};

export const ironWebcryptoV2: Peer = {
  name: 'iron-webcrypto 2.x',
  seal: (object, password, options) =>
    IronV2.seal(object, password, fullOptions(options) as unknown as IronV2.SealOptions),
  unseal: (token, password, options) =>
    IronV2.unseal(token, password, fullOptions(options) as unknown as IronV2.SealOptions),
};

export const peers: readonly Peer[] = [hapi, ironWebcryptoV1, ironWebcryptoV2];

/** Awaits `promise`, expecting a SessionError; returns it for further checks. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code: string }> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a rejection').toBeDefined();
  expect(isSessionError(caught), `not a SessionError: ${String(caught)}`).toBe(true);
  return caught as Error & { code: string };
}

/** Expects `promise` to reject with a SessionError of `code`. */
export async function expectCode(promise: Promise<unknown>, code: SessionErrorCode): Promise<void> {
  const error = await rejection(promise);
  expect(error.name).toBe('SessionError');
  expect(error.code).toBe(code);
}

/** Splits a token into its eight fields. */
export function fields(token: string): string[] {
  const parts = token.split('*');
  expect(parts).toHaveLength(8);
  return parts;
}

/**
 * Builds an Fe26.2 token around any plaintext with node:crypto directly (independent of
 * the engine), so tests can seal text no well-behaved sealer would produce.
 */
export function handSeal(
  plaintext: string,
  password: string,
  options: { readonly id?: string; readonly expiration?: string } = {},
): string {
  const encSalt = randomBytes(32).toString('hex');
  const macSalt = randomBytes(32).toString('hex');
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', pbkdf2Sync(password, encSalt, 1, 32, 'sha1'), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const base = `Fe26.2*${options.id ?? ''}*${encSalt}*${iv.toString('base64url')}*${ciphertext.toString('base64url')}*${options.expiration ?? ''}`;
  const mac = createHmac('sha256', pbkdf2Sync(password, macSalt, 1, 32, 'sha1'))
    .update(base)
    .digest('base64url');
  return `${base}*${macSalt}*${mac}`;
}
