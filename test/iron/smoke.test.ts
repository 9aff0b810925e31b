/**
 * The smallest check of `sealed-session/iron`: the process-wide engine picks the node
 * backend under Node and round-trips a value.
 */
import { describe, expect, it } from 'vitest';
import { seal, unseal, backend } from '../../src/iron/index.js';

describe('iron smoke', () => {
  it('round-trips with the node backend', async () => {
    expect(backend).toBe('node');
    const password = 'x'.repeat(32);
    await expect(unseal(await seal({ a: 1 }, password), password)).resolves.toEqual({ a: 1 });
  });
});
