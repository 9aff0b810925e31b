/**
 * `toPromiseLate` answers as `toPromise` does (values, promises, throws as rejections, thrown
 * non-errors wrapped), only a synchronous throw rejects a microtask later: still within the
 * same turn of the event loop.
 */
import { describe, expect, it } from 'vitest';
import { toPromise, toPromiseLate } from '../../src/internal/maybe-promise.js';

describe.each([
  ['toPromise', toPromise],
  ['toPromiseLate', toPromiseLate],
] as const)('%s', (_, wrap) => {
  it('resolves a value and passes a promise through', async () => {
    await expect(wrap(() => 7)).resolves.toBe(7);
    const promise = Promise.resolve('p');
    expect(wrap(() => promise)).toBe(promise);
  });

  it('turns a synchronous throw into a rejection, wrapping what is not an Error', async () => {
    const error = new TypeError('no');
    await expect(
      wrap(() => {
        throw error;
      }),
    ).rejects.toBe(error);
    await expect(
      wrap(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- what is tested
        throw 'text';
      }),
    ).rejects.toThrow('text');
  });

  it('rejects before the next turn of the event loop', async () => {
    let settled = false;
    const rejected = wrap(() => {
      throw new Error('no');
    }).catch(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(true);
    await rejected;
  });
});
