/**
 * The primitives of an unseal whose salts this process has never seen, each done the ways
 * worth choosing between, timed against each other in one process: PBKDF2-HMAC-SHA1
 * (node:crypto, our src/internal/pbkdf2-sha1.ts, @noble/hashes), HMAC-SHA256 and SHA-256
 * (node:crypto, our src/internal/sha256.ts and hmac-sha256.ts, @noble/hashes), and the
 * first decryption under a new AES key. Inputs are cookie-sized: a 50-character password,
 * iron's 64-character hex salts (a new one for every call), the MAC base of a real token.
 *
 * Method: every candidate's output is checked against node:crypto's first; then R rounds,
 * each running every candidate of every group for one batch, the order rotating from round
 * to round so drift on a shared machine hits all alike. Reported per candidate: the median
 * and the minimum ns per call over rounds, and the median of its per-round ratio to the
 * group's first candidate (the steadiest figure on a loaded machine).
 *
 * @noble/hashes is optional (not a dependency): without it its rows are skipped. To measure
 * it: `npm install --no-save @noble/hashes`.
 *
 * Usage: npm run build && node bench/iron-primitives.mjs [--rounds 15] [--batch 2000]
 *          [--only substring-of-a-group-title]
 */
import {
  createDecipheriv,
  createHash,
  createHmac,
  createSecretKey,
  pbkdf2Sync,
  randomBytes,
} from 'node:crypto';
import { Buffer } from 'node:buffer';
import { parseArgs } from 'node:util';
import { cbcDecrypt, expandAesKey } from '../dist/internal/aes.js';
import { encodeBase64url } from '../dist/internal/base64url.js';
import { createHmacKey, hmacSha256Utf8 } from '../dist/internal/hmac-sha256.js';
import { Pbkdf2Sha1 } from '../dist/internal/pbkdf2-sha1.js';
import { sha1 } from '../dist/internal/sha1.js';
import { sha256 } from '../dist/internal/sha256.js';
import { NodeAesKey } from '../dist/iron/backend/node-aes.js';
import { parseToken } from '../dist/iron/format.js';
import { PASSWORD, PAYLOAD, createAdapters } from './iron-fixtures.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    batch: { type: 'string', default: '2000' },
    only: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const BATCH = Number(args.batch);

/**
 * The parts of @noble/hashes used here.
 *
 * @typedef {(message: Uint8Array) => Uint8Array} NobleHash
 * @typedef {{ _cloneInto(to?: NobleHmac): NobleHmac, update(data: Uint8Array): NobleHmac,
 *   digestInto(out: Uint8Array): void, digest(): Uint8Array }} NobleHmac
 * @typedef {{ pbkdf2(hash: NobleHash, password: Uint8Array, salt: Uint8Array,
 *   options: { c: number, dkLen: number }): Uint8Array, sha1: NobleHash, sha256: NobleHash,
 *   hmac: ((hash: NobleHash, key: Uint8Array, message: Uint8Array) => Uint8Array)
 *   & { create(hash: NobleHash, key: Uint8Array): NobleHmac } }} Noble
 */
/** @type {Noble | undefined} */
let noble;
try {
  // Optional: not among the package's dependencies. Specifiers in variables keep
  // TypeScript's checkJs from resolving a package that may be absent.
  const at = '@noble/hashes/';
  const load = (/** @type {string} */ file) => import(at + file);
  const [p, l, s, h] = await Promise.all(
    ['pbkdf2.js', 'legacy.js', 'sha2.js', 'hmac.js'].map(load),
  );
  noble = { pbkdf2: p.pbkdf2, sha1: l.sha1, sha256: s.sha256, hmac: h.hmac };
} catch {
  console.log('@noble/hashes not installed: its rows are skipped');
}

