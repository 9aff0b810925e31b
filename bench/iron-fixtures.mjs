/**
 * Fixtures of the iron benchmark (bench/iron.mjs), shared with test/bench/iron-fixtures.test.ts
 * so that a broken fixture fails CI instead of producing a meaningless number.
 *
 * Everything the benchmark times goes through the adapters below: one seal and one unseal per
 * library, each with the library's own default iron options and the same password and payload.
 * sealed-session is measured as built (dist/), so `npm run build` must have run.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import Iron from '@hapi/iron';
import * as ironV1 from 'iron-webcrypto-v1';
import * as ironV2 from 'iron-webcrypto-v2';
import { createIron, defaultLimits } from '../dist/iron/create-iron.js';
import { nodeBackend } from '../dist/iron/backend/node.js';
import { webBackend } from '../dist/iron/backend/web.js';

/** One password for every library: 32+ characters, as iron requires of string passwords. */
export const PASSWORD = 'bench-password-that-is-at-least-32-characters-long';

/**
 * A realistic session as h3/vinxi seal it (`{ id, createdAt, data }`), about 150 bytes
 * (157) of JSON. `index` changes only the id (a UUID, fixed length), so every payload of a pool has
 * the same size and every token is distinct.
 */
export function payloadFor(index = 0) {
  const tail = (0x5a0f7d1e4b83 + index).toString(16).padStart(12, '0').slice(-12);
  return {
    id: `3f1c2b9e-8a47-4d6b-9c2e-${tail}`,
    createdAt: 1764230400000,
    data: {
      user: { id: 42, name: 'Ada', email: 'a@ex.io' },
      roles: ['admin'],
      cart: [7],
    },
  };
}

/** The payload every seal benchmark seals. */
export const PAYLOAD = payloadFor(0);

/** Size of {@link PAYLOAD} as JSON, in bytes (ASCII only, so characters = bytes). */
export const PAYLOAD_JSON_BYTES = JSON.stringify(PAYLOAD).length;

/**
 * Tokens per "fresh tokens" pool: larger than sealed-session's verified-token cache, so cycling
 * through the pool never hits that cache (an LRU evicts each token long before it comes back).
 */
export const POOL_SIZE = 4096;

/** The verified-token cache size of the sealed-session build under test. */
export const VERIFIED_TOKEN_CACHE = defaultLimits.verifiedTokens;

/**
 * Read from disk: not every package exports its package.json.
 *
 * @param {string} name
 * @returns {string}
 */
function versionOf(name) {
  const path =
    name === 'sealed-session' ? '../package.json' : `../node_modules/${name}/package.json`;
  return JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')).version;
}

/**
 * The yardstick the Fe26.2 issue quotes ("a minimal synchronous node:crypto Fe26.2 with
 * cached keys"): what node:crypto itself costs here, measured in the same run as everything
 * else. Keys are cached by salt and sealing always uses the same two salts (so it never
 * derives); each operation opens a new cipher and HMAC and checks nothing but the MAC. Not a
 * library: no validation, no expiry, no error codes.
 */
function minimalFe26() {
  /** @type {Map<string, import('node:crypto').KeyObject>} */
  const keys = new Map();
  /** @param {string} salt */
  const keyFor = (salt) => {
    let key = keys.get(salt);
    if (key === undefined) {
      key = createSecretKey(pbkdf2Sync(PASSWORD, salt, 1, 32, 'sha1'));
      keys.set(salt, key);
    }
    return key;
  };
  const encryptionSalt = randomBytes(32).toString('hex');
  const integritySalt = randomBytes(32).toString('hex');
  return {
    /** @param {unknown} object */
    seal(object) {
      const iv = randomBytes(16);
      const cipher = createCipheriv('aes-256-cbc', keyFor(encryptionSalt), iv);
      const ciphertext = Buffer.concat([
        cipher.update(JSON.stringify(object), 'utf8'),
        cipher.final(),
      ]).toString('base64url');
      const base = `Fe26.2**${encryptionSalt}*${iv.toString('base64url')}*${ciphertext}*`;
      const mac = createHmac('sha256', keyFor(integritySalt)).update(base).digest('base64url');
      return `${base}*${integritySalt}*${mac}`;
    },
    /**
     * @param {string} token
     * @returns {unknown}
     */
    unseal(token) {
      // No shape check, as the yardstick has none: the pools only hold well-formed tokens
      // (eight fields), which the tuple type takes for granted too.
      const [, , encSalt, iv, ciphertext, , macSalt, mac] =
        /** @type {[string, string, string, string, string, string, string, string]} */ (
          token.split('*')
        );
      const base = token.slice(0, token.length - macSalt.length - mac.length - 2);
      const expected = createHmac('sha256', keyFor(macSalt)).update(base).digest();
      const given = Buffer.from(mac, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new Error('bad MAC');
      }
      const decipher = createDecipheriv(
        'aes-256-cbc',
        keyFor(encSalt),
        Buffer.from(iv, 'base64url'),
      );
      const plaintext = Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]);
      return JSON.parse(plaintext.toString('utf8'));
    },
  };
}

