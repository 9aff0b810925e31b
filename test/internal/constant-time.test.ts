/**
 * The constant-time string comparison the MAC check uses: equal strings compare equal, any
 * difference (content or length) does not, for random inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { equalStrings } from '../../src/internal/constant-time.js';

describe('equalStrings', () => {
  it('is string equality', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary-ascii' }),
        fc.string({ unit: 'binary-ascii' }),
        (a, b) => {
          expect(equalStrings(a, b)).toBe(a === b);
          expect(equalStrings(a, a)).toBe(true);
        },
      ),
    );
  });

  it('tells apart strings that differ in one place only, first to last', () => {
    const mac = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ'; // 43 characters, like a MAC
    for (let i = 0; i < mac.length; i++) {
      const other = mac.slice(0, i) + (mac[i] === 'x' ? 'y' : 'x') + mac.slice(i + 1);
      expect(equalStrings(mac, other), `position ${i}`).toBe(false);
    }
    expect(equalStrings(mac, mac.slice(0, -1))).toBe(false);
    expect(equalStrings('', '')).toBe(true);
  });
});
