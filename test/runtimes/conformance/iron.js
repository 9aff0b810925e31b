// Runtime conformance of `sealed-session/iron`: a faithful subset of the iron suite, in
// plain ESM importing only ./checks.js, so Bun, Deno, workerd and Node run the very same
// file against the package as each of them resolves it (export conditions and all).
//
// run(iron, input) takes the module namespace of `sealed-session/iron` and, optionally,
// fixtures made by Node in the test process (see test/runtimes/runtimes.test.ts):
//   input.node = { password, object, token, fixed: { object, salt, hmacSalt, iv, token } }
// It never throws for a failed check; it returns
//   { passed, failed, failures: [names], skipped: [names], details, backend, runtime, runtimeToken }
// where runtimeToken is sealed here, for Node to unseal.

import { TOKEN_SHAPE, assert, assertDeepEqual, createReport, describeError } from './checks.js';

/** @hapi/iron's published test vector. */
const HAPI_PASSWORD = 'some_not_random_password_that_is_also_long_enough';
const HAPI_OBJECT = { a: 1, b: 2, c: [3, 4, 5], d: { e: 'f' } };
const HAPI_TOKEN =
  'Fe26.2**0cdd607945dd1dffb7da0b0bf5f1a7daa6218cbae14cac51dcbd91fb077aeb5b*aOZLCKLhCt0D5IU1qLTtYw*g0ilNDlQ3TsdFUqJCqAm9iL7Wa60H7eYcHL_5oP136TOJREkS3BzheDC1dlxz5oJ**05b8943049af490e913bbc3a2485bee2aaf7b823f4c41d0ff0b7c168371a3772*R8yscVdTBRMdsoVbdDiFmUL8zb-c3PQLGJn4Y8C-AqI';

const PASSWORD = 'a_password_of_more_than_32_characters_for_runtimes';
const PASSWORD_A = 'password_A_for_rotation_tests_0123456789';
const PASSWORD_B = 'password_B_for_rotation_tests_9876543210';
const OBJECT = { id: 'a1b2', createdAt: 1700000000000, data: { user: 'ü€😀', n: [1, 2.5, null] } };

// The engine remembers tokens it sealed or verified (up to 4096 characters) and answers a
// repeated unseal from that cache. A payload whose token is longer than that makes an
// unseal in this runtime decrypt for real instead of hitting the cache.
const LARGE = {
  data: 'x'.repeat(2000) + 'é'.repeat(1500),
  list: Array.from({ length: 50 }, (_, i) => i),
};

/** Replaces the character at `index` of `text` by a different base64url character. */
function flipAt(text, index) {
  const c = text[index];
  return text.slice(0, index) + (c === 'A' ? 'B' : 'A') + text.slice(index + 1);
}

/** Flips a character in the middle of field `field` (0-based) of a token. */
function tamperField(token, field) {
  const parts = token.split('*');
  const value = parts[field];
  parts[field] = flipAt(value, Math.floor(value.length / 2));
  return parts.join('*');
}

function bytesFrom(list) {
  return Uint8Array.from(list);
}

/**
 * @param {Record<string, any>} iron the namespace of `sealed-session/iron`
 * @param {{ node?: Record<string, any> }} [input] fixtures sealed by Node
 */
