/**
 * Property tests: round trip for any JSON value and password, tampering never succeeds,
 * and unseal never throws anything but a SessionError, whatever string it is given.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSessionError, type SessionErrorCode } from '../../src/errors.js';
import { nodeBackend } from '../../src/iron/backend/node.js';
import { webBackend } from '../../src/iron/backend/web.js';
import { createIron, type Iron } from '../../src/iron/create-iron.js';
import type { SealOptionsInput } from '../../src/iron/options.js';
import type { PasswordInput } from '../../src/iron/password.js';
import { OTHER_PASSWORD, PASSWORD, backends } from './helpers.js';

const TAMPER_CODES: readonly SessionErrorCode[] = ['ERR_SEAL_INVALID', 'ERR_SEAL_UNSEAL_FAILED'];
const TAMPER_CODES_MAP: readonly SessionErrorCode[] = [...TAMPER_CODES, 'ERR_PASSWORD_NOT_FOUND'];

/** Unseals `token`, which must fail with a SessionError of one of `codes`. */
async function expectRejected(
  iron: Iron,
  token: string,
  password: PasswordInput,
  codes: readonly SessionErrorCode[],
  options?: SealOptionsInput,
): Promise<void> {
  let result: unknown;
  try {
    result = await iron.unseal(token, password, options);
  } catch (error) {
    if (!isSessionError(error))
      throw new Error(`not a SessionError for ${JSON.stringify(token)}`, { cause: error });
    if (!codes.includes(error.code)) {
      throw new Error(`unexpected ${error.code} for ${JSON.stringify(token)}`);
    }
    return;
  }
  throw new Error(`accepted a changed token ${JSON.stringify(token)}: ${JSON.stringify(result)}`);
}

/** Whether a JSON value holds a key our seal refuses (fast-check may generate them). */
function hasPrototypeKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasPrototypeKey);
  return Object.entries(value as Record<string, unknown>).some(
    ([key, child]) =>
      key === '__proto__' ||
      (key === 'constructor' &&
        typeof child === 'object' &&
        child !== null &&
        Object.hasOwn(child, 'prototype')) ||
      hasPrototypeKey(child),
  );
}

/** One character of `alphabet`. */
const charOf = (alphabet: string): fc.Arbitrary<string> =>
  fc.nat(alphabet.length - 1).map((i) => alphabet.charAt(i));

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.nat(0xffff).map((code) => String.fromCharCode(code));
const password32 = fc.oneof(
  fc.string({ minLength: 32, maxLength: 80, unit: 'binary' }),
  // Lone surrogates: both backends must encode them to UTF-8 the same way.
  fc.string({ minLength: 32, maxLength: 40, unit: codeUnit }),
);

