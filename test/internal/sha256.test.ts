/**
 * Our SHA-256 (the WebCrypto backend's HMAC is built on it) against node:crypto on NIST
 * vectors and random inputs of every length around the block boundaries.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  sha256,
  sha256Block,
  sha256Digest,
  sha256Finish,
  sha256FinishWords,
  sha256Init,
} from '../../src/internal/sha256.js';
import { SHA256_VECTORS, toHex } from './vectors.js';

const nodeSha256 = (message: Uint8Array): string =>
  createHash('sha256').update(message).digest('hex');

describe('sha256: NIST known answers', () => {
  it.each(SHA256_VECTORS)('$name', ({ message, digest }) => {
    expect(toHex(sha256(message()))).toBe(digest);
  });
});

describe('sha256: padding boundaries', () => {
  // Lengths around 55/56 (padding fits or spills) and 63/64 (block edges), for 1 to 3 blocks.
  it('matches node:crypto for every length from 0 to 200 bytes', () => {
    for (let length = 0; length <= 200; length++) {
      const message = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
      expect(toHex(sha256(message)), `length ${length}`).toBe(nodeSha256(message));
    }
  });

  it('hashes only the first `length` bytes of the buffer', () => {
    const buffer = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const state = sha256Init();
    sha256Finish(state, 0, buffer, 130);
    const out = new Uint8Array(32);
    sha256Digest(state, out);
    expect(toHex(out)).toBe(nodeSha256(buffer.subarray(0, 130)));
  });
});

describe('sha256: resuming from a state (the HMAC shape)', () => {
  it('a state after whole blocks plus a finish equals the one-shot hash', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 256, maxLength: 256 }),
        (blocks, rest, prefixSource) => {
          const prefix = prefixSource.subarray(0, blocks * 64);
          const state = sha256Init();
          for (let offset = 0; offset < prefix.length; offset += 64)
            sha256Block(state, prefix, offset);
          sha256Finish(state, prefix.length, rest);
          const out = new Uint8Array(32);
          sha256Digest(state, out);
          const whole = new Uint8Array(prefix.length + rest.length);
          whole.set(prefix);
          whole.set(rest, prefix.length);
          expect(toHex(out)).toBe(nodeSha256(whole));
        },
      ),
    );
  });

  it('finishing with a 32-byte message given as words equals finishing with its bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (block, message) => {
          const words = new Uint32Array(8);
          for (let i = 0; i < 8; i++) {
            words[i] =
              (message[i * 4]! << 24) |
              (message[i * 4 + 1]! << 16) |
              (message[i * 4 + 2]! << 8) |
              message[i * 4 + 3]!;
          }
          const viaWords = sha256Init();
          sha256Block(viaWords, block, 0);
          sha256FinishWords(viaWords, 64, words);
          const viaBytes = sha256Init();
          sha256Block(viaBytes, block, 0);
          sha256Finish(viaBytes, 64, message);
          expect([...viaWords]).toEqual([...viaBytes]);
        },
      ),
    );
  });

  it('sha256Init hands out a fresh state each time', () => {
    const first = sha256Init();
    sha256Finish(first, 0, new Uint8Array(10));
    expect(toHex(sha256(new Uint8Array(0)))).toBe(nodeSha256(new Uint8Array(0)));
    expect(sha256Init()).not.toBe(sha256Init());
  });
});
