/**
 * The bitsliced AES of the WebCrypto backend, against published vectors and against
 * OpenSSL (node:crypto) for random keys, IVs and lengths in every mode iron uses.
 */
import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cbcDecrypt, cbcEncrypt, ctrXor, expandAesKey } from '../../src/internal/aes.js';
import { fromHex, toHex } from './vectors.js';

const ZERO_IV = new Uint8Array(16);

/** The first ciphertext block of CBC under a zero IV is the block cipher itself. */
const encryptBlock = (key: Uint8Array, block: Uint8Array): string =>
  toHex(cbcEncrypt(expandAesKey(key), ZERO_IV, block).subarray(0, 16));

function openssl(algorithm: string, key: Uint8Array, iv: Uint8Array, data: Uint8Array): string {
  const cipher = createCipheriv(algorithm, key, iv);
  return toHex(new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()])));
}

describe('AES known answers', () => {
  it('FIPS 197 appendix C.1 (AES-128) and C.3 (AES-256)', () => {
    const plaintext = fromHex('00112233445566778899aabbccddeeff');
    expect(encryptBlock(fromHex('000102030405060708090a0b0c0d0e0f'), plaintext)).toBe(
      '69c4e0d86a7b0430d8cdb78070b4c55a',
    );
    expect(
      encryptBlock(
        fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'),
        plaintext,
      ),
    ).toBe('8ea2b7ca516745bfeafc49904b496089');
  });

  it('SP 800-38A F.2.5 (CBC-AES256) and F.5.1 (CTR-AES128), first block', () => {
    const cbcKey = fromHex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
    const iv = fromHex('000102030405060708090a0b0c0d0e0f');
    const block = fromHex('6bc1bee22e409f96e93d7e117393172a');
    expect(toHex(cbcEncrypt(expandAesKey(cbcKey), iv, block).subarray(0, 16))).toBe(
      'f58c4c04d6e5f1ba779eabfb5f7bfbd6',
    );
    const ctrKey = fromHex('2b7e151628aed2a6abf7158809cf4f3c');
    const counter = fromHex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
    expect(toHex(ctrXor(expandAesKey(ctrKey), counter, block))).toBe(
      '874d6191b620e3261bef6864990db6ce',
    );
  });

  it('refuses keys that are neither 16 nor 32 bytes', () => {
    for (const size of [0, 15, 24, 31, 33]) {
      expect(() => expandAesKey(new Uint8Array(size)), `${size} bytes`).toThrow(RangeError);
    }
  });
});

describe('AES against node:crypto', () => {
  it('aes-256-cbc: same ciphertext, and decryption inverts it (0-300 bytes)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ maxLength: 300 }),
        (key, iv, message) => {
          const expanded = expandAesKey(key);
          const sealed = cbcEncrypt(expanded, iv, message);
          expect(toHex(sealed)).toBe(openssl('aes-256-cbc', key, iv, message));
          expect(toHex(cbcDecrypt(expanded, iv, sealed) ?? new Uint8Array(1))).toBe(toHex(message));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('aes-128-ctr: same output, the same call decrypts (0-300 bytes)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ maxLength: 300 }),
        (key, iv, message) => {
          const expanded = expandAesKey(key);
          const sealed = ctrXor(expanded, iv, message);
          expect(toHex(sealed)).toBe(openssl('aes-128-ctr', key, iv, message));
          expect(toHex(ctrXor(expanded, iv, sealed))).toBe(toHex(message));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('aes-128-ctr: the 128-bit counter carries across bytes and wraps at 2^128', () => {
    const key = fromHex('000102030405060708090a0b0c0d0e0f');
    const message = new Uint8Array(100).fill(7);
    for (const iv of [
      'ffffffffffffffffffffffffffffffff',
      'fffffffffffffffffffffffffffffffe',
      '000000000000000000000000ffffffff',
      '0000000000000000ffffffffffffffff',
    ]) {
      expect(toHex(ctrXor(expandAesKey(key), fromHex(iv), message)), iv).toBe(
        openssl('aes-128-ctr', key, fromHex(iv), message),
      );
    }
  });

  it('one expanded key serves any number of messages (no state between calls)', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
    const expanded = expandAesKey(key);
    for (let i = 0; i < 20; i++) {
      const iv = Uint8Array.from({ length: 16 }, (_, j) => i + j);
      const message = new Uint8Array(i * 7).fill(i);
      expect(toHex(cbcEncrypt(expanded, iv, message))).toBe(
        openssl('aes-256-cbc', key, iv, message),
      );
    }
  });
});

describe('cbcDecrypt refusals', () => {
  const key = expandAesKey(new Uint8Array(32).fill(9));
  const iv = new Uint8Array(16).fill(1);

  it('refuses empty input, partial blocks and a wrong IV length', () => {
    expect(cbcDecrypt(key, iv, new Uint8Array(0))).toBeUndefined();
    expect(cbcDecrypt(key, iv, new Uint8Array(17))).toBeUndefined();
    expect(cbcDecrypt(key, iv.subarray(0, 8), new Uint8Array(16))).toBeUndefined();
  });

  it('refuses every kind of bad PKCS#7 padding', () => {
    // Encrypt chosen final blocks without padding, by taking the first block of a padded one.
    const withLastBlock = (last: Uint8Array): Uint8Array =>
      cbcEncrypt(key, iv, last).subarray(0, 16);
    const bad = [
      new Uint8Array(16).fill(0), // padding byte 0
      new Uint8Array(16).fill(17), // longer than a block
      Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 3 : i === 14 ? 3 : 9)), // 3 but one short
    ];
    for (const last of bad) expect(cbcDecrypt(key, iv, withLastBlock(last))).toBeUndefined();
    const good = Uint8Array.from({ length: 16 }, (_, i) => (i >= 13 ? 3 : 9));
    expect(cbcDecrypt(key, iv, withLastBlock(good))).toEqual(new Uint8Array(13).fill(9));
  });
});
