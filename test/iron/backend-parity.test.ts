/**
 * The backends are interchangeable: tokens cross between them for every algorithm and
 * password shape, and one behavioural suite runs against each (node, web, and the web
 * backend as configured for workerd, whose AES always goes through crypto.subtle).
 */
import { describe, expect, it, vi } from 'vitest';
import { isSessionError, SessionError } from '../../src/errors.js';
import { nodeBackend } from '../../src/iron/backend/node.js';
import { webBackend, workerdBackend } from '../../src/iron/backend/web.js';
import { createIron, type Iron } from '../../src/iron/create-iron.js';
import type { SealOptionsInput } from '../../src/iron/options.js';
import type { PasswordInput } from '../../src/iron/password.js';
import {
  BYTES_32,
  OTHER_BYTES_32,
  OTHER_PASSWORD,
  PASSWORD,
  backends,
  expectCode,
  fields,
  handSeal,
  hapi,
  rejection,
} from './helpers.js';

const DATA = { user: 'ada', roles: ['admin'], n: 42, nested: { ok: true, none: null } };
const BYTES_16 = Uint8Array.from({ length: 16 }, (_, i) => 200 - i);

interface Shape {
  readonly label: string;
  readonly password: PasswordInput;
  readonly options?: SealOptionsInput;
  readonly data?: unknown;
}

const shapes: readonly Shape[] = [
  { label: 'string password, defaults', password: PASSWORD },
  {
    label: 'string password, aes-128-ctr',
    password: PASSWORD,
    options: { encryption: { algorithm: 'aes-128-ctr' } },
  },
  {
    label: 'iterations 8192 for both keys',
    password: PASSWORD,
    options: { encryption: { iterations: 8192 }, integrity: { iterations: 8192 } },
  },
  { label: '32-byte password', password: BYTES_32 },
  {
    label: 'byte passwords for aes-128-ctr (16-byte encryption, 32-byte integrity)',
    password: { encryption: BYTES_16, integrity: BYTES_32 },
    options: { encryption: { algorithm: 'aes-128-ctr' } },
  },
  { label: '{ id, secret }', password: { id: 'k1', secret: PASSWORD } },
  {
    label: '{ id, encryption, integrity }',
    password: { id: 'split', encryption: PASSWORD, integrity: OTHER_PASSWORD },
  },
  { label: 'rotation map', password: { '1': PASSWORD, '2': OTHER_PASSWORD } },
  { label: 'map of byte passwords', password: { '3': BYTES_32, '10': OTHER_BYTES_32 } },
  { label: 'ttl', password: PASSWORD, options: { ttl: 60_000 } },
  {
    label: 'saltBits 512 and multi-block data',
    password: PASSWORD,
    options: { encryption: { saltBits: 512 }, integrity: { saltBits: 512 } },
    data: { text: 'x'.repeat(1000), emoji: '😀'.repeat(50) },
  },
  {
    label: 'aes-128-ctr with data crossing many counter blocks',
    password: PASSWORD,
    options: { encryption: { algorithm: 'aes-128-ctr' } },
    data: { text: 'ü'.repeat(777) },
  },
];

describe('tokens cross between backends', () => {
  const pairs = [
    ['node', nodeBackend, 'web', webBackend],
    ['web', webBackend, 'node', nodeBackend],
    ['node', nodeBackend, 'node', nodeBackend],
    ['web', webBackend, 'web', webBackend],
    ['web', webBackend, 'workerd', workerdBackend],
    ['workerd', workerdBackend, 'web', webBackend],
    ['workerd', workerdBackend, 'node', nodeBackend],
  ] as const;

  describe.each(pairs)('%s seal → %s unseal', (_a, from, _b, to) => {
    it.each(shapes.map((shape) => [shape.label, shape] as const))('%s', async (_label, shape) => {
      const data = shape.data ?? DATA;
      // A fresh unsealing engine: its verified-token cache cannot answer for it.
      const token = await createIron(from).seal(data, shape.password, shape.options);
      await expect(createIron(to).unseal(token, shape.password, shape.options)).resolves.toEqual(
        data,
      );
    });
  });

  it('every backend produces the same token from the same salt and IV', async () => {
    const options: SealOptionsInput = {
      encryption: { salt: 'abcdef0123456789', iv: new Uint8Array(16).fill(9) },
      integrity: { salt: '0123456789abcdef' },
    };
    for (const shape of shapes) {
      if (shape.options !== undefined) continue;
      const data = shape.data ?? DATA;
      const a = await createIron(nodeBackend).seal(data, shape.password, options);
      const b = await createIron(webBackend).seal(data, shape.password, options);
      const c = await createIron(workerdBackend).seal(data, shape.password, options);
      expect(a).toBe(b);
      expect(a).toBe(c);
    }
  });
});

