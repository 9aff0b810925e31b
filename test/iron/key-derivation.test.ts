/**
 * Where the node backend derives keys: on the calling thread for iron's usual iteration
 * counts (in JS up to JS_PBKDF2_MAX_ITERATIONS, by OpenSSL above), on libuv's thread pool
 * above SYNC_PBKDF2_MAX_ITERATIONS, so that a token with fresh salts (forged, or sealed by
 * a peer) never stalls the event loop for milliseconds. Every way gives PBKDF2-SHA1's key.
 */
import { createCipheriv, createHmac, pbkdf2Sync } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  JS_PBKDF2_MAX_ITERATIONS,
  SYNC_PBKDF2_MAX_ITERATIONS,
  nodeBackend,
} from '../../src/iron/backend/node.js';
import { seal, unseal } from '../../src/iron/index.js';
import { PASSWORD, hapi } from './helpers.js';

const SALT = 'a1'.repeat(32);
const IV = Buffer.alloc(16, 9);
const MESSAGE = 'Fe26.2**salt*iv*ciphertext*';

/** Which comes first: `promise` settling, or a setImmediate callback queued now. */
async function settlesBeforeNextLoopTurn(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  const watched = promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  const settledAtImmediate = await new Promise<boolean>((resolve) => {
    setImmediate(() => {
      resolve(settled);
    });
  });
  await watched;
  return settledAtImmediate;
}

describe('node backend key derivation', () => {
  for (const iterations of [
    1,
    JS_PBKDF2_MAX_ITERATIONS,
    JS_PBKDF2_MAX_ITERATIONS + 1,
    SYNC_PBKDF2_MAX_ITERATIONS,
    SYNC_PBKDF2_MAX_ITERATIONS + 1,
    8192,
  ]) {
    const onThreadPool = iterations > SYNC_PBKDF2_MAX_ITERATIONS;
    it(`${iterations} iteration(s): ${onThreadPool ? 'a promise (thread pool)' : 'the key itself (calling thread)'}, equal to PBKDF2-SHA1`, async () => {
      const macKey = nodeBackend.deriveKey(PASSWORD, SALT, iterations, 'sha256');
      const aesKey = nodeBackend.deriveKey(PASSWORD, SALT, iterations, 'aes-256-cbc');
      expect(macKey instanceof Promise).toBe(onThreadPool);
      expect(aesKey instanceof Promise).toBe(onThreadPool);

      const raw = pbkdf2Sync(PASSWORD, SALT, iterations, 32, 'sha1');
      const expectedMac = createHmac('sha256', raw).update(MESSAGE).digest('base64url');
      expect(nodeBackend.mac(await macKey, MESSAGE)).toBe(expectedMac);
      const cipher = createCipheriv('aes-256-cbc', raw, IV);
      const expectedCiphertext = Buffer.concat([cipher.update(MESSAGE), cipher.final()]);
      expect(nodeBackend.encrypt('aes-256-cbc', await aesKey, IV, MESSAGE)).toBe(
        expectedCiphertext.toString('base64url'),
      );
    });
  }

  it('arguments node:crypto refuses surface as a rejection, never a synchronous throw', async () => {
    // Unreachable through the engine (it caps iterations at 10 million); node:crypto
    // refuses more than 2^31 - 1.
    let derived: unknown;
    expect(() => {
      derived = nodeBackend.deriveKey(PASSWORD, SALT, 2 ** 31, 'sha256');
    }).not.toThrow();
    await expect(derived).rejects.toThrow();
  });
});

describe('unseal and the event loop (node backend, through the public API)', () => {
  it('a token with new salts at iron’s default iteration count unseals within the current turn', async () => {
    const token = await hapi.seal({ a: 1 }, PASSWORD);
    const unsealed = unseal(token, PASSWORD);
    expect(await settlesBeforeNextLoopTurn(unsealed)).toBe(true);
    await expect(unsealed).resolves.toEqual({ a: 1 });
  });

  it('a token with new salts at 8192 iterations (h3 2.x) lets the event loop turn while its keys are derived', async () => {
    const options = { encryption: { iterations: 8192 }, integrity: { iterations: 8192 } };
    const token = await hapi.seal({ a: 2 }, PASSWORD, options);
    const unsealed = unseal(token, PASSWORD, options);
    expect(await settlesBeforeNextLoopTurn(unsealed)).toBe(false);
    await expect(unsealed).resolves.toEqual({ a: 2 });
  });

  it('a forged token at 8192 iterations is still refused, without blocking the event loop', async () => {
    const options = { encryption: { iterations: 8192 }, integrity: { iterations: 8192 } };
    const token = await hapi.seal({ a: 3 }, PASSWORD, options);
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const unsealed = unseal(forged, PASSWORD, options);
    expect(await settlesBeforeNextLoopTurn(unsealed)).toBe(false);
    await expect(unsealed).rejects.toMatchObject({ code: 'ERR_SEAL_UNSEAL_FAILED' });
  });

  it('sealing with many iterations derives its keys off the event loop, then reuses them', async () => {
    // 8193: a count no other test seals with, so the process-wide engine has no key for it.
    const options = { encryption: { iterations: 8193 }, integrity: { iterations: 8193 } };
    const first = seal({ b: 1 }, PASSWORD, options);
    expect(await settlesBeforeNextLoopTurn(first)).toBe(false);
    const second = seal({ b: 2 }, PASSWORD, options);
    expect(await settlesBeforeNextLoopTurn(second)).toBe(true);
    await expect(unseal(await second, PASSWORD, options)).resolves.toEqual({ b: 2 });
  });
});
