/**
 * Known answers: @hapi/iron's published vector unseals, and with a fixed salt and IV our
 * output is byte-identical to @hapi/iron's for the same inputs.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { createIron } from '../../src/iron/create-iron.js';
import type { SealOptionsInput } from '../../src/iron/options.js';
import * as iron from '../../src/iron/index.js';
import { BYTES_32, PASSWORD, backends, fields, hapi, type PeerPassword } from './helpers.js';

// From @hapi/iron's own test suite: a public vector every Fe26.2 implementation must open.
const VECTOR_OBJECT = { a: 1, b: 2, c: [3, 4, 5], d: { e: 'f' } };
const VECTOR_TOKEN =
  'Fe26.2**0cdd607945dd1dffb7da0b0bf5f1a7daa6218cbae14cac51dcbd91fb077aeb5b*aOZLCKLhCt0D5IU1qLTtYw*g0ilNDlQ3TsdFUqJCqAm9iL7Wa60H7eYcHL_5oP136TOJREkS3BzheDC1dlxz5oJ**05b8943049af490e913bbc3a2485bee2aaf7b823f4c41d0ff0b7c168371a3772*R8yscVdTBRMdsoVbdDiFmUL8zb-c3PQLGJn4Y8C-AqI';

const ENC_SALT = '0cdd607945dd1dffb7da0b0bf5f1a7daa6218cbae14cac51dcbd91fb077aeb5b';
const MAC_SALT = '05b8943049af490e913bbc3a2485bee2aaf7b823f4c41d0ff0b7c168371a3772';
const IV = Uint8Array.from(Buffer.from('aOZLCKLhCt0D5IU1qLTtYw', 'base64url'));

function fixed(extra: SealOptionsInput = {}): SealOptionsInput {
  return {
    ...extra,
    encryption: { ...extra.encryption, salt: ENC_SALT, iv: IV },
    integrity: { ...extra.integrity, salt: MAC_SALT },
  };
}

describe('known answers', () => {
  it('the default export unseals the published vector', async () => {
    await expect(iron.unseal(VECTOR_TOKEN, PASSWORD)).resolves.toEqual(VECTOR_OBJECT);
  });

  describe.each(backends)('%s backend', (_name, backend) => {
    it('unseals the published @hapi/iron vector', async () => {
      const engine = createIron(backend);
      await expect(engine.unseal(VECTOR_TOKEN, PASSWORD)).resolves.toEqual(VECTOR_OBJECT);
    });

    it('unseals the published vector through a password map (id-less → default)', async () => {
      const engine = createIron(backend);
      await expect(
        engine.unseal(VECTOR_TOKEN, { default: PASSWORD, other: 'x'.repeat(40) }),
      ).resolves.toEqual(VECTOR_OBJECT);
    });

    it('reproduces the published vector exactly from its salts and IV', async () => {
      const engine = createIron(backend);
      await expect(engine.seal(VECTOR_OBJECT, PASSWORD, fixed())).resolves.toBe(VECTOR_TOKEN);
    });

    const cases: readonly (readonly [string, PeerPassword, SealOptionsInput])[] = [
      ['string password, ttl 0', PASSWORD, fixed()],
      ['password id { id: v2, secret }', { id: 'v2', secret: PASSWORD }, fixed()],
      [
        'separate encryption and integrity secrets with an id',
        { id: 'k_1', encryption: PASSWORD, integrity: `${PASSWORD}-integrity` },
        fixed(),
      ],
      ['aes-128-ctr', PASSWORD, fixed({ encryption: { algorithm: 'aes-128-ctr' } })],
      [
        'iterations 8192 for both keys',
        PASSWORD,
        fixed({ encryption: { iterations: 8192 }, integrity: { iterations: 8192 } }),
      ],
      ['byte password (salts unused)', BYTES_32, { encryption: { iv: IV } }],
    ];

    it.each(cases)(
      'seals byte-identically to @hapi/iron: %s',
      async (_label, password, options) => {
        const engine = createIron(backend);
        const object = { ...VECTOR_OBJECT, text: 'é✓ 😀', nested: [null, true, 1.5] };
        const ours = await engine.seal(object, password, options);
        const theirs = await hapi.seal(object, password, options);
        expect(ours).toBe(theirs);
        await expect(engine.unseal(theirs, password, options)).resolves.toEqual(object);
      },
    );

    it('writes the password id into field 1 exactly like @hapi/iron', async () => {
      const engine = createIron(backend);
      const token = await engine.seal(VECTOR_OBJECT, { id: 'v2', secret: PASSWORD }, fixed());
      expect(fields(token)[1]).toBe('v2');
      // Only the id field and the MAC differ from the id-less vector.
      const a = fields(token);
      const b = fields(VECTOR_TOKEN);
      expect([a[0], a[2], a[3], a[4], a[5], a[6]]).toEqual([b[0], b[2], b[3], b[4], b[5], b[6]]);
      expect(a[7]).not.toBe(b[7]);
    });
  });
});