/** The behavioural suite every backend must pass. */
function behaviourSuite(make: () => Iron): void {
  describe('round trip', () => {
    it.each([
      ['an object', DATA],
      ['an array', [1, 'two', { three: 3 }, [null]]],
      ['a string', 'just a string with * and ünïcödé 😀'],
      ['a number', 12.5],
      ['null', null],
      ['false', false],
      ['an empty object', {}],
      [
        'keys that only look dangerous',
        { constructor: 'x', proto: { prototype: 1 }, a: '__proto__' },
      ],
    ])('%s', async (_label, value) => {
      const iron = make();
      const token = await iron.seal(value, PASSWORD);
      expect(token.startsWith('Fe26.2**')).toBe(true);
      await expect(iron.unseal(token, PASSWORD)).resolves.toEqual(value);
      await expect(make().unseal(token, PASSWORD)).resolves.toEqual(value);
    });

    it('accepts null-prototype objects', async () => {
      const value = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
      const iron = make();
      await expect(iron.unseal(await iron.seal(value, PASSWORD), PASSWORD)).resolves.toEqual({
        a: 1,
      });
    });

    it('drops undefined object properties', async () => {
      const iron = make();
      const token = await iron.seal({ a: 1, b: undefined, c: { d: undefined } }, PASSWORD);
      const value = await make().unseal(token, PASSWORD);
      expect(value).toStrictEqual({ a: 1, c: {} });
    });

    it('reports its backend', () => {
      expect(['node', 'web']).toContain(make().backend);
    });
  });

  describe('ttl and expiry', () => {
    it('accepts a live token and rejects it once expired, honouring the skew', async () => {
      const token = await make().seal(DATA, PASSWORD, { ttl: 10_000 });
      await expect(make().unseal(token, PASSWORD)).resolves.toEqual(DATA);
      // 10 s lifetime + 60 s default skew: still fine 65 s from now, expired 75 s from now.
      await expect(
        make().unseal(token, PASSWORD, { localtimeOffsetMsec: 65_000 }),
      ).resolves.toEqual(DATA);
      await expectCode(
        make().unseal(token, PASSWORD, { localtimeOffsetMsec: 75_000 }),
        'ERR_SEAL_EXPIRED',
      );
      // Without skew it is expired 15 s from now.
      await expectCode(
        make().unseal(token, PASSWORD, { localtimeOffsetMsec: 15_000, timestampSkewSec: 0 }),
        'ERR_SEAL_EXPIRED',
      );
      await expect(
        make().unseal(token, PASSWORD, { localtimeOffsetMsec: 5_000, timestampSkewSec: 0 }),
      ).resolves.toEqual(DATA);
    });

    it('expires exactly when exp <= now - skew (fake clock)', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        const start = 1_800_000_000_000;
        vi.setSystemTime(start);
        const token = await make().seal(DATA, PASSWORD, { ttl: 1000 });
        expect(fields(token)[5]).toBe(String(start + 1000));
        vi.setSystemTime(start + 1000 + 60_000 - 1);
        await expect(make().unseal(token, PASSWORD)).resolves.toEqual(DATA);
        vi.setSystemTime(start + 1000 + 60_000);
        await expectCode(make().unseal(token, PASSWORD), 'ERR_SEAL_EXPIRED');
        vi.setSystemTime(start + 999);
        await expect(make().unseal(token, PASSWORD, { timestampSkewSec: 0 })).resolves.toEqual(
          DATA,
        );
        vi.setSystemTime(start + 1000);
        await expectCode(
          make().unseal(token, PASSWORD, { timestampSkewSec: 0 }),
          'ERR_SEAL_EXPIRED',
        );
      } finally {
        vi.useRealTimers();
      }
    });

    it('a token sealed with a clock offset carries the offset expiration', async () => {
      const before = Date.now();
      const token = await make().seal(DATA, PASSWORD, { ttl: 1000, localtimeOffsetMsec: -120_000 });
      const expiration = Number(fields(token)[5]);
      expect(expiration).toBeGreaterThanOrEqual(before - 119_000);
      expect(expiration).toBeLessThanOrEqual(Date.now() - 119_000);
      await expectCode(make().unseal(token, PASSWORD), 'ERR_SEAL_EXPIRED');
      await expect(make().unseal(token, PASSWORD, { timestampSkewSec: 3600 })).resolves.toEqual(
        DATA,
      );
    });

    it('a tiny ttl expires with no skew', async () => {
      const iron = make();
      const token = await iron.seal(DATA, PASSWORD, { ttl: 1 });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await expectCode(iron.unseal(token, PASSWORD, { timestampSkewSec: 0 }), 'ERR_SEAL_EXPIRED');
      await expectCode(make().unseal(token, PASSWORD, { timestampSkewSec: 0 }), 'ERR_SEAL_EXPIRED');
    });

    it('ttl 0 writes no expiration', async () => {
      const token = await make().seal(DATA, PASSWORD, { ttl: 0 });
      expect(fields(token)[5]).toBe('');
      await expect(make().unseal(token, PASSWORD, { localtimeOffsetMsec: 1e13 })).resolves.toEqual(
        DATA,
      );
    });

    it('an expired token with a bad MAC is reported as unseal failure, not expiry', async () => {
      const token = await make().seal(DATA, PASSWORD, { ttl: 1000, localtimeOffsetMsec: -120_000 });
      await expectCode(make().unseal(token, OTHER_PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
    });
  });

  describe('password rules', () => {
    it.each([
      ['a string of 31 characters', 'x'.repeat(31)],
      ['an empty string', ''],
      ['31 bytes', new Uint8Array(31)],
      ['33 bytes (aes-256-cbc keys are exactly 32)', new Uint8Array(33)],
      ['{ id: "a-b", secret }', { id: 'a-b', secret: PASSWORD }],
      ['{ id: "has space", secret }', { id: 'has space', secret: PASSWORD }],
      ['{ id, secret: too short }', { id: 'ok', secret: 'short' }],
      ['{ id, secret: a number }', { id: 'ok', secret: 42 }],
      ['a map with an invalid id', { 'a-b': PASSWORD }],
      ['an empty map', {}],
      ['a map of several non-numeric ids', { old: PASSWORD, new: OTHER_PASSWORD }],
      ['null', null],
      ['a number', 12345],
      ['undefined', undefined],
    ])('seal refuses %s with ERR_PASSWORD_INVALID', async (_label, password) => {
      await expectCode(make().seal(DATA, password as PasswordInput), 'ERR_PASSWORD_INVALID');
    });

    it.each([
      ['a string of 31 characters', 'x'.repeat(31)],
      ['31 bytes', new Uint8Array(31)],
      ['null', null],
      ['a map entry that is too short', { default: 'short' }],
      ['{ id: "a-b", secret }', { id: 'a-b', secret: PASSWORD }],
    ])('unseal refuses %s with ERR_PASSWORD_INVALID', async (_label, password) => {
      const token = await make().seal(DATA, PASSWORD);
      await expectCode(make().unseal(token, password as PasswordInput), 'ERR_PASSWORD_INVALID');
    });

    it('aes-128-ctr byte keys must be exactly 16 bytes', async () => {
      const ctr: SealOptionsInput = { encryption: { algorithm: 'aes-128-ctr' } };
      await expectCode(make().seal(DATA, BYTES_32, ctr), 'ERR_PASSWORD_INVALID');
      await expectCode(
        make().seal(DATA, { encryption: BYTES_16, integrity: BYTES_16 }, ctr),
        'ERR_PASSWORD_INVALID',
      );
      const token = await make().seal(DATA, { encryption: BYTES_16, integrity: BYTES_32 }, ctr);
      await expect(
        make().unseal(token, { encryption: BYTES_16, integrity: BYTES_32 }, ctr),
      ).resolves.toEqual(DATA);
    });

    it('a higher minPasswordlength applies', async () => {
      const options: SealOptionsInput = {
        encryption: { minPasswordlength: 64 },
        integrity: { minPasswordlength: 64 },
      };
      await expectCode(make().seal(DATA, PASSWORD, options), 'ERR_PASSWORD_INVALID');
    });
  });

  describe('password map lookup', () => {
    it('an id-less token is looked up as "default"', async () => {
      const token = await make().seal(DATA, PASSWORD);
      await expect(
        make().unseal(token, { default: PASSWORD, other: OTHER_PASSWORD }),
      ).resolves.toEqual(DATA);
      await expectCode(make().unseal(token, { other: PASSWORD }), 'ERR_PASSWORD_NOT_FOUND');
    });

    it('an unknown id gives ERR_PASSWORD_NOT_FOUND', async () => {
      const token = await make().seal(DATA, { id: 'gone', secret: PASSWORD });
      await expectCode(
        make().unseal(token, { default: PASSWORD, kept: PASSWORD }),
        'ERR_PASSWORD_NOT_FOUND',
      );
    });

    it('ids that name Object.prototype members are not found in a map', async () => {
      for (const id of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
        const token = await make().seal(DATA, { id, secret: PASSWORD });
        expect(fields(token)[1]).toBe(id);
        await expectCode(make().unseal(token, { a: PASSWORD }), 'ERR_PASSWORD_NOT_FOUND');
      }
    });

    it('{ id, secret } unseals its own id and refuses another (h3 bug #2 fixed)', async () => {
      const mine = { id: 'mine', secret: PASSWORD };
      const token = await make().seal(DATA, mine);
      await expect(make().unseal(token, mine)).resolves.toEqual(DATA);
      const other = await make().seal(DATA, { id: 'theirs', secret: PASSWORD });
      await expectCode(make().unseal(other, mine), 'ERR_PASSWORD_NOT_FOUND');
      // The same through the engine that sealed (and so cached) the other token.
      const iron = make();
      const cached = await iron.seal(DATA, { id: 'theirs', secret: PASSWORD });
      await expectCode(iron.unseal(cached, mine), 'ERR_PASSWORD_NOT_FOUND');
    });

    it('a plain string password ignores the token id, as @hapi/iron does', async () => {
      const token = await make().seal(DATA, { id: 'any', secret: PASSWORD });
      await expect(make().unseal(token, PASSWORD)).resolves.toEqual(DATA);
    });

    it('seals with the highest numeric id of a map', async () => {
      const token = await make().seal(DATA, { '9': PASSWORD, '10': OTHER_PASSWORD, '2': PASSWORD });
      expect(fields(token)[1]).toBe('10');
      await expect(make().unseal(token, OTHER_PASSWORD)).resolves.toEqual(DATA);
    });

    it('a map with the entry "default" seals without an id', async () => {
      const token = await make().seal(DATA, { default: PASSWORD });
      expect(fields(token)[1]).toBe('');
    });

    it('the wrong secret under the right id gives ERR_SEAL_UNSEAL_FAILED', async () => {
      const token = await make().seal(DATA, { id: 'k', secret: PASSWORD });
      await expectCode(make().unseal(token, { k: OTHER_PASSWORD }), 'ERR_SEAL_UNSEAL_FAILED');
    });
  });

  describe('option validation', () => {
    it.each([
      ['unknown encryption algorithm', { encryption: { algorithm: 'aes-256-gcm' } }],
      ['unknown integrity algorithm', { integrity: { algorithm: 'sha1' } }],
      ['encryption iterations 0', { encryption: { iterations: 0 } }],
      ['integrity iterations 0', { integrity: { iterations: 0 } }],
      ['fractional iterations', { encryption: { iterations: 1.5 } }],
      ['saltBits 0', { encryption: { saltBits: 0 } }],
      ['negative ttl', { ttl: -1 }],
      ['NaN ttl', { ttl: Number.NaN }],
      ['string ttl', { ttl: '1000' }],
      ['negative skew', { timestampSkewSec: -1 }],
      ['a 15-byte iv', { encryption: { iv: new Uint8Array(15) } }],
      ['a non-hex salt', { encryption: { salt: 'not hex!' } }],
      ['encryption as a string', { encryption: 'aes-256-cbc' }],
      ['null options', null],
      ['string options', 'fast'],
    ])('%s → ERR_OPTIONS_INVALID on seal and unseal', async (_label, options) => {
      const input = options as SealOptionsInput;
      await expectCode(make().seal(DATA, PASSWORD, input), 'ERR_OPTIONS_INVALID');
      const token = await make().seal(DATA, PASSWORD);
      await expectCode(make().unseal(token, PASSWORD, input), 'ERR_OPTIONS_INVALID');
    });
  });

  describe('data refusal on seal', () => {
    class Point {
      x = 1;
    }
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const cyclicArray: unknown[] = [1];
    cyclicArray.push([cyclicArray]);
    const hidden = Object.defineProperty({ a: 1 }, 'b', { value: 2, enumerable: false });
    const ownProto = Object.defineProperty({}, '__proto__', {
      value: { polluted: true },
      enumerable: true,
    });

    it.each([
      ['a Date', new Date(0)],
      ['a nested Date', { at: new Date(0) }],
      ['a Map', new Map([['a', 1]])],
      ['a Set', new Set([1])],
      ['a class instance', new Point()],
      ['a boxed string', { s: Object('boxed') as unknown }],
      ['NaN', Number.NaN],
      ['Infinity inside', { n: Number.POSITIVE_INFINITY }],
      ['-Infinity in an array', [Number.NEGATIVE_INFINITY]],
      ['a bigint', { n: 1n }],
      ['a function', { f: () => 1 }],
      ['a symbol value', { s: Symbol('s') }],
      ['undefined at top level', undefined],
      ['undefined inside an array', [1, undefined, 2]],
      ['a hole in an array', new Array<unknown>(3)],
      ['a cycle through an object', cyclic],
      ['a cycle through arrays', cyclicArray],
      ['a symbol key', { [Symbol('k')]: 1, a: 1 }],
      ['a non-enumerable key', hidden],
      ['an own __proto__ key (JSON.parse)', JSON.parse('{"a":1,"__proto__":{"polluted":true}}')],
      ['an own __proto__ key (defineProperty)', ownProto],
      ['a nested own __proto__ key', { deep: [JSON.parse('{"__proto__":{}}')] }],
      ['constructor.prototype', { constructor: { prototype: { polluted: true } } }],
      ['a toJSON method', { toJSON: () => 'x' }],
    ])('%s → ERR_DATA_INVALID', async (_label, value) => {
      await expectCode(make().seal(value, PASSWORD), 'ERR_DATA_INVALID');
    });

    it('shared (non-cyclic) references are fine', async () => {
      const shared = { s: 1 };
      const iron = make();
      const token = await iron.seal({ a: shared, b: [shared, shared] }, PASSWORD);
      await expect(iron.unseal(token, PASSWORD)).resolves.toEqual({
        a: { s: 1 },
        b: [{ s: 1 }, { s: 1 }],
      });
    });
  });

  describe('prototype pollution refusal on unseal', () => {
    const polluting: readonly (readonly [string, string])[] = [
      ['top-level __proto__', '{"__proto__":{"polluted":true}}'],
      ['nested __proto__', '{"a":{"b":{"__proto__":{"polluted":true}}}}'],
      ['__proto__ in an array', '[1,{"__proto__":{"polluted":true}}]'],
      ['constructor.prototype', '{"constructor":{"prototype":{"polluted":true}}}'],
      ['nested constructor.prototype', '{"x":[{"constructor":{"prototype":{"polluted":true}}}]}'],
      ['the \\u005f_proto__ escape', '{"\\u005f_proto__":{"polluted":true}}'],
      ['a fully escaped __proto__', '{"\\u005f\\u005f\\u0070roto__":{"polluted":true}}'],
      ['an escaped constructor', '{"\\u0063onstructor":{"prototype":{"polluted":true}}}'],
      ['an escaped prototype', '{"constructor":{"\\u0070rototype":{"polluted":true}}}'],
    ];

    it.each(polluting)('%s → ERR_DATA_INVALID, Object.prototype untouched', async (_l, json) => {
      const token = handSeal(json, PASSWORD);
      await expectCode(make().unseal(token, PASSWORD), 'ERR_DATA_INVALID');
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('a token @hapi/iron seals around a __proto__ key is refused', async () => {
      const value: unknown = JSON.parse('{"user":1,"__proto__":{"polluted":true}}');
      const token = await hapi.seal(value, PASSWORD);
      await expectCode(make().unseal(token, PASSWORD), 'ERR_DATA_INVALID');
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('a token @hapi/iron seals around constructor.prototype is refused', async () => {
      const token = await hapi.seal({ constructor: { prototype: { polluted: true } } }, PASSWORD);
      await expectCode(make().unseal(token, PASSWORD), 'ERR_DATA_INVALID');
    });

    // Text that is not JSON behind a valid MAC means a wrong key or algorithm: reported
    // like a decryption failure, so mismatched options always give one code.
    it('authentic but non-JSON plaintext → ERR_SEAL_UNSEAL_FAILED', async () => {
      await expectCode(
        make().unseal(handSeal('not json {', PASSWORD), PASSWORD),
        'ERR_SEAL_UNSEAL_FAILED',
      );
      await expectCode(make().unseal(handSeal('', PASSWORD), PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
    });

    it('unsealing under other encryption options always gives ERR_SEAL_UNSEAL_FAILED', async () => {
      const iron = make();
      for (let i = 0; i < 40; i++) {
        const token = await iron.seal({ i }, PASSWORD);
        await expectCode(
          iron.unseal(token, PASSWORD, { encryption: { iterations: 2 } }),
          'ERR_SEAL_UNSEAL_FAILED',
        );
      }
    });

    it('escapes that spell harmless keys still parse', async () => {
      const token = handSeal('{"\\u0061":"\\u00fc","constructor":"c"}', PASSWORD);
      await expect(make().unseal(token, PASSWORD)).resolves.toEqual({ a: 'ü', constructor: 'c' });
    });

    it('the hand-built token helper itself is correct', async () => {
      await expect(make().unseal(handSeal('{"a":1}', PASSWORD), PASSWORD)).resolves.toEqual({
        a: 1,
      });
      await expect(hapi.unseal(handSeal('{"a":1}', PASSWORD), PASSWORD)).resolves.toEqual({ a: 1 });
    });
  });

  describe('errors', () => {
    const weirdTokens: readonly unknown[] = [
      undefined,
      null,
      42,
      {},
      ['Fe26.2'],
      '',
      '*******',
      'Fe26.2*',
      'Fe26.1**a*b*c**d*e',
      `Fe26.2**${'a'.repeat(300)}*${'A'.repeat(22)}*AAAA**ab*${'A'.repeat(43)}`,
      `Fe26.2**ab*${'A'.repeat(22)}*AAAAA**ab*${'A'.repeat(43)}`,
      `Fe26.2**ab*${'A'.repeat(22)}*AAAA**ab*${'A'.repeat(43)}`,
      `Fe26.2**ab*${'A'.repeat(22)}*${'A'.repeat(22)}**ab*${'A'.repeat(43)}`,
      `Fe26.2**ab*${'A'.repeat(22)}*${'A'.repeat(22)}*99999999999999999999*ab*${'A'.repeat(43)}`,
      '\u0000\uD800',
    ];
    const weirdPasswords: readonly unknown[] = [
      PASSWORD,
      BYTES_32,
      null,
      undefined,
      0,
      [],
      { id: 1, secret: PASSWORD },
      { default: null },
      { default: { secret: 1 } },
      Symbol('pw'),
      () => PASSWORD,
    ];
    const weirdOptions: readonly unknown[] = [
      undefined,
      null,
      {},
      { encryption: null },
      { encryption: { algorithm: 'aes-128-ctr' } },
      { ttl: Infinity },
      { localtimeOffsetMsec: 'x' },
    ];

    it('unseal never rejects with anything but a SessionError', async () => {
      const iron = make();
      const valid = await iron.seal(DATA, PASSWORD);
      for (const token of [...weirdTokens, valid]) {
        for (const password of weirdPasswords) {
          for (const options of weirdOptions) {
            try {
              await iron.unseal(
                token as string,
                password as PasswordInput,
                options as SealOptionsInput,
              );
            } catch (error) {
              expect(isSessionError(error), String(error)).toBe(true);
              expect((error as SessionError).name).toBe('SessionError');
            }
          }
        }
      }
    });

    it('seal never rejects with anything but a SessionError', async () => {
      const iron = make();
      const values: readonly unknown[] = [DATA, undefined, 1n, new Date(), Symbol('x'), 'ok'];
      for (const value of values) {
        for (const password of weirdPasswords) {
          for (const options of weirdOptions) {
            try {
              await iron.seal(value, password as PasswordInput, options as SealOptionsInput);
            } catch (error) {
              expect(isSessionError(error), String(error)).toBe(true);
            }
          }
        }
      }
    });

    it('seal and unseal return promises even when failing synchronously', () => {
      const iron = make();
      const pending = iron.unseal('garbage', PASSWORD);
      expect(pending).toBeInstanceOf(Promise);
      const sealing = iron.seal(undefined, PASSWORD);
      expect(sealing).toBeInstanceOf(Promise);
      return Promise.all([
        expectCode(pending, 'ERR_SEAL_INVALID'),
        expectCode(sealing, 'ERR_DATA_INVALID'),
      ]);
    });

    it('messages never contain the token, its fields or the password', async () => {
      const iron = make();
      const token = await iron.seal({ secretData: 'classified-value' }, PASSWORD, { ttl: 1000 });
      const parts = fields(token).filter((part) => part.length >= 8);
      const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
      const attempts: (() => Promise<unknown>)[] = [
        () => iron.unseal(tampered, PASSWORD),
        () => iron.unseal(token, OTHER_PASSWORD),
        () => iron.unseal(token, { nope: PASSWORD }),
        () => iron.unseal(token, 'x'.repeat(20)),
        () => iron.unseal(token, PASSWORD, { localtimeOffsetMsec: 1e9 }),
        () => iron.unseal(token.slice(0, 40), PASSWORD),
        () => iron.unseal(token, { id: 'other', secret: PASSWORD }),
        () => iron.unseal(handSeal('{"__proto__":{"classified-value":1}}', PASSWORD), PASSWORD),
        () => iron.unseal(handSeal('classified-value', PASSWORD), PASSWORD),
        () => iron.seal({ secretData: 'classified-value', d: new Date() }, PASSWORD),
        () => iron.seal(DATA, PASSWORD.slice(0, 20)),
        () => iron.seal(DATA, { id: 'bad-id-classified-value', secret: PASSWORD }),
      ];
      for (const attempt of attempts) {
        const error = await rejection(attempt());
        const text = `${error.message} ${String(error)}`;
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(PASSWORD.slice(0, 20));
        expect(text).not.toContain('classified-value');
        for (const part of parts) expect(text).not.toContain(part);
      }
    });

    it('errors carry stable codes and names, and isSessionError filters by code', async () => {
      const error = await rejection(make().unseal('nope', PASSWORD));
      expect(error).toBeInstanceOf(SessionError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('SessionError');
      expect(isSessionError(error, 'ERR_SEAL_INVALID')).toBe(true);
      expect(isSessionError(error, 'ERR_SEAL_EXPIRED')).toBe(false);
    });
  });
}

describe.each(backends)('behaviour on the %s backend', (_name, backend) => {
  behaviourSuite(() => createIron(backend));
});

describe('isSessionError across copies of the package', () => {
  it('recognises an error class from a second module instance', async () => {
    vi.resetModules();
    const copy = await import('../../src/errors.js');
    expect(copy.SessionError).not.toBe(SessionError);
    const foreign = new copy.SessionError('ERR_SEAL_INVALID', 'Not a valid Fe26.2 token');
    expect(foreign instanceof SessionError).toBe(false);
    expect(isSessionError(foreign)).toBe(true);
    expect(isSessionError(foreign, 'ERR_SEAL_INVALID')).toBe(true);
    expect(copy.isSessionError(new SessionError('ERR_CRYPTO', 'x'))).toBe(true);
  });

  it('recognises errors thrown by a second copy of the engine', async () => {
    vi.resetModules();
    const engine = await import('../../src/iron/create-iron.js');
    const web = await import('../../src/iron/backend/web.js');
    const error = await rejection(engine.createIron(web.webBackend).unseal('x', PASSWORD));
    expect(error instanceof SessionError).toBe(false);
    expect(isSessionError(error, 'ERR_SEAL_INVALID')).toBe(true);
  });

  it('the brand is a registered symbol on the prototype, not an own or enumerable field', () => {
    const brand = Symbol.for('sealed-session.SessionError');
    const error = new SessionError('ERR_SEAL_INVALID', 'x');
    expect((SessionError.prototype as unknown as Record<symbol, unknown>)[brand]).toBe(true);
    expect(Object.hasOwn(error, brand)).toBe(false);
    expect(Object.keys(error)).not.toContain(brand.toString());
    expect(JSON.stringify(Object.fromEntries(Object.entries(error)))).not.toContain(
      'sealed-session',
    );
  });

  it('rejects look-alikes without the brand', () => {
    const lookAlike = Object.assign(new Error('x'), {
      name: 'SessionError',
      code: 'ERR_SEAL_INVALID',
    });
    expect(isSessionError(lookAlike)).toBe(false);
    expect(isSessionError({ code: 'ERR_SEAL_INVALID' })).toBe(false);
    expect(isSessionError(null)).toBe(false);
    expect(isSessionError('ERR_SEAL_INVALID')).toBe(false);
  });
});
