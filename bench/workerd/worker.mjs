/**
 * Benchmark worker: seals and unseals with sealed-session (its WebCrypto backend, chosen by
 * the workerd export condition) and iron-webcrypto 1.x, inside workerd, where the
 * WebCrypto backend actually runs. `GET /?lib=ours|iwc1&op=seal|unseal&n=N` runs N
 * sequential operations and answers with a check value; the caller times the request.
 */
import * as ours from '../../dist/iron/index.js';
import * as iwc1 from 'iron-webcrypto-v1';

const PASSWORD = 'bench-password-that-is-at-least-32-characters-long';
const PAYLOAD = {
  id: '6f1c2f9e-3b7a-4d2e-9a51-0c8b7e4d2a10',
  createdAt: 1795770000000,
  data: {
    user: { id: 42, name: 'Ada Lovelace', email: 'ada@example.com' },
    roles: ['admin'],
    n: 0,
  },
};
// More distinct tokens than sealed-session's verified-token cache holds (1024): every
// unseal does the crypto.
const POOL = 2048;

/**
 * @typedef {{ seal: (value: unknown) => Promise<string>, unseal: (token: string) => Promise<unknown> }}
 *   Library
 * @typedef {{ tokens: string[], next: number }} Pool - sealed tokens, and the next to unseal
 */

// iron-webcrypto 1.x declares its own Crypto type, whose Uint8Array parameters the
// ArrayBuffer-only BufferSource of TypeScript's current DOM types no longer accepts: the
// mismatch is in the types only, the global crypto is what that version expects.
/** @typedef {Parameters<typeof iwc1.seal>[0]} IwcCrypto */

/** @type {Record<string, Library>} */
const libraries = {
  ours: {
    seal: (value) => ours.seal(value, PASSWORD),
    unseal: (token) => ours.unseal(token, PASSWORD),
  },
  iwc1: {
    seal: (value) =>
      iwc1.seal(
        /** @type {IwcCrypto} */ (/** @type {unknown} */ (globalThis.crypto)),
        value,
        PASSWORD,
        iwc1.defaults,
      ),
    unseal: (token) =>
      iwc1.unseal(
        /** @type {IwcCrypto} */ (/** @type {unknown} */ (globalThis.crypto)),
        token,
        PASSWORD,
        iwc1.defaults,
      ),
  },
};

/** @type {Record<string, Pool>} */
const pools = {};
/**
 * The pool of library `name`, sealed at its first use.
 *
 * @param {string} name - a key of `libraries`
 * @returns {Promise<Pool>}
 */
async function poolOf(name) {
  if (pools[name] === undefined) {
    const library = /** @type {Library} */ (libraries[name]);
    const tokens = [];
    for (let i = 0; i < POOL; i++) {
      tokens.push(await library.seal({ ...PAYLOAD, data: { ...PAYLOAD.data, n: i } }));
    }
    pools[name] = { tokens, next: 0 };
  }
  return /** @type {Pool} */ (pools[name]);
}

export default {
  /** @param {Request} request */
  async fetch(request) {
    const url = new URL(request.url);
    // Without `lib` the name is null, read as the key 'null', which no library has: a 400.
    const name = /** @type {string} */ (url.searchParams.get('lib'));
    const op = url.searchParams.get('op');
    const n = Number(url.searchParams.get('n'));
    const library = libraries[name];
    if (
      library === undefined ||
      !(/** @type {(string | null)[]} */ (['seal', 'unseal', 'prepare']).includes(op)) ||
      !(n >= 0)
    ) {
      return new Response('bad request', { status: 400 });
    }
    const pool = await poolOf(name);
    let check = 0;
    if (op === 'seal') {
      for (let i = 0; i < n; i++) check += (await library.seal(PAYLOAD)).length;
    } else if (op === 'unseal') {
      for (let i = 0; i < n; i++) {
        // An index modulo the length is in range; every token seals a PAYLOAD.
        const token = /** @type {string} */ (pool.tokens[pool.next++ % pool.tokens.length]);
        check += /** @type {typeof PAYLOAD} */ (await library.unseal(token)).data.n;
      }
    }
    return Response.json({ check });
  },
};
