// The iron benchmark's fixtures compute the right answer, so a broken benchmark fails CI.
// No timing here. The fixtures use the built package (dist/): `npm test` builds first.
import { describe, expect, it } from 'vitest';
import {
  PASSWORD,
  PAYLOAD,
  PAYLOAD_JSON_BYTES,
  POOL_SIZE,
  VERIFIED_TOKEN_CACHE,
  buildTokenPool,
  createAdapters,
  forgeToken,
  payloadFor,
} from '../../bench/iron-fixtures.mjs';

const adapters = createAdapters();
const ours = adapters.filter((adapter) => adapter.ours);

describe('iron benchmark fixtures', () => {
  it('measure every library the benchmark reports', () => {
    expect(adapters.map((adapter) => adapter.id).sort()).toEqual(
      ['hapi', 'iwc-v1', 'iwc-v2', 'minimal', 'ss-node', 'ss-web'].sort(),
    );
    expect(ours.map((adapter) => adapter.id).sort()).toEqual(['ss-node', 'ss-web']);
  });

  it('use a valid password and a session-sized payload', () => {
    expect(PASSWORD.length).toBeGreaterThanOrEqual(32);
    expect(JSON.stringify(PAYLOAD).length).toBe(PAYLOAD_JSON_BYTES);
    expect(PAYLOAD_JSON_BYTES).toBeGreaterThanOrEqual(120);
    expect(PAYLOAD_JSON_BYTES).toBeLessThanOrEqual(200);
    expect(payloadFor(0)).toEqual(PAYLOAD);
    // Distinct sessions of one size: distinct tokens, equal work per token.
    expect(payloadFor(1).id).not.toBe(PAYLOAD.id);
    expect(JSON.stringify(payloadFor(4095)).length).toBe(PAYLOAD_JSON_BYTES);
  });

  it('cycle more fresh tokens than the verified-token cache holds', () => {
    expect(POOL_SIZE).toBeGreaterThan(VERIFIED_TOKEN_CACHE);
  });

  it('forge tokens that keep their salts and shape, which our backends and @hapi/iron refuse', async () => {
    const hapi = adapters.find((adapter) => adapter.id === 'hapi')!;
    const [token] = await buildTokenPool(hapi, 1);
    const forged = forgeToken(token!);
    expect(forged).not.toBe(token);
    expect(forged).toHaveLength(token!.length);
    expect(forged.split('*').slice(0, 7)).toEqual(token!.split('*').slice(0, 7));
    expect(forged.split('*')[7]).toMatch(/^[\w-]{43}$/);
    await expect(hapi.unseal(forged)).rejects.toThrow();
    for (const adapter of ours) {
      await expect(adapter.unseal(forged)).rejects.toMatchObject({
        code: 'ERR_SEAL_UNSEAL_FAILED',
      });
    }
  });

  describe.each(adapters.map((adapter) => [adapter.name, adapter] as const))('%s', (_, adapter) => {
    it('round-trips the payload', async () => {
      const token = await adapter.seal(PAYLOAD);
      expect(token.startsWith('Fe26.2*')).toBe(true);
      await expect(adapter.unseal(token)).resolves.toEqual(PAYLOAD);
      // Repeat-token case: the same token again gives the same answer.
      await expect(adapter.unseal(token)).resolves.toEqual(PAYLOAD);
    });

    it.each(ours.map((reader) => [reader.name, reader] as const))(
      'seals tokens that %s unseals',
      async (_name, reader) => {
        const token = await adapter.seal(payloadFor(3));
        await expect(reader.unseal(token)).resolves.toEqual(payloadFor(3));
      },
    );

    it('builds a pool of distinct tokens, each unsealing to its own payload', async () => {
      const pool = await buildTokenPool(adapter, 6, 4);
      expect(pool).toHaveLength(6);
      expect(new Set(pool).size).toBe(6);
      for (const [index, token] of pool.entries()) {
        await expect(adapter.unseal(token)).resolves.toEqual(payloadFor(index));
      }
    });
  });
});