const encoder = new TextEncoder();
const PASSWORD_BYTES = encoder.encode(PASSWORD);
/** Fresh salts, as iron draws them (256 bits, hex): one per call, cycling. */
const SALTS = Array.from({ length: 4096 }, () => randomBytes(32).toString('hex'));
const saltAt = (/** @type {number} */ i) => /** @type {string} */ (SALTS[i & 4095]);
/** A real token of ours, for the MAC base and the ciphertext. */
const ours = /** @type {import('./iron-fixtures.d.mts').IronAdapter} */ (createAdapters()[0]);
const token = await ours.seal(PAYLOAD);
const parsed = /** @type {import('../dist/iron/format.js').ParsedToken} */ (parseToken(token));
const MAC_BASE = parsed.macBase;
const MAC_BASE_BYTES = encoder.encode(MAC_BASE);
const ENC_KEY = pbkdf2Sync(PASSWORD, parsed.encryptionSalt, 1, 32, 'sha1');
const IV = Buffer.from(parsed.iv, 'base64url');
const CIPHERTEXT_B64 = parsed.ciphertext;
/** Raw MAC keys, one per salt, so "a new key" is new every call. */
const MAC_KEYS = SALTS.slice(0, 256).map((salt) => pbkdf2Sync(PASSWORD, salt, 1, 32, 'sha1'));
const macKeyAt = (/** @type {number} */ i) => /** @type {Buffer} */ (MAC_KEYS[i & 255]);

const ourPbkdf2 = new Pbkdf2Sha1(4);
const hex = (/** @type {Uint8Array} */ bytes) => Buffer.from(bytes).toString('hex');

/** HMAC-SHA1 keyed once with node's hash.copy(): the inner and outer pads absorbed. */
function nodeKeyedSha1() {
  const block = Buffer.alloc(64);
  block.set(PASSWORD_BYTES);
  const inner = createHash('sha1').update(block.map((b) => b ^ 0x36));
  const outer = createHash('sha1').update(block.map((b) => b ^ 0x5c));
  const index = Buffer.alloc(4);
  return (/** @type {string} */ salt) => {
    const out = Buffer.allocUnsafe(40);
    const salted = inner.copy().update(salt, 'latin1');
    for (let i = 1; i <= 2; i++) {
      index.writeUInt32BE(i);
      const u = salted.copy().update(index).digest();
      outer
        .copy()
        .update(u)
        .digest()
        .copy(out, (i - 1) * 20);
    }
    return out.subarray(0, 32);
  };
}

/**
 * @noble/hashes' HMAC-SHA1 keyed once, cloned per derivation: the same shortcut as ours,
 * with noble's hash objects.
 *
 * @param {Noble} n
 */
function nobleKeyedPbkdf2(n) {
  const keyed = n.hmac.create(n.sha1, PASSWORD_BYTES);
  const index = new Uint8Array(4);
  const u = new Uint8Array(20);
  return (/** @type {string} */ salt, iterations = 1) => {
    const out = new Uint8Array(40);
    const salted = keyed._cloneInto().update(encoder.encode(salt));
    /** @type {NobleHmac | undefined} */
    let work;
    for (let i = 1; i <= 2; i++) {
      index[3] = i;
      work = salted._cloneInto(work);
      work.update(index).digestInto(u);
      const t = out.subarray((i - 1) * 20, i * 20);
      t.set(u);
      for (let j = 1; j < iterations; j++) {
        work = keyed._cloneInto(work);
        work.update(u).digestInto(u);
        for (let k = 0; k < 20; k++) {
          t[k] = /** @type {number} */ (t[k]) ^ /** @type {number} */ (u[k]);
        }
      }
    }
    return out.subarray(0, 32);
  };
}

/**
 * @typedef {{ name: string, fn: (i: number) => unknown, check?: (i: number) => string }}
 *   Candidate
 * @typedef {{ title: string, candidates: Candidate[] }} Group
 */

/** @type {Group[]} */
const groups = [];
const nodeKeyed = nodeKeyedSha1();
const nobleKeyed = noble && nobleKeyedPbkdf2(noble);

groups.push({
  title: 'PBKDF2-HMAC-SHA1, 32-byte key, 1 iteration, a new salt each call',
  candidates: [
    { name: 'node pbkdf2Sync', fn: (i) => pbkdf2Sync(PASSWORD, saltAt(i), 1, 32, 'sha1') },
    {
      name: 'node createHmac(sha1, password) x 2 blocks',
      fn: (i) => {
        const salt = saltAt(i);
        const a = createHmac('sha1', PASSWORD).update(salt).update('\0\0\0\x01', 'latin1').digest();
        const b = createHmac('sha1', PASSWORD).update(salt).update('\0\0\0\x02', 'latin1').digest();
        return Buffer.concat([a, b.subarray(0, 12)]);
      },
    },
    { name: 'node hash.copy() of keyed pads', fn: (i) => nodeKeyed(saltAt(i)) },
    {
      name: 'ours, keyed once (Pbkdf2Sha1)',
      fn: (i) => ourPbkdf2.derive(PASSWORD, saltAt(i), 1, 32),
    },
    ...(noble === undefined
      ? []
      : [
          {
            name: 'noble pbkdf2 (keys per call)',
            fn: (/** @type {number} */ i) =>
              noble.pbkdf2(noble.sha1, PASSWORD_BYTES, encoder.encode(saltAt(i)), {
                c: 1,
                dkLen: 32,
              }),
          },
          {
            name: 'noble hmac keyed once, cloned',
            fn: (/** @type {number} */ i) =>
              /** @type {NonNullable<typeof nobleKeyed>} */ (nobleKeyed)(saltAt(i)),
          },
        ]),
  ],
});