export async function run(iron, input = {}) {
  const { check, skipped, result } = createReport();
  let runtimeToken;

  /** Expects `promise` to reject with a SessionError of `code`, checked by code and brand. */
  async function rejectsWith(promise, code) {
    let error;
    try {
      await promise;
    } catch (caught) {
      error = caught;
    }
    assert(error !== undefined, `expected a rejection with ${code}, but it resolved`);
    assert(
      error !== null && typeof error === 'object' && error.code === code,
      `expected code ${code}, ${describeError(error)}`,
    );
    assert(iron.isSessionError(error), 'isSessionError(error) is false');
    assert(iron.isSessionError(error, code), `isSessionError(error, '${code}') is false`);
    assert(error.name === 'SessionError', `error.name is ${String(error.name)}`);
    return error;
  }

  await check('exports: seal, unseal, isSessionError, SessionError, defaults, backend', () => {
    for (const name of ['seal', 'unseal', 'isSessionError', 'SessionError']) {
      assert(typeof iron[name] === 'function', `${name} is ${typeof iron[name]}`);
    }
    assert(iron.defaults && iron.defaults.encryption.algorithm === 'aes-256-cbc', 'defaults');
    assert(iron.backend === 'node' || iron.backend === 'web', `backend is ${String(iron.backend)}`);
  });

  await check('seal/unseal round trip', async () => {
    const token = await iron.seal(OBJECT, PASSWORD);
    assert(typeof token === 'string' && TOKEN_SHAPE.test(token), `malformed token ${token}`);
    assertDeepEqual(await iron.unseal(token, PASSWORD), OBJECT, 'unsealed');
  });

  await check(
    'round trip of a large payload (real decrypt, past the verified-token cache)',
    async () => {
      const token = await iron.seal(LARGE, PASSWORD);
      assert(token.length > 4096, `token only ${token.length} characters`);
      assertDeepEqual(await iron.unseal(token, PASSWORD), LARGE, 'unsealed');
    },
  );

  await check('@hapi/iron published vector unseals', async () => {
    assertDeepEqual(await iron.unseal(HAPI_TOKEN, HAPI_PASSWORD), HAPI_OBJECT, 'unsealed');
  });

  await check('@hapi/iron vector with a map holding "default"', async () => {
    const value = await iron.unseal(HAPI_TOKEN, { default: HAPI_PASSWORD });
    assertDeepEqual(value, HAPI_OBJECT, 'unsealed');
  });

  await check('{ id, secret } password round trip writes the id', async () => {
    const token = await iron.seal(OBJECT, { id: 'k7', secret: PASSWORD });
    assert(token.split('*')[1] === 'k7', `password id field is ${token.split('*')[1]}`);
    assertDeepEqual(await iron.unseal(token, { k7: PASSWORD }), OBJECT, 'unsealed');
  });

  await check('byte password (32 bytes) round trip with empty salts', async () => {
    const key = new Uint8Array(32).map((_, i) => (i * 7 + 3) & 0xff);
    const token = await iron.seal(LARGE, key);
    const parts = token.split('*');
    assert(parts[2] === '' && parts[6] === '', 'salt fields are not empty');
    assertDeepEqual(await iron.unseal(token, key), LARGE, 'unsealed');
  });

  await check('aes-128-ctr round trip', async () => {
    const options = { encryption: { algorithm: 'aes-128-ctr' } };
    const token = await iron.seal(LARGE, PASSWORD, options);
    assertDeepEqual(await iron.unseal(token, PASSWORD, options), LARGE, 'unsealed');
    const small = await iron.seal(OBJECT, PASSWORD, options);
    assertDeepEqual(await iron.unseal(small, PASSWORD, options), OBJECT, 'unsealed small');
  });

  await check(
    'iterations 8192 (h3 2.x): round trip, and a changed salt derives and fails',
    async () => {
      const options = { encryption: { iterations: 8192 }, integrity: { iterations: 8192 } };
      const token = await iron.seal(OBJECT, PASSWORD, options);
      assertDeepEqual(await iron.unseal(token, PASSWORD, options), OBJECT, 'unsealed');
      // A changed MAC salt is still hex: its key is derived (8192 iterations), then the
      // MAC fails.
      await rejectsWith(
        iron.unseal(tamperField(token, 6), PASSWORD, options),
        'ERR_SEAL_UNSEAL_FAILED',
      );
    },
  );

  await check('rotation: sealing with a map uses the highest id', async () => {
    const token = await iron.seal(OBJECT, { 1: PASSWORD_A, 2: PASSWORD_B });
    assert(token.split('*')[1] === '2', `password id field is "${token.split('*')[1]}"`);
  });

  await check('rotation: unseal with { 2: pwB } succeeds', async () => {
    const token = await iron.seal(LARGE, { 1: PASSWORD_A, 2: PASSWORD_B });
    assertDeepEqual(await iron.unseal(token, { 2: PASSWORD_B }), LARGE, 'unsealed');
  });

  await check('rotation: unseal with { 1: pwA } rejects ERR_PASSWORD_NOT_FOUND', async () => {
    const token = await iron.seal(OBJECT, { 1: PASSWORD_A, 2: PASSWORD_B });
    await rejectsWith(iron.unseal(token, { 1: PASSWORD_A }), 'ERR_PASSWORD_NOT_FOUND');
  });

  await check('expiry: ttl writes an expiration and the token unseals before it', async () => {
    const before = Date.now();
    const token = await iron.seal(OBJECT, PASSWORD, { ttl: 1000 });
    const expiration = Number(token.split('*')[5]);
    assert(
      expiration >= before + 1000 && expiration <= Date.now() + 1000,
      `expiration ${token.split('*')[5]} is not now + 1000`,
    );
    assertDeepEqual(await iron.unseal(token, PASSWORD), OBJECT, 'unsealed');
  });

  await check('expiry: unseal 120 s later rejects ERR_SEAL_EXPIRED', async () => {
    const token = await iron.seal(OBJECT, PASSWORD, { ttl: 1000 });
    await rejectsWith(
      iron.unseal(token, PASSWORD, { localtimeOffsetMsec: 120000 }),
      'ERR_SEAL_EXPIRED',
    );
  });

  await check('tamper: a flipped ciphertext character rejects ERR_SEAL_UNSEAL_FAILED', async () => {
    const token = await iron.seal(OBJECT, PASSWORD);
    await rejectsWith(iron.unseal(tamperField(token, 4), PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
  });

  await check('tamper: a flipped MAC character rejects ERR_SEAL_UNSEAL_FAILED', async () => {
    const token = await iron.seal(OBJECT, PASSWORD);
    await rejectsWith(iron.unseal(tamperField(token, 7), PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
  });

  await check('tamper: a flipped IV character rejects ERR_SEAL_UNSEAL_FAILED', async () => {
    const token = await iron.seal(OBJECT, PASSWORD);
    await rejectsWith(iron.unseal(tamperField(token, 3), PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
  });

  await check('tamper: the published vector with a flipped MAC character', async () => {
    await rejectsWith(
      iron.unseal(tamperField(HAPI_TOKEN, 7), HAPI_PASSWORD),
      'ERR_SEAL_UNSEAL_FAILED',
    );
  });

  await check('wrong password rejects ERR_SEAL_UNSEAL_FAILED', async () => {
    await rejectsWith(iron.unseal(HAPI_TOKEN, PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
  });

  await check('garbage rejects ERR_SEAL_INVALID', async () => {
    const garbage = [
      '',
      'garbage',
      'Fe26.2*',
      HAPI_TOKEN.replace('Fe26.2', 'Fe26.1'),
      `${HAPI_TOKEN}*extra`,
      HAPI_TOKEN.split('*').slice(0, 7).join('*'),
    ];
    for (const token of garbage) {
      await rejectsWith(iron.unseal(token, PASSWORD), 'ERR_SEAL_INVALID');
    }
  });

  await check('a short password rejects ERR_PASSWORD_INVALID', async () => {
    await rejectsWith(iron.seal(OBJECT, 'too short'), 'ERR_PASSWORD_INVALID');
  });

  await check('errors are SessionError instances of this copy', async () => {
    const error = await rejectsWith(iron.unseal('garbage', PASSWORD), 'ERR_SEAL_INVALID');
    assert(error instanceof iron.SessionError, 'not instanceof SessionError');
    assert(error instanceof Error, 'not instanceof Error');
    assert(!iron.isSessionError(new Error('x')), 'isSessionError accepts a plain Error');
  });

  const node = input.node;
  if (node === undefined) {
    skipped.push(
      'a token sealed by Node unseals here',
      'fixed salts and IV give the token Node gives',
    );
  } else {
    await check('a token sealed by Node unseals here', async () => {
      assertDeepEqual(await iron.unseal(node.token, node.password), node.object, 'unsealed');
    });

    await check('fixed salts and IV give the token Node gives', async () => {
      const { fixed } = node;
      const token = await iron.seal(fixed.object, node.password, {
        encryption: { salt: fixed.salt, iv: bytesFrom(fixed.iv) },
        integrity: { salt: fixed.hmacSalt },
      });
      assert(token === fixed.token, `sealed ${token}, Node sealed ${fixed.token}`);
    });
  }

  // On node:crypto at most a few derivations for never-seen salts start in one turn and the
  // rest wait for later turns: on every runtime each of a burst must still be answered.
  await check(
    'a burst of 40 forged tokens with fresh salts: each refused, none left waiting',
    async () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const pick = (chars, length) => {
        const bytes = crypto.getRandomValues(new Uint8Array(length));
        return Array.from(bytes, (byte) => chars[byte % chars.length]).join('');
      };
      const hex = () => pick('0123456789abcdef', 64);
      const forged = () =>
        `Fe26.2**${hex()}*${pick(alphabet, 22)}*${pick(alphabet, 64)}**${hex()}*${pick(alphabet, 43)}`;
      const settled = await Promise.allSettled(
        Array.from({ length: 40 }, () => iron.unseal(forged(), PASSWORD)),
      );
      const codes = settled.map((outcome) =>
        outcome.status === 'rejected' ? outcome.reason?.code : 'accepted',
      );
      assert(
        codes.every((code) => code === 'ERR_SEAL_UNSEAL_FAILED'),
        `answers: ${[...new Set(codes)].join(', ')}`,
      );
    },
  );

  await check('seal a token for Node', async () => {
    runtimeToken = await iron.seal(
      { sealedBy: iron.backend, object: OBJECT, large: LARGE },
      node === undefined ? PASSWORD : node.password,
    );
    assert(TOKEN_SHAPE.test(runtimeToken), 'malformed token');
  });

  return result({
    backend: iron.backend,
    runtimeToken,
    runtimeObject: { sealedBy: iron.backend, object: OBJECT, large: LARGE },
  });
}
