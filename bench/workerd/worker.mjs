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

const libraries = {
  ours: {
    seal: (value) => ours.seal(value, PASSWORD),
    unseal: (token) => ours.unseal(token, PASSWORD),
  },
  iwc1: {
    seal: (value) => iwc1.seal(globalThis.crypto, value, PASSWORD, iwc1.defaults),
    unseal: (token) => iwc1.unseal(globalThis.crypto, token, PASSWORD, iwc1.defaults),
  },
};

const pools = {};
async function poolOf(name) {
  if (pools[name] === undefined) {
    const tokens = [];
    for (let i = 0; i < POOL; i++) {
      tokens.push(await libraries[name].seal({ ...PAYLOAD, data: { ...PAYLOAD.data, n: i } }));
    }
    pools[name] = { tokens, next: 0 };
  }
  return pools[name];
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const name = url.searchParams.get('lib');
    const op = url.searchParams.get('op');
    const n = Number(url.searchParams.get('n'));
    const library = libraries[name];
    if (library === undefined || !['seal', 'unseal', 'prepare'].includes(op) || !(n >= 0)) {
      return new Response('bad request', { status: 400 });
    }
    const pool = await poolOf(name);
    let check = 0;
    if (op === 'seal') {
      for (let i = 0; i < n; i++) check += (await library.seal(PAYLOAD)).length;
    } else if (op === 'unseal') {
      for (let i = 0; i < n; i++) {
        const token = pool.tokens[pool.next++ % pool.tokens.length];
        check += (await library.unseal(token)).data.n;
      }
    }
    return Response.json({ check });
  },
};