for (const iterations of [2, 4, 8, 32]) {
  groups.push({
    title: `PBKDF2-HMAC-SHA1, 32-byte key, ${iterations} iterations, a new salt each call`,
    candidates: [
      {
        name: 'node pbkdf2Sync',
        fn: (i) => pbkdf2Sync(PASSWORD, saltAt(i), iterations, 32, 'sha1'),
      },
      {
        name: 'ours, keyed once (Pbkdf2Sha1)',
        fn: (i) => ourPbkdf2.derive(PASSWORD, saltAt(i), iterations, 32),
      },
      ...(nobleKeyed === undefined
        ? []
        : [
            {
              name: 'noble hmac keyed once, cloned',
              fn: (/** @type {number} */ i) => nobleKeyed(saltAt(i), iterations),
            },
          ]),
    ],
  });
}

const b64 = (/** @type {Uint8Array} */ bytes) => Buffer.from(bytes).toString('base64url');
groups.push({
  title: `HMAC-SHA256 of a ${MAC_BASE_BYTES.length}-byte MAC base under a new key (base64url)`,
  candidates: [
    {
      name: 'node createSecretKey + createHmac(KeyObject)',
      fn: (i) =>
        createHmac('sha256', createSecretKey(macKeyAt(i)))
          .update(MAC_BASE, 'utf8')
          .digest('base64url'),
    },
    {
      name: 'node createHmac(raw Buffer)',
      fn: (i) => createHmac('sha256', macKeyAt(i)).update(MAC_BASE, 'utf8').digest('base64url'),
    },
    {
      name: 'ours createHmacKey + hmacSha256Utf8',
      fn: (i) => encodeBase64url(hmacSha256Utf8(createHmacKey(macKeyAt(i)), MAC_BASE)),
    },
    ...(noble === undefined
      ? []
      : [
          {
            name: 'noble hmac(sha256) one-shot',
            fn: (/** @type {number} */ i) =>
              b64(noble.hmac(noble.sha256, macKeyAt(i), encoder.encode(MAC_BASE))),
          },
        ]),
  ],
});

const keyObject = createSecretKey(macKeyAt(0));
const ourKey = createHmacKey(macKeyAt(0));
const nobleKey = noble?.hmac.create(noble.sha256, macKeyAt(0));
groups.push({
  title: `HMAC-SHA256 of a ${MAC_BASE_BYTES.length}-byte MAC base under a known key (base64url)`,
  candidates: [
    {
      name: 'node createHmac(KeyObject)',
      fn: () => createHmac('sha256', keyObject).update(MAC_BASE, 'utf8').digest('base64url'),
    },
    {
      name: 'node createHmac(raw Buffer)',
      fn: () => createHmac('sha256', macKeyAt(0)).update(MAC_BASE, 'utf8').digest('base64url'),
    },
    { name: 'ours prepared key', fn: () => encodeBase64url(hmacSha256Utf8(ourKey, MAC_BASE)) },
    ...(nobleKey === undefined
      ? []
      : [
          {
            name: 'noble hmac.create once, cloned',
            fn: () => b64(nobleKey._cloneInto().update(encoder.encode(MAC_BASE)).digest()),
          },
        ]),
  ],
});

groups.push({
  title: `SHA-256 of ${MAC_BASE_BYTES.length} bytes`,
  candidates: [
    { name: 'node createHash', fn: () => createHash('sha256').update(MAC_BASE_BYTES).digest() },
    { name: 'ours sha256', fn: () => sha256(MAC_BASE_BYTES) },
    ...(noble === undefined
      ? []
      : [{ name: 'noble sha256', fn: () => noble.sha256(MAC_BASE_BYTES) }]),
  ],
});

