/**
 * Interop in both directions with the real peers: @hapi/iron 7, iron-webcrypto 1.x and 2.x,
 * with our engine over both backends.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { createIron, type Iron } from '../../src/iron/create-iron.js';
import type { SealOptionsInput } from '../../src/iron/options.js';
import {
  BYTES_32,
  OTHER_BYTES_32,
  OTHER_PASSWORD,
  PASSWORD,
  THIRD_PASSWORD,
  backends,
  expectCode,
  fields,
  hapi,
  peers,
  type Peer,
} from './helpers.js';

const DATA = { id: 'abc', createdAt: 1_700_000_000_000, data: { user: 'ü', n: [1, 2.5, null] } };

interface Scenario {
  readonly label: string;
  readonly password: string | Uint8Array;
  readonly options?: SealOptionsInput;
}

const scenarios: readonly Scenario[] = [
  { label: 'defaults', password: PASSWORD },
  {
    label: 'aes-128-ctr',
    password: PASSWORD,
    options: { encryption: { algorithm: 'aes-128-ctr' } },
  },
  {
    label: 'iterations 8192 for both keys',
    password: PASSWORD,
    options: { encryption: { iterations: 8192 }, integrity: { iterations: 8192 } },
  },
  { label: '32-byte password', password: BYTES_32 },
  { label: '32-byte Buffer password', password: Buffer.from(OTHER_BYTES_32) },
];

describe.each(backends)('ours on the %s backend', (_backendName, backend) => {
  const ours = (): Iron => createIron(backend);

  it('a byte MAC key longer than a SHA-256 block (hashed first, RFC 2104) works both ways with @hapi/iron', async () => {
    // 65 and 100 bytes: past the 64-byte block, where HMAC hashes the key before padding.
    // (iron-webcrypto 2.x refuses byte keys of other lengths than 32 itself.)
    for (const length of [65, 100]) {
      const integrity = Uint8Array.from({ length }, (_, i) => (i * 13 + 5) & 0xff);
      const specific = { id: 'long', encryption: BYTES_32, integrity };
      const token = await ours().seal(DATA, specific);
      await expect(hapi.unseal(token, { long: specific })).resolves.toEqual(DATA);
      const theirs = await hapi.seal(DATA, specific);
      await expect(ours().unseal(theirs, { long: specific })).resolves.toEqual(DATA);
    }
  });

  describe.each(peers.map((peer) => [peer.name, peer] as const))('with %s', (_peerName, peer) => {
    describe.each(scenarios.map((s) => [s.label, s] as const))('%s', (_label, scenario) => {
      it('ours seal → peer unseal', async () => {
        const token = await ours().seal(DATA, scenario.password, scenario.options);
        await expect(peer.unseal(token, scenario.password, scenario.options)).resolves.toEqual(
          DATA,
        );
      });

      it('peer seal → ours unseal', async () => {
        const token = await peer.seal(DATA, scenario.password, scenario.options);
        await expect(ours().unseal(token, scenario.password, scenario.options)).resolves.toEqual(
          DATA,
        );
      });
    });

    describe('password id', () => {
      const password = { id: 'v7', secret: PASSWORD };

      it('ours seal → peer unseal (map by id)', async () => {
        const token = await ours().seal(DATA, password);
        expect(fields(token)[1]).toBe('v7');
        await expect(peer.unseal(token, { v7: PASSWORD })).resolves.toEqual(DATA);
      });

      it('peer seal → ours unseal with { id, secret } and with a map', async () => {
        const token = await peer.seal(DATA, password);
        expect(fields(token)[1]).toBe('v7');
        await expect(ours().unseal(token, password)).resolves.toEqual(DATA);
        await expect(ours().unseal(token, { v7: PASSWORD, v8: OTHER_PASSWORD })).resolves.toEqual(
          DATA,
        );
      });

      it('peer seal with { id, encryption, integrity } → ours unseal', async () => {
        const specific = { id: 'split', encryption: PASSWORD, integrity: OTHER_PASSWORD };
        const token = await peer.seal(DATA, specific);
        await expect(ours().unseal(token, specific)).resolves.toEqual(DATA);
        await expect(ours().unseal(token, { split: specific })).resolves.toEqual(DATA);
      });

      it('ours seal with { id, encryption, integrity } → peer unseal', async () => {
        const specific = { id: 'split', encryption: PASSWORD, integrity: OTHER_PASSWORD };
        const token = await ours().seal(DATA, specific);
        await expect(peer.unseal(token, { split: specific })).resolves.toEqual(DATA);
      });
    });

    describe('ttl', () => {
      it('ours seal with a ttl → the token carries an expiration the peer accepts', async () => {
        const before = Date.now();
        const token = await ours().seal(DATA, PASSWORD, { ttl: 60_000 });
        const expiration = Number(fields(token)[5]);
        expect(expiration).toBeGreaterThanOrEqual(before + 60_000);
        expect(expiration).toBeLessThanOrEqual(Date.now() + 60_000);
        await expect(peer.unseal(token, PASSWORD)).resolves.toEqual(DATA);
      });

      it('peer seal with a ttl → ours accepts it', async () => {
        const token = await peer.seal(DATA, PASSWORD, { ttl: 60_000 });
        expect(fields(token)[5]).toMatch(/^[1-9]\d+$/);
        await expect(ours().unseal(token, PASSWORD)).resolves.toEqual(DATA);
      });

      it('peer seal, expired → ours rejects with ERR_SEAL_EXPIRED', async () => {
        // Sealed "two minutes ago" with a one-second lifetime: past the default 60 s skew.
        const token = await peer.seal(DATA, PASSWORD, { ttl: 1000, localtimeOffsetMsec: -120_000 });
        await expectCode(ours().unseal(token, PASSWORD), 'ERR_SEAL_EXPIRED');
      });

      it('peer seal with a tiny ttl → ours rejects once it passes with no skew', async () => {
        const token = await peer.seal(DATA, PASSWORD, { ttl: 1 });
        await new Promise((resolve) => setTimeout(resolve, 5));
        await expectCode(
          ours().unseal(token, PASSWORD, { timestampSkewSec: 0 }),
          'ERR_SEAL_EXPIRED',
        );
      });

      it('ours seal, expired → the peer rejects it too', async () => {
        const token = await ours().seal(DATA, PASSWORD, {
          ttl: 1000,
          localtimeOffsetMsec: -120_000,
        });
        await expect(peer.unseal(token, PASSWORD)).rejects.toThrow();
        await expectCode(ours().unseal(token, PASSWORD), 'ERR_SEAL_EXPIRED');
      });
    });

    describe('rotation maps', () => {
      it('peer seals with id "old" → ours unseals with { old, new }', async () => {
        const token = await peer.seal(DATA, { id: 'old', secret: PASSWORD });
        await expect(ours().unseal(token, { old: PASSWORD, new: OTHER_PASSWORD })).resolves.toEqual(
          DATA,
        );
      });

      it('ours seals with { 1: a, 2: b } using id 2 → the peer unseals with its map', async () => {
        const token = await ours().seal(DATA, { '1': PASSWORD, '2': OTHER_PASSWORD });
        expect(fields(token)[1]).toBe('2');
        await expect(
          peer.unseal(token, { '1': PASSWORD, '2': OTHER_PASSWORD, '3': THIRD_PASSWORD }),
        ).resolves.toEqual(DATA);
        await expect(peer.unseal(token, { '2': OTHER_PASSWORD })).resolves.toEqual(DATA);
        // Proves id 2's secret, not id 1's, sealed it.
        await expect(peer.unseal(token, { '2': PASSWORD })).rejects.toThrow();
      });

      it('a rotation map of byte passwords works both ways', async () => {
        const map = { '1': BYTES_32, '2': OTHER_BYTES_32 };
        const token = await ours().seal(DATA, map);
        expect(fields(token)[1]).toBe('2');
        await expect(peer.unseal(token, map)).resolves.toEqual(DATA);
        const theirs = await peer.seal(DATA, { id: '1', secret: BYTES_32 });
        await expect(ours().unseal(theirs, map)).resolves.toEqual(DATA);
      });
    });
  });
});

describe('peer fixtures are sane', () => {
  it.each(peers.map((peer) => [peer.name, peer] as const))(
    '%s round-trips with itself',
    async (_name, peer: Peer) => {
      const token = await peer.seal(DATA, PASSWORD);
      await expect(peer.unseal(token, PASSWORD)).resolves.toEqual(DATA);
    },
  );
});
