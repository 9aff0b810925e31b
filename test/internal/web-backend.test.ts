/**
 * The WebCrypto backend on Node: keys, MAC, AES (JS for cookie sizes, crypto.subtle
 * beyond), derivations, and its failure paths.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeBackend } from '../../src/iron/backend/node.js';
import { webBackend, workerdBackend } from '../../src/iron/backend/web.js';
import { createIron } from '../../src/iron/create-iron.js';

const RAW = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);
const BASE = 'Fe26.2**abcdef*AAAAAAAAAAAAAAAAAAAAAA*Y2lwaGVydGV4dA*';
const PASSWORD = 'some_not_random_password_that_is_also_long_enough';

describe('web backend MAC', () => {
  it('imports a sha256 key and MACs synchronously, equal to the node backend', () => {
    const key = webBackend.importKey(RAW, 'sha256');
    expect(key).not.toBeInstanceOf(Promise);
    const digest = webBackend.mac(key, BASE);
    expect(typeof digest).toBe('string');
    expect(digest).toBe(nodeBackend.mac(nodeBackend.importKey(RAW, 'sha256'), BASE));
    expect(digest).toMatch(/^[\w-]{43}$/);
  });

  it('derives a sha256 key (PBKDF2 through WebCrypto) that MACs like the node backend', async () => {
    const salt = 'a1b2c3d4';
    const webKey = await webBackend.deriveKey(PASSWORD, salt, 1, 'sha256');
    const nodeKey = await nodeBackend.deriveKey(PASSWORD, salt, 1, 'sha256');
    expect(webBackend.mac(webKey, BASE)).toBe(nodeBackend.mac(nodeKey, BASE));
  });

  it.each([
    ['webBackend', webBackend],
    ['workerdBackend', workerdBackend],
  ])(
    '%s derives in JS, synchronously, up to its bound, and through crypto.subtle above; the keys agree',
    async (_, backend) => {
      const bound = backend.syncDerivationIterations;
      expect(bound).toBeGreaterThanOrEqual(1);
      const deriveBits = vi.spyOn(globalThis.crypto.subtle, 'deriveBits');
      try {
        const salt = 'f'.repeat(64);
        for (const iterations of [1, bound, bound + 1]) {
          const key = backend.deriveKey(PASSWORD, salt, iterations, 'sha256');
          expect(key instanceof Promise).toBe(iterations > bound);
          const nodeKey = await nodeBackend.deriveKey(PASSWORD, salt, iterations, 'sha256');
          expect(backend.mac(await key, BASE)).toBe(nodeBackend.mac(nodeKey, BASE));
        }
        expect(deriveBits).toHaveBeenCalledTimes(1);
      } finally {
        deriveBits.mockRestore();
      }
    },
  );

  it('a token with new salts at the default iterations unseals synchronously', async () => {
    const token = await createIron(nodeBackend).seal({ fresh: true }, PASSWORD);
    expect(createIron(webBackend).unsealEager(token, PASSWORD)).toEqual({ fresh: true });
  });
});

describe('web backend AES', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('prepares AES keys synchronously and encrypts like the node backend', () => {
    const iv = Uint8Array.from({ length: 16 }, (_, i) => i);
    for (const algorithm of ['aes-256-cbc', 'aes-128-ctr'] as const) {
      const raw = algorithm === 'aes-128-ctr' ? RAW.subarray(0, 16) : RAW;
      const key = webBackend.importKey(raw, algorithm);
      expect(key).not.toBeInstanceOf(Promise);
      const sealed = webBackend.encrypt(algorithm, key, iv, 'plain text');
      expect(sealed).toBe(
        nodeBackend.encrypt(algorithm, nodeBackend.importKey(raw, algorithm), iv, 'plain text'),
      );
    }
  });

  it('once keys are cached, seal and unseal make no crypto.subtle call at all', async () => {
    const iron = createIron(webBackend);
    const first = await iron.seal({ warm: 'up' }, PASSWORD); // derives and caches the keys
    await iron.unseal(first, PASSWORD);
    const subtle = globalThis.crypto.subtle;
    const spies = (
      ['encrypt', 'decrypt', 'sign', 'verify', 'importKey', 'deriveBits'] as const
    ).map((method) => vi.spyOn(subtle, method));
    const token = await iron.seal({ user: 'ada', n: 42 }, PASSWORD);
    expect(await iron.unseal(token, PASSWORD)).toEqual({ user: 'ada', n: 42 });
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('sends messages over 512 bytes to crypto.subtle, with the same bytes as in JS', async () => {
    const iv = Uint8Array.from({ length: 16 }, (_, i) => 15 - i);
    const encrypt = vi.spyOn(globalThis.crypto.subtle, 'encrypt');
    const decrypt = vi.spyOn(globalThis.crypto.subtle, 'decrypt');
    for (const algorithm of ['aes-256-cbc', 'aes-128-ctr'] as const) {
      const raw = algorithm === 'aes-128-ctr' ? RAW.subarray(0, 16) : RAW;
      const key = webBackend.importKey(raw, algorithm);
      for (const size of [512, 513, 2000]) {
        const text = 'x'.repeat(size);
        const calls = encrypt.mock.calls.length;
        const sealed = await webBackend.encrypt(algorithm, key, iv, text);
        expect(encrypt.mock.calls.length - calls, `${algorithm}, ${size} bytes`).toBe(
          size > 512 ? 1 : 0,
        );
        expect(sealed).toBe(
          nodeBackend.encrypt(algorithm, nodeBackend.importKey(raw, algorithm), iv, text),
        );
        const ivText = Buffer.from(iv).toString('base64url');
        expect(await webBackend.decrypt(algorithm, key, ivText, sealed)).toBe(text);
      }
    }
    expect(decrypt).toHaveBeenCalled();
  });

  it('on workerd, sends AES to crypto.subtle at every size (native there, faster than JS)', async () => {
    const encrypt = vi.spyOn(globalThis.crypto.subtle, 'encrypt');
    const iron = createIron(workerdBackend);
    const token = await iron.seal({ small: true }, PASSWORD);
    expect(encrypt).toHaveBeenCalledTimes(1);
    expect(await createIron(webBackend).unseal(token, PASSWORD)).toEqual({ small: true });
  });
});
