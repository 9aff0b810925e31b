/**
 * Heap per session in `memoryStore`, in a process of its own that must run with
 * `--expose-gc`: `node --expose-gc bench/store/memory.mjs <mode> <count>`. Prints one line
 * of JSON (a {@link MemoryResult}). Modes:
 *
 * - `contract`: `store.write` of `count` new sessions, no user index (`userTag` undefined).
 * - `contract-users`: the same, each session under a user of its own (the worst case of
 *   the index: one Set per user).
 * - `api`: `count` sign-ins through the real session API (`useSession`, `session.update`
 *   on the fetch adapter, `userKey: data.userId`), each a new session of its own user.
 *
 * Every session holds `{ userId, cart: [3 items] }`, each with its own values (and so its
 * own strings: a payload shared by every session would be counted once). Two figures:
 * `fill` = (heap after filling − heap before) ÷ count, and `release` = (heap after filling
 * − heap once the store is dropped) ÷ count, which leaves out whatever the fill left
 * elsewhere (compiled code, caches of the session engine). Heap figures are taken after
 * `gc()`, run until the heap stops shrinking.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { memoryStore } from 'sealed-session';
// Internal on purpose: the record count, to check that no session was evicted.
import { memoryStoreStats } from '../../dist/store/memory.js';
import { PASSWORD } from '../http/fixtures.mjs';

/**
 * @typedef {'contract' | 'contract-users' | 'api'} MemoryMode
 * @typedef {{ mode: MemoryMode, count: number, records: number, payloadBytes: number,
 *   heapBefore: number, heapFilled: number, heapReleased: number,
 *   fillBytesPerSession: number, releaseBytesPerSession: number, fillMs: number }}
 *   MemoryResult
 */

const gc = /** @type {(() => void) | undefined} */ (globalThis.gc);
if (gc === undefined) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

/** heapUsed after full collections, repeated (bounded) until it stops shrinking. */
async function settledHeap() {
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    /** @type {() => void} */ (gc)();
    await nextTurn();
    const used = process.memoryUsage().heapUsed;
    if (used >= last - 1024) return used;
    last = used;
  }
  return last;
}

/**
 * The session data of sign-in `i`: a user id and a three-item cart, values of its own.
 *
 * @param {number} i
 */
export function payload(i) {
  return {
    userId: 100_000 + i,
    cart: [
      { sku: `SKU-${10_000 + (i % 89_000)}`, qty: 1 + (i % 3), price: 1999 + (i % 100) },
      { sku: `SKU-${20_000 + (i % 79_000)}`, qty: 1, price: 450 },
      { sku: `SKU-${30_000 + (i % 69_000)}`, qty: 2, price: 12_50 + (i % 7) },
    ],
  };
}

/**
 * `text` as a new flat string: a concatenation (a UUID, an id built from parts) is a
 * rope that a Map key flattens in place, keeping the rope's head beside the flat copy,
 * which would charge the store for how this file builds its strings.
 *
 * @param {string} text
 * @returns {string}
 */
const flat = (text) => /** @type {string} */ (JSON.parse(JSON.stringify(text)));

/** A user tag as the store sees one: 22 base64url characters. */
const userTag = () => flat(randomBytes(16).toString('base64url').slice(0, 22));

/**
 * Fills a store through `store.write` and returns it (with the count it holds).
 *
 * @param {number} count
 * @param {boolean} withUsers
 */
async function fillThroughContract(count, withUsers) {
  const store = memoryStore({ max: count });
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const tag = withUsers ? userTag() : undefined;
    const id = flat(tag === undefined ? randomUUID() : `${tag}.${randomUUID()}`);
    const data = payload(i);
    await store.write(id, {
      mode: 'create',
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + 3_600_000,
      userTag: tag,
      set: { userId: JSON.stringify(data.userId), cart: JSON.stringify(data.cart) },
      unset: [],
      flashSet: {},
      flashUnset: [],
    });
  }
  return store;
}

/**
 * A fetch handler that signs in with the session data of each request's `?i=`, and its
 * store.
 *
 * @param {number} max
 */
async function signInHandler(max) {
  const { eventHandler, useSession } = await import('sealed-session');
  const { toWebHandler } = await import('sealed-session/fetch');
  const store = memoryStore({ max });
  /** @type {import('sealed-session').SessionConfig} */
  const config = {
    password: PASSWORD,
    maxAge: 3600,
    store,
    userKey: (data) => data.userId,
  };
  const handler = toWebHandler(
    eventHandler(async (event) => {
      const session = await useSession(event, config);
      await session.update(payload(Number(event.path.slice('/login?i='.length))));
      return { ok: true };
    }),
  );
  return { store, handler };
}

/**
 * @param {(request: Request) => Promise<Response>} handler
 * @param {number} from
 * @param {number} count
 */
async function signIns(handler, from, count) {
  for (let i = from; i < from + count; i++) {
    const response = await handler(new Request(`http://127.0.0.1/login?i=${i}`));
    if (response.status !== 200) throw new Error(`sign-in ${i} answered ${response.status}`);
    await response.arrayBuffer();
  }
}

/** @typedef {{ store: import('sealed-session').SessionStore | undefined }} StoreHolder */

/**
 * Fills a store of `count` sessions in `mode`, in a frame of its own so that nothing but
 * the returned holder keeps the store (nor, in `api` mode, the handler and its config).
 *
 * @param {MemoryMode} mode
 * @param {number} count
 * @returns {Promise<StoreHolder>}
 */
async function fill(mode, count) {
  if (mode !== 'api') return { store: await fillThroughContract(count, mode === 'contract-users') };
  const { store, handler } = await signInHandler(count);
  await signIns(handler, 0, count);
  return { store };
}

/**
 * Measures one mode.
 *
 * @param {MemoryMode} mode
 * @param {number} count
 * @returns {Promise<MemoryResult>}
 */
export async function measureMemory(mode, count) {
  // Warm-up on a store that is then dropped: compiled code and the engine's caches belong
  // to the baseline, not to the sessions.
  const warmUp = Math.min(2_000, count);
  if (mode === 'api') {
    const warm = await signInHandler(warmUp);
    await signIns(warm.handler, 0, warmUp);
  } else {
    await fillThroughContract(warmUp, mode === 'contract-users');
  }
  const heapBefore = await settledHeap();
  const started = performance.now();
  const held = await fill(mode, count);
  const fillMs = performance.now() - started;
  const heapFilled = await settledHeap();
  const records =
    memoryStoreStats(/** @type {import('sealed-session').SessionStore} */ (held.store))?.records ??
    NaN;
  // Dropped through the holder: a stale register of this suspended async function may
  // still point at the holder, never at the store.
  held.store = undefined;
  const heapReleased = await settledHeap();
  const sample = payload(0);
  return {
    mode,
    count,
    records,
    payloadBytes: JSON.stringify(sample).length,
    heapBefore,
    heapFilled,
    heapReleased,
    fillBytesPerSession: (heapFilled - heapBefore) / count,
    releaseBytesPerSession: (heapFilled - heapReleased) / count,
    fillMs,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mode = /** @type {MemoryMode} */ (process.argv[2] ?? 'contract');
  const count = Number(process.argv[3] ?? 100_000);
  if (!['contract', 'contract-users', 'api'].includes(mode) || !Number.isSafeInteger(count)) {
    console.error(
      'usage: node --expose-gc bench/store/memory.mjs <contract|contract-users|api> <count>',
    );
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await measureMemory(mode, count))}\n`);
}
