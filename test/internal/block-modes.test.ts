/**
 * PKCS#7 unpadding and the CTR counter increment shared by the JS AES and the node
 * backend: valid and invalid paddings, counter carries.
 */
import { describe, expect, it } from 'vitest';
import { incrementCounter, pkcs7Unpad } from '../../src/internal/block-modes.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('pkcs7Unpad', () => {
  it('strips valid padding of 1 to 16 bytes', () => {
    for (let padding = 1; padding <= 16; padding++) {
      const block = new Uint8Array(32).fill(7);
      block.fill(padding, 32 - padding);
      expect(pkcs7Unpad(block)).toEqual(new Uint8Array(32 - padding).fill(7));
    }
  });

  it('refuses empty input, 0, more than a block, more than the input, and uneven bytes', () => {
    expect(pkcs7Unpad(new Uint8Array(0))).toBeUndefined();
    expect(pkcs7Unpad(new Uint8Array(16))).toBeUndefined();
    expect(pkcs7Unpad(new Uint8Array(32).fill(17))).toBeUndefined();
    expect(pkcs7Unpad(bytes(4, 4, 4))).toBeUndefined();
    expect(pkcs7Unpad(bytes(9, 9, 2, 3, 3))).toBeUndefined();
  });
});

describe('incrementCounter', () => {
  it('adds one with carry and wraps at 2^128, touching only its own block', () => {
    const counters = new Uint8Array(32).fill(0xff);
    counters[15] = 0xfe;
    incrementCounter(counters, 0);
    expect(counters.subarray(0, 16)).toEqual(new Uint8Array(16).fill(0xff));
    incrementCounter(counters, 0);
    expect(counters.subarray(0, 16)).toEqual(new Uint8Array(16));
    expect(counters.subarray(16)).toEqual(new Uint8Array(16).fill(0xff));
    incrementCounter(counters, 16);
    expect(counters.subarray(16)).toEqual(new Uint8Array(16));
  });
});
