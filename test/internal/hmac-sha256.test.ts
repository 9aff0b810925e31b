/**
 * Our HMAC-SHA256 against node:crypto: RFC 4231 vectors, and random keys (shorter and
 * longer than a block) and messages.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHmacKey, hmacSha256, hmacSha256Utf8 } from '../../src/internal/hmac-sha256.js';
import { RFC4231_VECTORS, toHex } from './vectors.js';

const nodeHmac = (key: Uint8Array, data: Uint8Array | string): string =>
  createHmac('sha256', key).update(data).digest('hex');

describe('hmacSha256: RFC 4231 test cases 1-7', () => {
  // Test case 5 publishes only the first 128 bits of the MAC: compare that prefix.
  it.each(RFC4231_VECTORS)('$name', ({ key, data, mac }) => {
    const out = toHex(hmacSha256(createHmacKey(key), data));
    expect(out).toHaveLength(64);
    expect(out.slice(0, mac.length)).toBe(mac);
  });
});

describe('hmacSha256: against node:crypto', () => {
  it('equals createHmac for random keys (0-200 bytes) and messages (0-2000 bytes)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 2000 }),
        (key, message) => {
          expect(toHex(hmacSha256(createHmacKey(key), message))).toBe(nodeHmac(key, message));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('handles keys of exactly 63, 64 and 65 bytes (the hash-the-key boundary)', () => {
    for (const length of [0, 1, 32, 63, 64, 65, 128]) {
      const key = Uint8Array.from({ length }, (_, i) => (i * 5 + 1) & 0xff);
      const message = new TextEncoder().encode(`message for a ${length}-byte key`);
      expect(toHex(hmacSha256(createHmacKey(key), message)), `key ${length}`).toBe(
        nodeHmac(key, message),
      );
    }
  });

  it('one prepared key serves many messages', () => {
    const raw = Uint8Array.from({ length: 32 }, (_, i) => i);
    const key = createHmacKey(raw);
    for (let length = 0; length < 150; length += 7) {
      const message = new Uint8Array(length).fill(length);
      expect(toHex(hmacSha256(key, message))).toBe(nodeHmac(raw, message));
    }
  });

  it('does not keep a reference to the key bytes', () => {
    const raw = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const expected = nodeHmac(raw, new Uint8Array(3));
    const key = createHmacKey(raw);
    raw.fill(0);
    expect(toHex(hmacSha256(key, new Uint8Array(3)))).toBe(expected);
  });

  it('returns a fresh array each call', () => {
    const key = createHmacKey(new Uint8Array(32));
    const a = hmacSha256(key, new Uint8Array([1]));
    const b = hmacSha256(key, new Uint8Array([2]));
    expect(a).not.toBe(b);
    expect(toHex(a)).toBe(nodeHmac(new Uint8Array(32), new Uint8Array([1])));
  });
});

describe('hmacSha256Utf8', () => {
  it('MACs the UTF-8 bytes of any string, as createHmac does', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 80 }),
        fc.string({ unit: 'binary', maxLength: 1500 }),
        (raw, text) => {
          expect(toHex(hmacSha256Utf8(createHmacKey(raw), text))).toBe(nodeHmac(raw, text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('grows its buffer for long text and still answers short text after', () => {
    const raw = new Uint8Array(32).fill(9);
    const key = createHmacKey(raw);
    const long = `Fe26.2**${'€'.repeat(5000)}*${'x'.repeat(20_000)}`;
    expect(toHex(hmacSha256Utf8(key, long))).toBe(nodeHmac(raw, long));
    expect(toHex(hmacSha256Utf8(key, 'short'))).toBe(nodeHmac(raw, 'short'));
  });

  it('encodes lone surrogates as U+FFFD, like node:crypto', () => {
    const raw = new Uint8Array(32).fill(3);
    const text = 'a\ud800b\udc00c';
    expect(toHex(hmacSha256Utf8(createHmacKey(raw), text))).toBe(nodeHmac(raw, text));
  });
});