groups.push({
  title: `SHA-1 of ${MAC_BASE_BYTES.length} bytes`,
  candidates: [
    { name: 'node createHash', fn: () => createHash('sha1').update(MAC_BASE_BYTES).digest() },
    { name: 'ours sha1', fn: () => sha1(MAC_BASE_BYTES) },
    ...(noble === undefined ? [] : [{ name: 'noble sha1', fn: () => noble.sha1(MAC_BASE_BYTES) }]),
  ],
});

groups.push({
  title: `AES-256-CBC: first decryption under a new key (${CIPHERTEXT_B64.length} base64url chars)`,
  candidates: [
    {
      name: 'KeyObject + context to keep (as before)',
      fn: () => {
        const d = createDecipheriv('aes-256-cbc', createSecretKey(ENC_KEY), IV);
        const input = Buffer.from(CIPHERTEXT_B64, 'base64url');
        return Buffer.concat([d.update(input), d.final()]).toString('utf8');
      },
    },
    {
      name: 'new NodeAesKey, first use (one-shot)',
      fn: () =>
        new NodeAesKey(ENC_KEY, 'aes-256-cbc')
          .decrypt(IV, Buffer.from(CIPHERTEXT_B64, 'base64url'))
          ?.toString('utf8'),
    },
    {
      name: 'createDecipheriv(raw Buffer) one-shot',
      fn: () => {
        const d = createDecipheriv('aes-256-cbc', ENC_KEY, IV);
        const input = Buffer.from(CIPHERTEXT_B64, 'base64url');
        return Buffer.concat([d.update(input), d.final()]).toString('utf8');
      },
    },
    {
      name: 'bitsliced JS AES (expand + decrypt)',
      fn: () => {
        const out = cbcDecrypt(expandAesKey(ENC_KEY), IV, Buffer.from(CIPHERTEXT_B64, 'base64url'));
        return out === undefined ? undefined : Buffer.from(out).toString('utf8');
      },
    },
  ],
});

/** @param {number[]} values */
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const upper = /** @type {number} */ (sorted[mid]);
  const lower = /** @type {number} */ (sorted[mid - 1]); // read only for an even count
  return sorted.length % 2 === 1 ? upper : (lower + upper) / 2;
};

/** Same output as the group's first candidate, on a few inputs. */
function check(/** @type {Group} */ group) {
  const render = (/** @type {unknown} */ value) =>
    value instanceof Uint8Array ? hex(value) : String(value);
  const [first, ...rest] = group.candidates;
  for (const c of rest) {
    for (const i of [0, 1, 77]) {
      const want = render(/** @type {Candidate} */ (first).fn(i));
      const got = render(c.fn(i));
      if (got !== want) throw new Error(`${group.title}: ${c.name} differs (${got} != ${want})`);
    }
  }
}

const selected = groups.filter((g) => args.only === undefined || g.title.includes(args.only));
for (const group of selected) check(group);

/** @type {Map<Candidate, number[]>} ns per call, one per round */
const samples = new Map(selected.flatMap((g) => g.candidates.map((c) => [c, []])));
let counter = 0;
for (let round = -2; round < ROUNDS; round++) {
  for (const group of selected) {
    const n = group.candidates.length;
    for (let k = 0; k < n; k++) {
      const c = /** @type {Candidate} */ (group.candidates[(k + round + n * 4) % n]);
      const start = process.hrtime.bigint();
      for (let j = 0; j < BATCH; j++) c.fn(counter++);
      const ns = Number(process.hrtime.bigint() - start) / BATCH;
      // The first two rounds warm up (JIT, caches).
      if (round >= 0) samples.get(c)?.push(ns);
    }
  }
}

console.log(
  `node ${process.version}; ${ROUNDS} rounds x ${BATCH} calls; ns per call; ratio: median of per-round ratios to the group's first row`,
);
for (const group of selected) {
  console.log(`\n${group.title}`);
  const base = /** @type {number[]} */ (
    samples.get(/** @type {Candidate} */ (group.candidates[0]))
  );
  for (const c of group.candidates) {
    const mine = /** @type {number[]} */ (samples.get(c));
    const ratio = median(mine.map((v, r) => v / /** @type {number} */ (base[r])));
    console.log(
      `  ${c.name.padEnd(48)}${median(mine).toFixed(0).padStart(8)} median${Math.min(...mine)
        .toFixed(0)
        .padStart(8)} min${ratio.toFixed(2).padStart(8)}x`,
    );
  }
}
