/**
 * assertPasswordUsable: one check, when a configuration is made, of every secret a password
 * holds against iron's rules for the options in use, so that a configuration it accepts
 * never fails a seal for its password's sake, and one it refuses would have.
 */
import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../../src/iron/backend/node.js';
import { createIron } from '../../src/iron/create-iron.js';
import { resolveOptions, type SealOptionsInput } from '../../src/iron/options.js';
import { assertPasswordUsable, type PasswordInput } from '../../src/iron/password.js';
import { OTHER_PASSWORD, PASSWORD } from './helpers.js';

const bytes = (length: number, fill = 1): Uint8Array => new Uint8Array(length).fill(fill);
const CTR: SealOptionsInput = { encryption: { algorithm: 'aes-128-ctr' } };

/** The error `assertPasswordUsable` throws, or undefined. */
function failure(password: unknown, options?: SealOptionsInput): Error | undefined {
  try {
    assertPasswordUsable(password as PasswordInput, resolveOptions(options));
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

function expectRule(password: unknown, rule: RegExp, options?: SealOptionsInput): void {
  const error = failure(password, options);
  expect(error).toMatchObject({ name: 'SessionError', code: 'ERR_PASSWORD_INVALID' });
  expect(error?.message).toMatch(rule);
}

describe('assertPasswordUsable', () => {
  it.each<[string, unknown, SealOptionsInput | undefined]>([
    ['a string of 32 characters', 'x'.repeat(32), undefined],
    ['a long string', PASSWORD, undefined],
    ['32 bytes (aes-256-cbc)', bytes(32), undefined],
    ['{ id, secret }', { id: 'a1', secret: PASSWORD }, undefined],
    [
      '{ encryption, integrity } of bytes',
      { encryption: bytes(32), integrity: bytes(64) },
      undefined,
    ],
    ['16 + 32 bytes for aes-128-ctr', { encryption: bytes(16), integrity: bytes(32) }, CTR],
    ['a string for aes-128-ctr', PASSWORD, CTR],
    [
      'a map of every shape',
      { 1: PASSWORD, 2: bytes(32), b: { secret: OTHER_PASSWORD } },
      undefined,
    ],
    ['a Buffer', Buffer.alloc(32, 3), undefined],
  ])('accepts %s', (_name, password, options) => {
    expect(failure(password, options)).toBeUndefined();
  });

  it('a string needs minPasswordlength characters, for either part', () => {
    expectRule('x'.repeat(31), /string password must have at least 32 characters/);
    expectRule(PASSWORD.slice(0, 40), /at least 48 characters/, {
      integrity: { minPasswordlength: 48 },
    });
    expectRule({ encryption: PASSWORD, integrity: 'short' }, /at least 32 characters/);
    expect(failure(PASSWORD.slice(0, 40), { encryption: { minPasswordlength: 40 } })).toBe(
      undefined,
    );
  });

  it('bytes used for encryption must be exactly the key size', () => {
    // 64 bytes pass the "at least 32" of a string-minded check, and fail every seal.
    expectRule(bytes(64), /byte password for aes-256-cbc must have exactly 32 bytes/);
    expectRule(bytes(31), /aes-256-cbc must have exactly 32 bytes/);
    expectRule(bytes(32), /byte password for aes-128-ctr must have exactly 16 bytes/, CTR);
    expectRule({ encryption: bytes(64), integrity: bytes(64) }, /exactly 32 bytes/);
  });

  it('bytes used for integrity need at least 32 bytes', () => {
    expectRule(
      { encryption: bytes(32), integrity: bytes(31) },
      /byte password must have at least 32 bytes/,
    );
    expectRule({ encryption: bytes(16), integrity: bytes(16) }, /at least 32 bytes/, CTR);
  });

  it('checks every entry of a map, not only the one that seals', () => {
    expectRule({ 1: 'short', 2: PASSWORD }, /at least 32 characters/);
    expectRule({ 1: PASSWORD, old: bytes(64) }, /exactly 32 bytes/);
    expectRule(
      { 2: PASSWORD, 1: { id: 'x', encryption: bytes(32), integrity: bytes(8) } },
      /at least 32 bytes/,
    );
  });

  it.each<[string, unknown, RegExp]>([
    ['undefined', undefined, /required/],
    ['null', null, /required/],
    ['an empty string', '', /required/],
    ['an empty map', {}, /must not be empty/],
    ['a number', 42, /expected a string, bytes/],
    ['a map entry of the wrong shape', { 1: PASSWORD, 2: 42 }, /expected a string, bytes/],
    ['a secret of the wrong type', { secret: 42 }, /string or a Uint8Array/],
    ['a bad password id', { id: 'a b', secret: PASSWORD }, /an id must be/],
  ])('refuses %s', (_name, password, rule) => {
    expectRule(password, rule);
  });

  it('never puts a secret in its message', () => {
    const secret = 'the-secret-value-'.repeat(2);
    for (const password of [
      secret.slice(0, 20),
      { 1: secret, 2: secret.slice(0, 10) },
      { encryption: secret, integrity: secret.slice(0, 5) },
    ]) {
      const error = failure(password);
      expect(error).toBeDefined();
      expect(error?.message).not.toContain('the-secret');
    }
  });

  it('accepts exactly the single passwords that seal and unseal', async () => {
    const iron = createIron(nodeBackend);
    const candidates: PasswordInput[] = [
      PASSWORD,
      'x'.repeat(31),
      bytes(16),
      bytes(31),
      bytes(32),
      bytes(33),
      bytes(64),
      { encryption: bytes(16), integrity: bytes(32) },
      { encryption: bytes(32), integrity: bytes(31) },
      { encryption: bytes(32), integrity: bytes(48) },
      { encryption: PASSWORD, integrity: bytes(32) },
      { encryption: bytes(16), integrity: PASSWORD },
    ];
    for (const options of [undefined, CTR, { integrity: { minPasswordlength: 40 } }]) {
      for (const [index, password] of candidates.entries()) {
        const accepted = failure(password, options) === undefined;
        let works = true;
        try {
          const token = await iron.seal({ a: 1 }, password, options);
          await iron.unseal(token, password, options);
        } catch (error) {
          expect(error).toMatchObject({ code: 'ERR_PASSWORD_INVALID' });
          works = false;
        }
        expect(accepted, `candidate ${index} with ${JSON.stringify(options)}`).toBe(works);
      }
    }
  });
});
