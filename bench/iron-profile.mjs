/**
 * Where one sealed-session operation spends its time (node backend, as built in dist/).
 *
 *   node bench/iron-profile.mjs [breakdown]      cost of each step of seal/unseal, in isolation
 *   node --cpu-prof --cpu-prof-dir=.tmp/prof bench/iron-profile.mjs loop <case> [seconds]
 *                                                a focused loop for a CPU profile, where <case> is
 *                                                seal | fresh | repeat | foreign | forged
 *
 * The breakdown re-does each step the engine does with the same node:crypto calls, so the
 * numbers add up to roughly one operation; the full operation is timed alongside.
 */
import { createDecipheriv, createHmac, createSecretKey, pbkdf2Sync } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { createIron } from '../dist/iron/create-iron.js';
import { nodeBackend } from '../dist/iron/backend/node.js';
import { NodeAesKey } from '../dist/iron/backend/node-aes.js';
import { equalStrings } from '../dist/internal/constant-time.js';
import { parseToken } from '../dist/iron/format.js';
import { parseSafe, stringifyLossless } from '../dist/iron/json.js';
import { LruCache } from '../dist/internal/lru.js';
import { Pbkdf2Sha1 } from '../dist/internal/pbkdf2-sha1.js';
import { SessionError } from '../dist/errors.js';
import { withoutStack } from '../dist/internal/stackless.js';
import {
  PASSWORD,
  PAYLOAD,
  POOL_SIZE,
  buildTokenPool,
  createAdapters,
  forgeToken,
} from './iron-fixtures.mjs';

const [mode = 'breakdown', which = 'fresh', seconds = '3'] = process.argv.slice(2);

/** @typedef {import('./iron-fixtures.d.mts').IronAdapter} IronAdapter */

// The casts below cost nothing at run time, which matters in the timed loops: an index
// into the pool is always in range, and both adapters are always created.
const iron = createIron(nodeBackend);
const sealer = /** @type {IronAdapter} */ (createAdapters().find((a) => a.id === 'ss-node'));
const hapi = /** @type {IronAdapter} */ (createAdapters().find((a) => a.id === 'hapi'));
const pool = await buildTokenPool(sealer, POOL_SIZE);

/**
 * Median over 5 runs of the nanoseconds per call of `fn` (run `n` times per run).
 *
 * @param {(i: number) => unknown} fn
 * @returns {Promise<number>}
 */
async function nsPerOp(fn, n = 20000) {
  const runs = [];
  for (let r = 0; r < 6; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const value = fn(i);
      if (value instanceof Promise) await value;
    }
    const ns = Number(process.hrtime.bigint() - start) / n;
    if (r > 0) runs.push(ns); // the first run warms up
  }
  runs.sort((a, b) => a - b);
  return /** @type {number} */ (runs[runs.length >> 1]);
}

