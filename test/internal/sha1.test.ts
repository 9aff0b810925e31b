/**
 * Our SHA-1 (the hash inside the PBKDF2 of iron's key derivation) against FIPS 180 examples
 * and node:crypto, at every length around the block boundaries and resumed from a state.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  sha1,
  sha1Block,
  sha1Digest,
  sha1Finish,
  sha1FinishWords,
  sha1Init,
} from '../../src/internal/sha1.js';
import { ascii, toHex } from './vectors.js';

const nodeSha1 = (message: Uint8Array): string => createHash('sha1').update(message).digest('hex');

describe('sha1: FIPS 180 examples', () => {
  it.each([
    ['empty string', '', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ['"abc" (one block)', 'abc', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    [
      '448-bit message (padding spills into a second block)',
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '84983e441c3bd26ebaae4aa1f95129e5e54670f1',
    ],
    ['one million "a"', 'a'.repeat(1_000_000), '34aa973cd4c4daa4f61eeb2bdbad27316534016f'],
  ])('%s', (_, message, digest) => {
    expect(toHex(sha1(ascii(message)))).toBe(digest);
  });
});

describe('sha1: padding boundaries', () => {
  it('matches node:crypto for every length from 0 to 200 bytes', () => {
    for (let length = 0; length <= 200; length++) {
      const message = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
      expect(toHex(sha1(message)), `length ${length}`).toBe(nodeSha1(message));
    }
  });

  it('hashes only message[start, end) of the buffer', () => {
    const buffer = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    for (const [start, end] of [
      [0, 130],
      [64, 130],
      [128, 188],
      [128, 128],
    ] as const) {
      const state = sha1Init();
      sha1Finish(state, 0, buffer, start, end);
      const out = new Uint8Array(20);
      sha1Digest(state, out);
      expect(toHex(out)).toBe(nodeSha1(buffer.subarray(start, end)));
    }
  });
});

describe('sha1: resuming from a state (the HMAC and PBKDF2 shape)', () => {
  it('a state after whole blocks plus a finish equals the one-shot hash', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 256, maxLength: 256 }),
        (blocks, rest, prefixSource) => {
          const prefix = prefixSource.subarray(0, blocks * 64);
          const state = sha1Init();
          for (let offset = 0; offset < prefix.length; offset += 64)
            sha1Block(state, prefix, offset);
          sha1Finish(state, prefix.length, rest);
          const out = new Uint8Array(20);
          sha1Digest(state, out);
          const whole = new Uint8Array(prefix.length + rest.length);
          whole.set(prefix);
          whole.set(rest, prefix.length);
          expect(toHex(out)).toBe(nodeSha1(whole));
        },
      ),
    );
  });

  it('finishing with a 20-byte message given as words equals finishing with its bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        (block, message) => {
          const words = new Int32Array(5);
          for (let i = 0; i < 5; i++) {
            words[i] =
              (message[i * 4]! << 24) |
              (message[i * 4 + 1]! << 16) |
              (message[i * 4 + 2]! << 8) |
              message[i * 4 + 3]!;
          }
          const state = sha1Init();
          sha1Block(state, block, 0);
          sha1FinishWords(state, 64, words);
          const out = new Uint8Array(20);
          sha1Digest(state, out);
          const whole = new Uint8Array(84);
          whole.set(block);
          whole.set(message, 64);
          expect(toHex(out)).toBe(nodeSha1(whole));
        },
      ),
    );
  });
});
