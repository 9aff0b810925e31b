/**
 * The memory store: the shared store contract, then what only it promises: at most `max`
 * records with the least recently used evicted (and gone from its user's index), expiry by
 * its clock with ended records swept so memory stays bounded, calls applied before their
 * promise returns, and options refused with a rule-naming error.
 */
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/errors.js';
import { memoryStore, memoryStoreStats, type MemoryStoreStats } from '../../src/store/memory.js';
import { storeSessionId, userTagOf } from '../../src/store/session-id.js';
import type { SessionStore } from '../../src/store/store.js';
import { change, describeStoreContract } from './contract.js';

describeStoreContract('memoryStore', () =>
  Promise.resolve({ store: memoryStore(), close: () => Promise.resolve() }),
);

describeStoreContract('memoryStore with a small max', () =>
  // Far above what one test writes, so eviction never interferes with the contract.
  Promise.resolve({ store: memoryStore({ max: 1000 }), close: () => Promise.resolve() }),
);

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

/** A memory store on a clock the test moves. */
function clocked(max?: number): { store: SessionStore; clock: { now: number } } {
  const clock = { now: T0 };
  const store = memoryStore({ now: () => clock.now, ...(max === undefined ? {} : { max }) });
  return { store, clock };
}

function stats(store: SessionStore): MemoryStoreStats {
  const counts = memoryStoreStats(store);
  expect(counts).toBeDefined();
  return counts!;
}