if (mode === 'loop') {
  const foreign =
    which === 'foreign' || which === 'forged' ? await buildTokenPool(hapi, POOL_SIZE) : [];
  const forged = foreign.map(forgeToken);
  /** @type {Record<string, (i: number) => Promise<unknown>>} */
  const ops = {
    seal: () => iron.seal(PAYLOAD, PASSWORD),
    fresh: (i) => iron.unseal(/** @type {string} */ (pool[i % pool.length]), PASSWORD),
    repeat: () => iron.unseal(/** @type {string} */ (pool[0]), PASSWORD),
    foreign: (i) => iron.unseal(/** @type {string} */ (foreign[i % foreign.length]), PASSWORD),
    forged: (i) =>
      iron.unseal(/** @type {string} */ (forged[i % forged.length]), PASSWORD).then(
        () => {
          throw new Error('a forged token was accepted');
        },
        () => undefined,
      ),
  };
  const op = ops[which];
  if (op === undefined) throw new Error(`unknown case ${which}`);
  const end = performance.now() + Number(seconds) * 1000;
  let count = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 256; k++) await op(count++);
  }
  console.log(`${which}: ${count} ops, ${((Number(seconds) * 1e6) / count).toFixed(2)} µs/op`);
} else {
  const token = /** @type {string} */ (pool[1]);
  // A token sealed by the engine parses.
  const parsed = /** @type {import('../dist/iron/format.js').ParsedToken} */ (parseToken(token));
  const salt = parsed.hmacSalt;
  const macKey = createSecretKey(pbkdf2Sync(PASSWORD, salt, 1, 32, 'sha1'));
  const encKey = createSecretKey(pbkdf2Sync(PASSWORD, parsed.encryptionSalt, 1, 32, 'sha1'));
  const aesKey = new NodeAesKey(
    pbkdf2Sync(PASSWORD, parsed.encryptionSalt, 1, 32, 'sha1'),
    'aes-256-cbc',
  );
  const mac = `${parsed.hmac.slice(0, -1)}${parsed.hmac.endsWith('A') ? 'B' : 'A'}`;
  const rawMacKey = pbkdf2Sync(PASSWORD, salt, 1, 32, 'sha1');
  const plaintext = JSON.stringify(PAYLOAD);
  const iv = Buffer.alloc(16, 7);
  const lru = new LruCache(1024);
  for (let i = 0; i < 1024; i++) lru.set(/** @type {string} */ (pool[i]), i);
  const map = new Map();
  const cacheKey = `sha256|1|${salt}`;
  map.set(cacheKey, macKey);
  // Never-seen salts: @hapi/iron's tokens (a new salt each), and the same with a wrong MAC.
  const foreign = await buildTokenPool(hapi, POOL_SIZE);
  const forged = foreign.map(forgeToken);
  const freshSalts = foreign.map((t) => /** @type {string} */ (t.split('*')[6]));
  const jsPbkdf2 = new Pbkdf2Sha1(4);
  const rawEncKey = pbkdf2Sync(PASSWORD, parsed.encryptionSalt, 1, 32, 'sha1');

  /** @type {Array<[label: string, fn: (i: number) => unknown]>} */
  const steps = [
    [
      'unseal fresh, whole op (await iron.unseal)',
      (i) => iron.unseal(/** @type {string} */ (pool[(i * 7) % pool.length]), PASSWORD),
    ],
    ['unseal repeat, whole op (await iron.unseal)', () => iron.unseal(token, PASSWORD)],
    ['seal, whole op (await iron.seal)', () => iron.seal(PAYLOAD, PASSWORD)],
    [
      'unseal never-seen salts, whole op (await iron.unseal)',
      (i) => iron.unseal(/** @type {string} */ (foreign[i % foreign.length]), PASSWORD),
    ],
    [
      'forged token (fresh salts, bad MAC) refused, whole op',
      (i) =>
        iron.unseal(/** @type {string} */ (forged[i % forged.length]), PASSWORD).then(
          () => {
            throw new Error('a forged token was accepted');
          },
          () => undefined,
        ),
    ],
    [
      '  PBKDF2-HMAC-SHA1, 1 iteration, 32 bytes, new salt: pbkdf2Sync',
      (i) => pbkdf2Sync(PASSWORD, /** @type {string} */ (freshSalts[i & 4095]), 1, 32, 'sha1'),
    ],
    [
      '    the same in JS, password keyed once (Pbkdf2Sha1)',
      (i) => jsPbkdf2.derive(PASSWORD, /** @type {string} */ (freshSalts[i & 4095]), 1, 32),
    ],
    [
      '  decrypt under a new key: new NodeAesKey, one-shot context + 2x Buffer.from',
      () =>
        new NodeAesKey(rawEncKey, 'aes-256-cbc').decrypt(
          Buffer.from(parsed.iv, 'base64url'),
          Buffer.from(parsed.ciphertext, 'base64url'),
        ),
    ],
    [
      '  new SessionError, stack captured',
      () => new SessionError('ERR_SEAL_UNSEAL_FAILED', 'The token does not verify'),
    ],
    [
      '    the same without a stack (withoutStack: how refusals are made)',
      () =>
        withoutStack(() => new SessionError('ERR_SEAL_UNSEAL_FAILED', 'The token does not verify')),
    ],
    ['  await of a resolved promise (toPromise)', () => Promise.resolve(1)],
    ['  parseToken (one regex + 8 captures + slice)', () => parseToken(token)],
    [
      '  createHmac(KeyObject) ... digest(base64url)',
      () => createHmac('sha256', macKey).update(parsed.macBase, 'utf8').digest('base64url'),
    ],
    [
      '  createHmac(Buffer key) ... digest(base64url)',
      () => createHmac('sha256', rawMacKey).update(parsed.macBase, 'utf8').digest('base64url'),
    ],
    ['  equalStrings (constant-time MAC comparison)', () => equalStrings(parsed.hmac, mac)],
    [
      '  decrypt: NodeAesKey (open CBC context) + 2x Buffer.from(b64url) + toString',
      () =>
        // The token's own key and ciphertext: the padding is valid, so it decrypts.
        /** @type {Buffer} */ (
          aesKey.decrypt(
            Buffer.from(parsed.iv, 'base64url'),
            Buffer.from(parsed.ciphertext, 'base64url'),
          )
        ).toString('utf8'),
    ],
    [
      '    for comparison: createDecipheriv per token, as a minimal Fe26.2 does',
      () => {
        const d = createDecipheriv('aes-256-cbc', encKey, Buffer.from(parsed.iv, 'base64url'));
        const input = Buffer.from(parsed.ciphertext, 'base64url');
        return Buffer.concat([d.update(input), d.final()]).toString('utf8');
      },
    ],
    [
      '  encrypt: NodeAesKey (open CBC context) + toString(base64url)',
      () => aesKey.encrypt(iv, plaintext).toString('base64url'),
    ],
    ['  parseSafe (JSON.parse + suspicious-key regex)', () => parseSafe(plaintext)],
    ['    JSON.parse alone', () => JSON.parse(plaintext)],
    ['  stringifyLossless (walk + JSON.stringify)', () => stringifyLossless(PAYLOAD)],
    ['    JSON.stringify alone', () => JSON.stringify(PAYLOAD)],
    ['  LruCache get (hit: Map delete + set)', () => lru.get(/** @type {string} */ (pool[1000]))],
    [
      '  LruCache set (+ evict oldest)',
      (i) => lru.set(/** @type {string} */ (pool[(i * 7) % pool.length]), i),
    ],
    ['  Map get (cache key built by template)', () => map.get(`sha256|${1}|${salt}`)],
  ];
  console.log(`node ${process.version}; ns per call (median of 5 runs)`);
  for (const [label, fn] of steps) {
    const ns = await nsPerOp(fn);
    console.log(`${label.padEnd(78)}${ns.toFixed(0).padStart(8)} ns`);
  }
}
