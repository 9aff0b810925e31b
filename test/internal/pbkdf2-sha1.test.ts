/**
 * Our PBKDF2-HMAC-SHA1 (src/internal/pbkdf2-sha1.ts) against RFC 6070's vectors and
 * node:crypto's pbkdf2Sync: passwords of any length (longer than a block is hashed first),
 * non-ASCII text, salts around the block boundaries (the salt's whole blocks are hashed once
 * for all output blocks), several iterations and output lengths, and the keyed-password
 * cache over its capacity.
 */
import { pbkdf2Sync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pbkdf2Sha1 } from '../../src/internal/pbkdf2-sha1.js';
import { toHex } from './vectors.js';

const PASSWORD = 'some_not_random_password_that_is_also_long_enough';

const node = (password: string, salt: string, iterations: number, length: number): string =>
  pbkdf2Sync(password, salt, iterations, length, 'sha1').toString('hex');

describe('PBKDF2-HMAC-SHA1: RFC 6070 test vectors', () => {
  it.each([
    ['password', 'salt', 1, 20, '0c60c80f961f0e71f3a9b524af6012062fe037a6'],
    ['password', 'salt', 2, 20, 'ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957'],
    ['password', 'salt', 4096, 20, '4b007901b765489abead49d926f721d065a429c1'],
    [
      'passwordPASSWORDpassword',
      'saltSALTsaltSALTsaltSALTsaltSALTsalt',
      4096,
      25,
      '3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038',
    ],
    ['pass\0word', 'sa\0lt', 4096, 16, '56fa6aa75548099dcc37d7f03425e0c3'],
  ])('P=%j S=%j c=%i dkLen=%i', (password, salt, iterations, length, expected) => {
    expect(toHex(new Pbkdf2Sha1(4).derive(password, salt, iterations, length))).toBe(expected);
  });
});

describe('PBKDF2-HMAC-SHA1 against node:crypto', () => {
  it('iron keys: 32 and 16 bytes from 64-character hex salts, 1 to 5 iterations', () => {
    const pbkdf2 = new Pbkdf2Sha1(4);
    fc.assert(
      fc.property(
        fc.string({ minLength: 32, maxLength: 80 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(16, 32),
        (password, saltBytes, iterations, length) => {
          const salt = toHex(saltBytes);
          expect(toHex(pbkdf2.derive(password, salt, iterations, length))).toBe(
            node(password, salt, iterations, length),
          );
        },
      ),
    );
  });

  it('any password and salt text, salts around one and two blocks, any output length', () => {
    const pbkdf2 = new Pbkdf2Sha1(4);
    const salt = fc.oneof(
      fc.string({ maxLength: 140 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.integer({ min: 56, max: 132 }).map((n) => 's'.repeat(n)),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 150 }), fc.string({ unit: 'grapheme', maxLength: 50 })),
        salt,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 70 }),
        (password, saltText, iterations, length) => {
          expect(toHex(pbkdf2.derive(password, saltText, iterations, length))).toBe(
            node(password, saltText, iterations, length),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps answering right as passwords come and go past its capacity', () => {
    const pbkdf2 = new Pbkdf2Sha1(2);
    const passwords = ['a'.repeat(40), 'b'.repeat(70), 'c'.repeat(33), 'a'.repeat(41)];
    for (let round = 0; round < 3; round++) {
      for (const password of passwords) {
        expect(toHex(pbkdf2.derive(password, 'ab12', 1, 32))).toBe(node(password, 'ab12', 1, 32));
      }
    }
    pbkdf2.clear();
    expect(toHex(pbkdf2.derive('d'.repeat(32), 'x', 2, 20))).toBe(node('d'.repeat(32), 'x', 2, 20));
  });

  it('derives into a buffer of the key length, the same bytes as derive', () => {
    const pbkdf2 = new Pbkdf2Sha1(2);
    const out = new Uint8Array(32).fill(0xee);
    expect(pbkdf2.deriveInto(PASSWORD, 'ab'.repeat(32), 1, out)).toBe(out);
    expect(toHex(out)).toBe(node(PASSWORD, 'ab'.repeat(32), 1, 32));
    expect(toHex(pbkdf2.deriveInto(PASSWORD, 'cd', 3, new Uint8Array(16)))).toBe(
      node(PASSWORD, 'cd', 3, 16),
    );
    expect(() => pbkdf2.deriveInto(PASSWORD, 'cd', 1, new Uint8Array(0))).toThrow(RangeError);
  });

  it('refuses iteration counts and lengths that are not positive integers', () => {
    const pbkdf2 = new Pbkdf2Sha1(2);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => pbkdf2.derive('p', 's', bad, 32)).toThrow(RangeError);
      expect(() => pbkdf2.derive('p', 's', 1, bad)).toThrow(RangeError);
    }
  });
});