describe('memoryStore', () => {
  it('is of kind memory, and leaves the deadline to the engine', () => {
    const store = memoryStore();
    expect(store.kind).toBe('memory');
    expect(store.timeout).toBeUndefined();
  });

  it('keeps at most max records, evicting the least recently used', async () => {
    const { store } = clocked(3);
    for (const id of ['a', 'b', 'c']) await store.write(id, change(T0));
    // A read is a use: `a` becomes the most recently used, `b` the least.
    expect(await store.get('a')).toBeDefined();
    await store.write('d', change(T0));
    expect(stats(store).records).toBe(3);
    expect(await store.get('b')).toBeUndefined();
    for (const id of ['a', 'c', 'd']) expect(await store.get(id)).toBeDefined();

    for (let i = 0; i < 1000; i++) {
      await store.write(`n${i}`, change(T0));
      expect(stats(store).records).toBeLessThanOrEqual(3);
    }
  });

  it('a write and a touch are uses too', async () => {
    const { store } = clocked(2);
    await store.write('a', change(T0));
    await store.write('b', change(T0));
    await store.touch('a', T0, T0 + HOUR);
    await store.write('c', change(T0));
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();

    await store.write('a', change(T0, { mode: 'update', set: { x: '1' } }));
    await store.write('d', change(T0));
    expect(await store.get('c')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
  });

  it('an evicted record leaves its user index', async () => {
    const { store } = clocked(2);
    const user = userTagOf('evicted@example.com');
    const first = storeSessionId(user, 'first');
    const second = storeSessionId(user, 'second');
    await store.write(first, change(T0, { userTag: user }));
    await store.write(second, change(T0, { userTag: user }));
    await store.write('anonymous', change(T0));
    expect(stats(store)).toEqual({ records: 2, users: 1, indexed: 1 });
    expect((await store.list(user, T0)).map((info) => info.id)).toEqual([second]);

    // Eviction of the user's last record removes the user from the index entirely.
    await store.write('anonymous-2', change(T0));
    expect(stats(store)).toEqual({ records: 2, users: 0, indexed: 0 });
    expect(await store.deleteUser(user, [])).toBe(0);
  });

  it('delete, deleteUser and a write of an ended session leave no record or index entry behind', async () => {
    const { store } = clocked();
    const user = userTagOf('tidy@example.com');
    const [a, b, c] = ['a', 'b', 'c'].map((random) => storeSessionId(user, random));
    await store.write(a!, change(T0, { userTag: user }));
    await store.write(b!, change(T0, { userTag: user }));
    await store.write(c!, change(T0, { userTag: user }));
    await store.delete(a!);
    expect(stats(store)).toEqual({ records: 2, users: 1, indexed: 2 });
    expect(await store.deleteUser(user, [c!])).toBe(1);
    expect(stats(store)).toEqual({ records: 1, users: 1, indexed: 1 });
    await store.write(c!, change(T0, { mode: 'update', userTag: user, expiresAt: T0 - 1 }));
    expect(stats(store)).toEqual({ records: 0, users: 0, indexed: 0 });
    // Born ended: never stored at all.
    await store.write(a!, change(T0, { userTag: user, expiresAt: T0 }));
    expect(stats(store)).toEqual({ records: 0, users: 0, indexed: 0 });
  });

  it('never keeps more index entries than records, whatever the writes', async () => {
    const { store, clock } = clocked(50);
    const users = Array.from({ length: 7 }, (_, i) => userTagOf(`user${i}`));
    for (let i = 0; i < 2000; i++) {
      const user = users[i % users.length]!;
      const id = storeSessionId(user, `s${i % 300}`);
      const op = i % 5;
      if (op === 0) await store.delete(storeSessionId(user, `s${(i * 7) % 300}`));
      else if (op === 1) await store.write(id, change(clock.now, { userTag: users[i % 3] }));
      else if (op === 2) await store.touch(id, clock.now, clock.now + (i % 2 === 0 ? HOUR : 10));
      else await store.write(id, change(clock.now, { userTag: user, expiresAt: clock.now + i }));
      clock.now += 7;
      const counts = stats(store);
      expect(counts.records).toBeLessThanOrEqual(50);
      expect(counts.indexed).toBeLessThanOrEqual(counts.records);
    }
  });

  it('move markers end at their time, and never outnumber max', async () => {
    const { store, clock } = clocked(2);
    const moved = async (id: string, until: number) => {
      await store.write(id, change(clock.now));
      return store.markMoved(id, `${id}-next`, until);
    };
    // A marker whose time has passed already is not kept.
    expect(await moved('gone', T0)).toBeDefined();
    expect(await store.delete('gone')).toBe(false);
    await moved('a', T0 + 1000);
    clock.now = T0 + 1000;
    // Ended: not followed (and dropped when met).
    expect(await store.delete('a')).toBe(false);
    clock.now = T0;
    await moved('b', T0 + HOUR);
    await moved('c', T0 + HOUR);
    await moved('d', T0 + HOUR);
    // Two at most: the oldest went to make room.
    expect(await store.delete('b')).toBe(false);
    expect(await store.delete('c')).toBe('c-next');
    expect(await store.delete('d')).toBe('d-next');
  });

  it('a record ends at its expiresAt by the injected clock', async () => {
    const { store, clock } = clocked();
    const user = userTagOf('expiry@example.com');
    const id = storeSessionId(user, 'x');
    await store.write(
      id,
      change(T0, { userTag: user, expiresAt: T0 + 1000, flashSet: { f: '1' } }),
    );
    clock.now = T0 + 999;
    expect(await store.get(id)).toBeDefined();
    clock.now = T0 + 1000;
    expect(await store.get(id)).toBeUndefined();
    expect(await store.touch(id, clock.now, clock.now + HOUR)).toBe(false);
    expect(await store.takeFlash(id, 'f')).toBeUndefined();
    expect(await store.write(id, change(clock.now, { mode: 'update' }))).toBe(false);
    expect(stats(store)).toEqual({ records: 0, users: 0, indexed: 0 });
  });

  it('deleteUser removes a record that ended unread, without counting it', async () => {
    const { store, clock } = clocked();
    const user = userTagOf('count@example.com');
    const [short, long] = ['short', 'long'].map((random) => storeSessionId(user, random));
    await store.write(short!, change(T0, { userTag: user, expiresAt: T0 + 10 }));
    await store.write(long!, change(T0, { userTag: user }));
    clock.now = T0 + 20;
    expect(await store.deleteUser(user, [])).toBe(1);
    expect(stats(store)).toEqual({ records: 0, users: 0, indexed: 0 });
  });

  it('an ended record is never written back to life by create: it starts afresh', async () => {
    const { store, clock } = clocked();
    await store.write('x', change(T0, { expiresAt: T0 + 10, set: { old: '1' } }));
    clock.now = T0 + 20;
    await store.write('x', change(clock.now, { set: { fresh: '1' } }));
    const record = await store.get('x');
    expect(record?.createdAt).toBe(clock.now);
    expect(Object.keys(record!.data)).toEqual(['fresh']);
  });

  it('ended records nobody reads are swept by later writes, index entries with them', async () => {
    const { store, clock } = clocked();
    const user = userTagOf('idle@example.com');
    for (let i = 0; i < 100; i++) {
      await store.write(
        storeSessionId(user, `idle${i}`),
        change(T0, { userTag: user, expiresAt: T0 + 1000 }),
      );
    }
    expect(stats(store)).toEqual({ records: 100, users: 1, indexed: 100 });
    clock.now = T0 + 5000;
    // Writes of other sessions only: nobody reads the idle ones again.
    for (let i = 0; i < 40; i++) await store.write(`busy${i % 5}`, change(clock.now));
    expect(stats(store)).toEqual({ records: 5, users: 0, indexed: 0 });
  });

  it('applies each call before returning its promise, so calls in one tick see each other', async () => {
    const { store } = clocked();
    const written = store.write('x', change(T0, { flashSet: { f: '"once"' } }));
    const read = store.get('x');
    const taken = store.takeFlash('x', 'f');
    const again = store.takeFlash('x', 'f');
    const deleted = store.delete('x');
    const after = store.get('x');
    expect(await written).toBe(true);
    expect((await read)?.flash).toEqual({ f: '"once"' });
    expect(await taken).toBe('"once"');
    expect(await again).toBeUndefined();
    await deleted;
    expect(await after).toBeUndefined();
  });

  it('gives records without a prototype, so an inherited name is never a value', async () => {
    const { store } = clocked();
    await store.write('x', change(T0, { set: { a: '1' } }));
    const record = await store.get('x');
    expect(Object.getPrototypeOf(record!.data)).toBeNull();
    expect('constructor' in record!.data).toBe(false);
    expect('toString' in record!.flash).toBe(false);
  });

  it('applies changes of many keys (the indexed path) exactly', async () => {
    const { store } = clocked();
    const set = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, `${i}`]));
    await store.write('x', change(T0, { set }));
    const unset = Array.from({ length: 20 }, (_, i) => `k${i * 2}`);
    await store.write('x', change(T0, { mode: 'update', set: { k1: '"one"', extra: '1' }, unset }));
    const data = (await store.get('x'))!.data;
    const expected: Record<string, string> = { extra: '1' };
    for (let i = 1; i < 40; i += 2) expected[`k${i}`] = i === 1 ? '"one"' : `${i}`;
    expect({ ...data }).toEqual(expected);

    await store.write('x', change(T0, { mode: 'update', unset: Object.keys(data) }));
    expect(Object.keys((await store.get('x'))!.data)).toEqual([]);
  });

  it('memoryStoreStats is undefined for a store of another kind', () => {
    const other = { kind: 'other' } as unknown as SessionStore;
    expect(memoryStoreStats(other)).toBeUndefined();
  });

  it('refuses invalid options with ERR_CONFIG_INVALID naming the rule', () => {
    const cases: [unknown, RegExp][] = [
      [{ max: 0 }, /max must be a positive safe integer/],
      [{ max: -1 }, /max must be a positive safe integer/],
      [{ max: 1.5 }, /max must be a positive safe integer/],
      [{ max: Number.MAX_SAFE_INTEGER + 1 }, /max must be a positive safe integer/],
      [{ max: Infinity }, /max must be a positive safe integer/],
      [{ max: '10' }, /max must be a positive safe integer/],
      [{ now: 5 }, /now must be a function/],
      [{ maxSize: 10 }, /maxSize is not an option/],
      [42, /options must be an object/],
    ];
    for (const [options, rule] of cases) {
      let caught: unknown;
      try {
        memoryStore(options as never);
      } catch (error) {
        caught = error;
      }
      expect(isSessionError(caught, 'ERR_CONFIG_INVALID'), String(rule)).toBe(true);
      expect((caught as Error).message).toMatch(rule);
    }
    expect(() => memoryStore({ max: 1 })).not.toThrow();
    expect(() => memoryStore({})).not.toThrow();
  });
});
