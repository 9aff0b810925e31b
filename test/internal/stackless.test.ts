/**
 * Errors made without a stack (src/internal/stackless.ts): no frames captured, the global
 * limit restored afterwards whatever happens, and through the engine, the refusals anyone
 * can cause carry their code and message but no stack frames.
 */
import { describe, expect, it } from 'vitest';
import { withoutStack } from '../../src/internal/stackless.js';
import { seal, unseal } from '../../src/iron/index.js';
import { expectCode, PASSWORD } from '../iron/helpers.js';

describe('withoutStack', () => {
  it('makes an error whose stack has no frames, and restores the limit', () => {
    const before = Error.stackTraceLimit;
    const error = withoutStack(() => new Error('refused'));
    expect(error.stack).toBe('Error: refused');
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('later').stack).toContain('\n    at ');
  });

  it('restores the limit when making the error throws', () => {
    const before = Error.stackTraceLimit;
    expect(() =>
      withoutStack(() => {
        throw new TypeError('failed');
      }),
    ).toThrow(TypeError);
    expect(Error.stackTraceLimit).toBe(before);
  });
});

describe('refused tokens', () => {
  it('malformed, forged and expired tokens are refused with their code and no frames', async () => {
    // No clock skew allowed, so a token of 1 ms expires at once.
    const options = { timestampSkewSec: 0 };
    const token = await seal({ a: 1 }, PASSWORD, { ttl: 1 });
    const forged = `${token.slice(0, -43)}${token.at(-43) === 'A' ? 'B' : 'A'}${token.slice(-42)}`;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const refusals = [
      ['Fe26.2*nonsense', 'ERR_SEAL_INVALID'],
      [forged, 'ERR_SEAL_UNSEAL_FAILED'],
      [token, 'ERR_SEAL_EXPIRED'],
    ] as const;
    for (const [refused, code] of refusals) {
      await expectCode(unseal(refused, PASSWORD, options), code);
      const error = (await unseal(refused, PASSWORD, options).catch((e: unknown) => e)) as Error;
      expect(error.stack).not.toContain('\n    at ');
    }
  });
});
