/**
 * The node backend's long-lived AES contexts (src/iron/backend/node-aes.ts) give exactly
 * what a fresh createCipheriv / createDecipheriv gives, call after call: their chaining
 * values must stay in step whatever sequence of operations, IVs and failures comes.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeAesKey, type AesAlgorithm } from '../../src/iron/backend/node-aes.js';

const KEY_SIZE: Record<AesAlgorithm, number> = { 'aes-256-cbc': 32, 'aes-128-ctr': 16 };

function fresh(algorithm: AesAlgorithm, key: Uint8Array, iv: Uint8Array, text: string): Buffer {
  const cipher = createCipheriv(algorithm, key, iv);
  return Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
}

function freshOpen(algorithm: AesAlgorithm, key: Uint8Array, iv: Uint8Array, data: Buffer) {
  const decipher = createDecipheriv(algorithm, key, iv);
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
}

type Step =
  | { readonly kind: 'encrypt'; readonly text: string }
  | { readonly kind: 'decrypt'; readonly text: string }
  | { readonly kind: 'garbage'; readonly size: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('encrypt' as const), text: fc.string({ maxLength: 120 }) }),
  fc.record({ kind: fc.constant('decrypt' as const), text: fc.string({ maxLength: 120 }) }),
  fc.record({ kind: fc.constant('garbage' as const), size: fc.nat({ max: 64 }) }),
);

describe.each(['aes-256-cbc', 'aes-128-ctr'] as const)('NodeAesKey %s', (algorithm) => {
  it('matches fresh node:crypto contexts over any sequence of operations', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
        const raw = randomBytes(KEY_SIZE[algorithm]);
        const key = new NodeAesKey(raw, algorithm);
        for (const s of steps) {
          const iv = randomBytes(16);
          if (s.kind === 'encrypt') {
            expect(key.encrypt(iv, s.text).equals(fresh(algorithm, raw, iv, s.text))).toBe(true);
          } else if (s.kind === 'decrypt') {
            const opened = key.decrypt(iv, fresh(algorithm, raw, iv, s.text));
            expect(opened?.toString('utf8')).toBe(s.text);
          } else {
            // Random bytes: for CBC usually a padding failure, sometimes a partial block.
            key.decrypt(iv, randomBytes(s.size));
          }
        }
        // Whatever came before, the next operations are still right both ways.
        const iv = randomBytes(16);
        const sealed = key.encrypt(iv, 'after the sequence');
        expect(freshOpen(algorithm, raw, iv, sealed)).toBe('after the sequence');
      }),
      { numRuns: 200 },
    );
  });

  it('keys are independent: interleaved use of two keys stays correct', () => {
    const rawA = randomBytes(KEY_SIZE[algorithm]);
    const rawB = randomBytes(KEY_SIZE[algorithm]);
    const a = new NodeAesKey(rawA, algorithm);
    const b = new NodeAesKey(rawB, algorithm);
    for (let i = 0; i < 50; i++) {
      const iv = randomBytes(16);
      const text = `message ${i} `.repeat(i % 9);
      const [key, raw] = i % 3 === 0 ? [a, rawA] : [b, rawB];
      expect(key.encrypt(iv, text).equals(fresh(algorithm, raw, iv, text))).toBe(true);
      expect(key.decrypt(iv, fresh(algorithm, raw, iv, text))?.toString('utf8')).toBe(text);
    }
  });

  it('keeps its own copy of the key bytes: the caller may wipe its array', () => {
    const raw = randomBytes(KEY_SIZE[algorithm]);
    const kept = Buffer.from(raw);
    const key = new NodeAesKey(raw, algorithm);
    raw.fill(0);
    for (let i = 0; i < 3; i++) {
      const iv = randomBytes(16);
      expect(key.encrypt(iv, 'text').equals(fresh(algorithm, kept, iv, 'text'))).toBe(true);
    }
  });

  it('encrypts plaintexts of every length, and no result changes with a later one', () => {
    // CBC input goes through one buffer shared by every encryption (1 KiB at first, at most
    // 16 KiB): these lengths fit it, make it grow (9990 to 10,000 bytes, then 12,000 to the
    // bound, not to twice 10,000), fill it exactly (16,368 and its padding), pass the bound
    // (an input of its own), and come back below it.
    const raw = randomBytes(KEY_SIZE[algorithm]);
    const key = new NodeAesKey(raw, algorithm);
    const results: [string, Uint8Array, Buffer][] = [];
    for (const length of [0, 15, 16, 1000, 1024, 3000, 9990, 12_000, 16_368, 16_384, 40_000, 5]) {
      const text = 'é'.repeat(length >> 1) + 'x'.repeat(length & 1);
      const iv = randomBytes(16);
      const sealed = key.encrypt(iv, text);
      expect(sealed.equals(fresh(algorithm, raw, iv, text))).toBe(true);
      results.push([text, iv, sealed]);
    }
    for (const [text, iv, sealed] of results) {
      expect(freshOpen(algorithm, raw, iv, sealed)).toBe(text);
    }
  });

  it('refuses a wrong IV length', () => {
    const key = new NodeAesKey(randomBytes(KEY_SIZE[algorithm]), algorithm);
    expect(key.decrypt(randomBytes(8), randomBytes(32))).toBeUndefined();
  });
});

describe('NodeAesKey aes-256-cbc refusals', () => {
  const raw = randomBytes(32);
  const key = new NodeAesKey(raw, 'aes-256-cbc');

  it('refuses empty input and partial blocks', () => {
    expect(key.decrypt(randomBytes(16), Buffer.alloc(0))).toBeUndefined();
    expect(key.decrypt(randomBytes(16), randomBytes(33))).toBeUndefined();
  });

  it('refuses bad padding, then still decrypts the next token', () => {
    const iv = randomBytes(16);
    // A final block whose plaintext ends in 0x00: not PKCS#7.
    const cipher = createCipheriv('aes-256-cbc', raw, iv).setAutoPadding(false);
    const unpadded = Buffer.concat([cipher.update(Buffer.alloc(32)), cipher.final()]);
    expect(key.decrypt(iv, unpadded)).toBeUndefined();
    const next = randomBytes(16);
    expect(key.decrypt(next, fresh('aes-256-cbc', raw, next, 'ok'))?.toString()).toBe('ok');
  });
});