/**
 * The libraries, each as `{ id, name, version, ours, seal(object), unseal(token) }`. Every call
 * makes new sealed-session engines (createIron), so their caches start empty: the benchmark
 * seals its token pools with one set and measures another.
 *
 * @returns {import('./iron-fixtures.d.mts').IronAdapter[]}
 */
export function createAdapters() {
  const ironNode = createIron(nodeBackend);
  const ironWeb = createIron(webBackend);
  // iron-webcrypto 1.x declares its own Crypto type, whose Uint8Array parameters the
  // ArrayBuffer-only BufferSource of TypeScript's current DOM types no longer accepts: the
  // mismatch is in the types only, the global crypto is what that version expects.
  const webcrypto = /** @type {Parameters<typeof ironV1.seal>[0]} */ (
    /** @type {unknown} */ (globalThis.crypto)
  );
  const sealedVersion = versionOf('sealed-session');
  const minimal = minimalFe26();
  return [
    {
      id: 'ss-node',
      name: 'sealed-session (node)',
      version: sealedVersion,
      ours: true,
      seal: (object) => ironNode.seal(object, PASSWORD),
      unseal: (token) => ironNode.unseal(token, PASSWORD),
    },
    {
      id: 'ss-web',
      name: 'sealed-session (WebCrypto)',
      version: sealedVersion,
      ours: true,
      seal: (object) => ironWeb.seal(object, PASSWORD),
      unseal: (token) => ironWeb.unseal(token, PASSWORD),
    },
    {
      id: 'iwc-v1',
      name: 'iron-webcrypto 1.x',
      version: versionOf('iron-webcrypto-v1'),
      ours: false,
      seal: (object) => ironV1.seal(webcrypto, object, PASSWORD, ironV1.defaults),
      unseal: (token) => ironV1.unseal(webcrypto, token, PASSWORD, ironV1.defaults),
    },
    {
      id: 'iwc-v2',
      name: 'iron-webcrypto 2.x',
      version: versionOf('iron-webcrypto-v2'),
      ours: false,
      seal: (object) => ironV2.seal(object, PASSWORD, ironV2.defaults),
      unseal: (token) => ironV2.unseal(token, PASSWORD, ironV2.defaults),
    },
    {
      id: 'hapi',
      name: '@hapi/iron 7',
      version: versionOf('@hapi/iron'),
      ours: false,
      seal: (object) => Iron.seal(object, PASSWORD, Iron.defaults),
      unseal: (token) => Iron.unseal(token, PASSWORD, Iron.defaults),
    },
    {
      id: 'minimal',
      name: 'minimal node:crypto',
      version: process.version,
      ours: false,
      seal: async (object) => minimal.seal(object),
      unseal: async (token) => minimal.unseal(token),
    },
  ];
}

/**
 * Seals `size` distinct payloads (payloadFor(0..size-1)) with `adapter`, a few at a time
 * (WebCrypto work runs on the thread pool), and returns the tokens in order.
 *
 * @param {import('./iron-fixtures.d.mts').IronAdapter} adapter
 * @returns {Promise<string[]>}
 */
export async function buildTokenPool(adapter, size = POOL_SIZE, concurrency = 32) {
  // Filled by index as seals complete, in any order; every slot is set before it returns.
  /** @type {string[]} */
  const tokens = new Array(size);
  for (let start = 0; start < size; start += concurrency) {
    const end = Math.min(size, start + concurrency);
    /** @type {Promise<void>[]} */
    const batch = [];
    for (let i = start; i < end; i++) {
      batch.push(
        adapter.seal(payloadFor(i)).then((token) => {
          tokens[i] = token;
        }),
      );
    }
    await Promise.all(batch);
  }
  return tokens;
}

/**
 * `token` with another MAC of the right shape: the token of an attacker who changed it or
 * made it up. Its salts are the original's, so a pool of tokens sealed with a new salt each
 * forges tokens that each need a key derivation before they are refused.
 *
 * @param {string} token
 */
export function forgeToken(token) {
  const at = token.length - 43;
  return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
}