describe.each(backends)('properties on the %s backend', (_name, backend) => {
  const runs = backend === nodeBackend ? 300 : 120;

  it('round-trips any JSON value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        const iron = createIron(backend);
        if (hasPrototypeKey(value)) {
          await expect(iron.seal(value, PASSWORD)).rejects.toMatchObject({
            code: 'ERR_DATA_INVALID',
          });
          return;
        }
        const expected: unknown = JSON.parse(JSON.stringify(value));
        const token = await iron.seal(value, PASSWORD);
        expect(await iron.unseal(token, PASSWORD)).toEqual(expected);
        // And without the verified-token cache.
        expect(await createIron(backend).unseal(token, PASSWORD)).toEqual(expected);
      }),
      { numRuns: runs },
    );
  });

  it('round-trips with any password of 32+ characters, across backends', async () => {
    const other = backend === nodeBackend ? webBackend : nodeBackend;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 50, unit: 'binary' }),
        password32,
        fc.constantFrom<SealOptionsInput>({}, { encryption: { algorithm: 'aes-128-ctr' } }),
        async (text, password, options) => {
          const token = await createIron(backend).seal({ text }, password, options);
          expect(await createIron(other).unseal(token, password, options)).toEqual({ text });
        },
      ),
      { numRuns: Math.floor(runs / 2) },
    );
  });

  it('rejects every single-character change of a token (exhaustive positions)', async () => {
    const iron = createIron(backend);
    const token = await iron.seal({ user: 'ada', n: 1 }, PASSWORD, { ttl: 3_600_000 });
    const replacements = ['A', 'a', '0', '9', 'f', 'F', '_', '-', '*', '.', ' ', 'é', '\u0000'];
    for (let i = 0; i < token.length; i++) {
      const original = token.charCodeAt(i);
      const candidates = new Set([
        ...replacements,
        String.fromCharCode(original + 1),
        String.fromCharCode(Math.max(0, original - 1)),
      ]);
      candidates.delete(token[i]!);
      for (const c of candidates) {
        const changed = token.slice(0, i) + c + token.slice(i + 1);
        await expectRejected(iron, changed, PASSWORD, TAMPER_CODES);
      }
    }
  });

  it('rejects any single-character change, deletion or insertion (random)', async () => {
    const iron = createIron(backend);
    const token = await iron.seal({ list: [1, 2, 3], s: 'value' }, PASSWORD);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(token.length - 1),
        codeUnit,
        fc.constantFrom('replace', 'delete', 'insert'),
        async (index, c, edit) => {
          const changed =
            edit === 'replace'
              ? token.slice(0, index) + c + token.slice(index + 1)
              : edit === 'delete'
                ? token.slice(0, index) + token.slice(index + 1)
                : token.slice(0, index) + c + token.slice(index);
          fc.pre(changed !== token);
          await expectRejected(iron, changed, PASSWORD, TAMPER_CODES);
        },
      ),
      { numRuns: runs * 2 },
    );
  });

  it('rejects changes of a token with a password id, unsealed with a map', async () => {
    const iron = createIron(backend);
    const map = { k1: PASSWORD, k2: OTHER_PASSWORD, default: PASSWORD };
    const token = await iron.seal({ a: 1 }, { id: 'k1', secret: PASSWORD });
    await fc.assert(
      fc.asyncProperty(
        fc.nat(token.length - 1),
        fc.constantFrom('k', '1', '2', 'x', '_', '*', 'A', '0'),
        async (index, c) => {
          const changed = token.slice(0, index) + c + token.slice(index + 1);
          fc.pre(changed !== token);
          await expectRejected(iron, changed, map, TAMPER_CODES_MAP);
        },
      ),
      { numRuns: runs },
    );
    // Every id edit that names another map entry or none at all.
    for (const id of ['', 'k2', 'k3', 'default']) {
      await expectRejected(iron, token.replace('*k1*', `*${id}*`), map, TAMPER_CODES_MAP);
    }
  });

  it('rejects every truncation and every extension', async () => {
    const iron = createIron(backend);
    const token = await iron.seal({ a: 'truncate me' }, PASSWORD);
    for (let n = 0; n < token.length; n++) {
      await expectRejected(iron, token.slice(0, n), PASSWORD, TAMPER_CODES);
    }
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 20, unit: codeUnit }),
        async (extra) => {
          await expectRejected(iron, token + extra, PASSWORD, TAMPER_CODES);
          await expectRejected(iron, extra + token, PASSWORD, TAMPER_CODES);
        },
      ),
      { numRuns: runs },
    );
  });

  it('unseal of any string rejects with a SessionError only', async () => {
    const iron = createIron(backend);
    const anyString = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ maxLength: 100, unit: 'binary' }),
      fc.string({ maxLength: 100, unit: codeUnit }),
    );
    await fc.assert(
      fc.asyncProperty(anyString, async (text) => {
        await expectRejected(iron, text, PASSWORD, TAMPER_CODES);
        await expectRejected(iron, text, { default: PASSWORD }, TAMPER_CODES_MAP);
      }),
      { numRuns: runs },
    );
  });

  it('unseal of Fe26.2-like strings rejects with a SessionError only', async () => {
    const iron = createIron(backend);
    const real = (await iron.seal({ real: true }, PASSWORD)).split('*');
    const hex = fc.string({ maxLength: 70, unit: charOf('0123456789abcdefABCDEF') });
    const b64 = fc.string({
      maxLength: 90,
      unit: charOf('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_='),
    });
    const piece = fc.oneof(
      fc.constantFrom('Fe26.2', 'Fe26.1', 'Fe26', '', 'default', '0', '1700000000000'),
      fc.constantFrom(...real),
      hex,
      b64,
      fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
      fc.string({ maxLength: 10 }),
    );
    const tokenLike = fc.oneof(
      fc.array(piece, { minLength: 1, maxLength: 10 }).map((parts) => parts.join('*')),
      fc
        .tuple(piece, piece, piece, piece, piece, piece, piece)
        .map((parts) => `Fe26.2*${parts.join('*')}`),
    );
    await fc.assert(
      fc.asyncProperty(tokenLike, async (text) => {
        fc.pre(text !== real.join('*'));
        await expectRejected(iron, text, PASSWORD, TAMPER_CODES);
        await expectRejected(iron, text, { default: PASSWORD }, TAMPER_CODES_MAP);
      }),
      { numRuns: runs * 2 },
    );
  });

  it('a token never unseals with another password', async () => {
    await fc.assert(
      fc.asyncProperty(password32, password32, async (a, b) => {
        // Keys come from the UTF-8 bytes, where every lone surrogate becomes U+FFFD.
        fc.pre(Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0);
        const iron = createIron(backend);
        const token = await iron.seal({ a: 1 }, a);
        await expectRejected(iron, token, b, ['ERR_SEAL_UNSEAL_FAILED']);
        await expectRejected(createIron(backend), token, b, ['ERR_SEAL_UNSEAL_FAILED']);
      }),
      { numRuns: Math.floor(runs / 3) },
    );
  });
});
