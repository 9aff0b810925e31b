/**
 * The contract every `SessionStore` keeps (src/store/store.ts), as one vitest suite that each
 * store's test file runs against its own store: the engine relies on exactly these
 * behaviours, whichever backend holds the records, so a store passes all of them or none.
 *
 * Every test makes fresh random ids and user tags, so tests share a store without seeing
 * each other's records and run in any order. Expiry is tested with `expiresAt` values in
 * the past, never with sleeps.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeSessionId, userTagOf } from '../../src/store/session-id.js';
import type { SessionStore, StoreChange, StoredRecord } from '../../src/store/store.js';

/** What a store's test file gives the suite: a store, and how to release it afterwards. */
export interface StoreFixture {
  readonly store: SessionStore;
  close(): Promise<void>;
}

/** Options of {@link describeStoreContract}. */
export interface StoreContractOptions {
  /**
   * Whether the store applies each call atomically (Redis, memory). For a store without
   * atomic operations (unstorage) the tests of parallel calls on one record do not apply.
   * @default true
   */
  readonly atomic?: boolean;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Data keys that break naive stores: prototype names, separators that stores use in their
 * own keys (`d:`, `f:`, `:`), unicode, the empty key. Values are JSON text as the engine
 * makes it, with escapes, unicode and a long one.
 */
const TRICKY_DATA: Readonly<Record<string, string>> = Object.fromEntries([
  ['user', '{"name":"Zoë","id":42}'],
  ['__proto__', '{"polluted":true}'],
  ['constructor', '"not a function"'],
  ['toString', '0'],
  ['hasOwnProperty', 'false'],
  ['a:b', '[1,2,3]'],
  ['d:x', 'null'],
  ['f:y', '"flash-like key"'],
  ['cookie 🍪 日本語', '"line\\nbreak \\"quoted\\" \\u0000 tab\\t 🎉"'],
  ['', '""'],
  ['long', JSON.stringify('x'.repeat(10_000))],
]);

const TRICKY_FLASH: Readonly<Record<string, string>> = Object.fromEntries([
  ['notice', '"Saved ✓"'],
  ['__proto__', '{"polluted":true}'],
  ['a:b', '1'],
  ['d:x', '"data-like flash key"'],
]);

/** A change with sensible defaults: a `create` that lives an hour from `at`. */
export function change(at: number, overrides: Partial<StoreChange> = {}): StoreChange {
  return {
    mode: 'create',
    createdAt: at,
    lastSeenAt: at,
    expiresAt: at + HOUR,
    userTag: undefined,
    set: {},
    unset: [],
    flashSet: {},
    flashUnset: [],
    ...overrides,
  };
}

/**
 * The own keys and values of a record's map, sorted: compares exactly (an inherited value,
 * or a `__proto__` key turned into a prototype, shows up as a difference).
 */
function entries(map: Readonly<Record<string, string>>): [string, string][] {
  return Object.keys(map)
    .sort()
    .map((key) => [key, Object.getOwnPropertyDescriptor(map, key)?.value as string]);
}

/** A user tag nobody else uses. */
function freshUser(): string {
  return userTagOf(`user-${randomUUID()}@example.com`);
}

/** A session id of `userTag` (or of no user) nobody else uses. */
function freshId(userTag?: string): string {
  return storeSessionId(userTag, randomUUID());
}

/** The ids `list` gives, sorted. */
async function listedIds(store: SessionStore, userTag: string, now: number): Promise<string[]> {
  return (await store.list(userTag, now)).map((info) => info.id).sort();
}

/** The record of `id`, failing the test when there is none. */
async function mustGet(store: SessionStore, id: string): Promise<StoredRecord> {
  const record = await store.get(id);
  expect(record, `record of ${id}`).toBeDefined();
  return record!;
}

/**
 * Declares the contract suite for one store: every method of `SessionStore`, with the edge
 * cases the engine depends on (data round-trips exactly, `update` never resurrects, a
 * change applies key by key, a flash is taken once, the user index follows every record).
 *
 * @param name - what the `describe` block is called (the store and its backend)
 * @param setup - makes the store once for the suite; `close` releases it after the last test
 * @param options - see {@link StoreContractOptions}; `atomic` @default true
 */
export function describeStoreContract(
  name: string,
  setup: () => Promise<StoreFixture>,
  options: StoreContractOptions = {},
): void {
  const atomic = options.atomic ?? true;
  // The tests of parallel calls on one record exist only for atomic stores: for the others
  // they are not registered at all (what applies, not skipped tests).
  const itWhenAtomic = (atomic ? it : () => undefined) as typeof it;

  describe(`SessionStore contract: ${name}`, () => {
    let fixture: StoreFixture | undefined;
    /** The store under test (set up before the first test). */
    const s = (): SessionStore => {
      if (fixture === undefined) throw new Error('the store was not set up');
      return fixture.store;
    };

    beforeAll(async () => {
      fixture = await setup();
    });
    afterAll(async () => {
      await fixture?.close();
    });

    it('names its kind, and a timeout that is a positive number or left to the engine', () => {
      expect(typeof s().kind).toBe('string');
      expect(s().kind.length).toBeGreaterThan(0);
      const timeout = s().timeout;
      if (timeout !== undefined) expect(timeout).toBeGreaterThan(0);
    });

    it('get of an id that was never written is undefined', async () => {
      expect(await s().get(freshId())).toBeUndefined();
      expect(await s().get(freshId(freshUser()))).toBeUndefined();
    });

    it('create then get gives back every data and flash string exactly, and the times and user tag', async () => {
      const now = Date.now();
      const user = freshUser();
      const id = freshId(user);
      const written = await s().write(
        id,
        change(now, {
          createdAt: now - 5000,
          lastSeenAt: now - 1000,
          userTag: user,
          set: TRICKY_DATA,
          flashSet: TRICKY_FLASH,
        }),
      );
      expect(written).toBe(true);
      const record = await mustGet(s(), id);
      expect(record.createdAt).toBe(now - 5000);
      expect(record.lastSeenAt).toBe(now - 1000);
      expect(record.userTag).toBe(user);
      expect(entries(record.data)).toEqual(entries(TRICKY_DATA));
      expect(entries(record.flash)).toEqual(entries(TRICKY_FLASH));
      // A `__proto__` key stays a key: nothing reached Object.prototype.
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('a session of no user has an undefined user tag and empty maps when nothing was set', async () => {
      const now = Date.now();
      const id = freshId();
      expect(await s().write(id, change(now))).toBe(true);
      const record = await mustGet(s(), id);
      expect(record.userTag).toBeUndefined();
      expect(entries(record.data)).toEqual([]);
      expect(entries(record.flash)).toEqual([]);
    });

    it('a record does not change with the objects it was written from or read into', async () => {
      const now = Date.now();
      const id = freshId();
      const set: Record<string, string> = { a: '1' };
      const flashSet: Record<string, string> = { f: '"x"' };
      await s().write(id, change(now, { set, flashSet }));
      set['a'] = '2';
      set['b'] = '3';
      flashSet['f'] = '"y"';
      const first = await mustGet(s(), id);
      (first.data as Record<string, string>)['c'] = '4';
      (first.flash as Record<string, string>)['g'] = '5';
      const second = await mustGet(s(), id);
      expect(entries(second.data)).toEqual([['a', '1']]);
      expect(entries(second.flash)).toEqual([['f', '"x"']]);
    });

    it('update of a missing record resolves false, and writes nothing (no record, no index entry)', async () => {
      const now = Date.now();
      const user = freshUser();
      const id = freshId(user);
      const written = await s().write(
        id,
        change(now, { mode: 'update', userTag: user, set: { a: '1' }, flashSet: { f: '1' } }),
      );
      expect(written).toBe(false);
      expect(await s().get(id)).toBeUndefined();
      expect(await listedIds(s(), user, now)).toEqual([]);
      expect(await s().deleteUser(user, [])).toBe(0);
    });

    it('update after delete resolves false: a late write never brings a session back', async () => {
      const now = Date.now();
      const user = freshUser();
      const id = freshId(user);
      await s().write(id, change(now, { userTag: user, set: { a: '1' } }));
      await s().delete(id);
      expect(await s().write(id, change(now, { mode: 'update', userTag: user }))).toBe(false);
      expect(await s().get(id)).toBeUndefined();
      expect(await listedIds(s(), user, now)).toEqual([]);
    });

    it('create on an existing record keeps its createdAt and merges the change into it', async () => {
      const now = Date.now();
      const id = freshId();
      await s().write(
        id,
        change(now - 2000, { set: { a: '1', b: '2' }, flashSet: { f: '"first"' } }),
      );
      const written = await s().write(
        id,
        change(now, { set: { b: '20', c: '30' }, unset: ['a'], flashSet: { g: '"second"' } }),
      );
      expect(written).toBe(true);
      const record = await mustGet(s(), id);
      expect(record.createdAt).toBe(now - 2000);
      expect(record.lastSeenAt).toBe(now);
      expect(entries(record.data)).toEqual([
        ['b', '20'],
        ['c', '30'],
      ]);
      expect(entries(record.flash)).toEqual([
        ['f', '"first"'],
        ['g', '"second"'],
      ]);
    });

    it('update sets and unsets data and flash keys one by one, leaving the others', async () => {
      const now = Date.now();
      const id = freshId();
      await s().write(
        id,
        change(now - 1000, {
          set: { a: '1', b: '2', c: '3' },
          flashSet: { x: '"x"', y: '"y"' },
        }),
      );
      const written = await s().write(
        id,
        change(now - 1000, {
          mode: 'update',
          lastSeenAt: now,
          set: { a: '"one"', d: '4' },
          unset: ['b', 'never-set'],
          flashSet: { z: '"z"' },
          flashUnset: ['x', 'never-set'],
        }),
      );
      expect(written).toBe(true);
      const record = await mustGet(s(), id);
      expect(record.createdAt).toBe(now - 1000);
      expect(record.lastSeenAt).toBe(now);
      expect(entries(record.data)).toEqual([
        ['a', '"one"'],
        ['c', '3'],
        ['d', '4'],
      ]);
      expect(entries(record.flash)).toEqual([
        ['y', '"y"'],
        ['z', '"z"'],
      ]);
    });

    it('an update that unsets every key leaves a record with empty maps', async () => {
      const now = Date.now();
      const id = freshId();
      await s().write(id, change(now, { set: { a: '1' }, flashSet: { f: '1' } }));
      await s().write(id, change(now, { mode: 'update', unset: ['a'], flashUnset: ['f'] }));
      const record = await mustGet(s(), id);
      expect(entries(record.data)).toEqual([]);
      expect(entries(record.flash)).toEqual([]);
    });

    it('two writes that change different keys both keep their change', async () => {
      const now = Date.now();
      const id = freshId();
      await s().write(id, change(now, { set: { shared: '0' } }));
      await s().write(id, change(now, { mode: 'update', set: { a: '1' } }));
      await s().write(id, change(now, { mode: 'update', set: { b: '2' } }));
      const record = await mustGet(s(), id);
      expect(entries(record.data)).toEqual([
        ['a', '1'],
        ['b', '2'],
        ['shared', '0'],
      ]);
    });

    itWhenAtomic('parallel writes that change different keys all keep their change', async () => {
      const now = Date.now();
      const id = freshId();
      await s().write(id, change(now));
      const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
      const results = await Promise.all(
        keys.map((key) => s().write(id, change(now, { mode: 'update', set: { [key]: '1' } }))),
      );
      expect(results).toEqual(keys.map(() => true));
      const record = await mustGet(s(), id);
      expect(Object.keys(record.data).sort()).toEqual(keys);
    });

    it('touch moves lastSeenAt and keeps the data; on a missing record it resolves false and creates nothing', async () => {
      const now = Date.now();
      const id = freshId();
      await s().write(id, change(now - 5000, { set: { a: '1' }, flashSet: { f: '2' } }));
      expect(await s().touch(id, now, now + HOUR)).toBe(true);
      const record = await mustGet(s(), id);
      expect(record.createdAt).toBe(now - 5000);
      expect(record.lastSeenAt).toBe(now);
      expect(entries(record.data)).toEqual([['a', '1']]);
      expect(entries(record.flash)).toEqual([['f', '2']]);

      const missing = freshId();
      expect(await s().touch(missing, now, now + HOUR)).toBe(false);
      expect(await s().get(missing)).toBeUndefined();
    });

    it('touch moves the expiry: a session touched past its old expiry is still listed', async () => {
      const now = Date.now();
      const user = freshUser();
      const id = freshId(user);
      await s().write(id, change(now, { userTag: user, expiresAt: now + 10 * MINUTE }));
      expect(await s().touch(id, now, now + HOUR)).toBe(true);
      expect(await listedIds(s(), user, now + 30 * MINUTE)).toEqual([id]);
    });

    it('touch with an expiry in the past ends the session', async () => {
      const now = Date.now();
      const user = freshUser();
      const id = freshId(user);
      await s().write(id, change(now - HOUR, { userTag: user, expiresAt: now + HOUR }));
      expect(await listedIds(s(), user, now)).toEqual([id]);
      await s().touch(id, now, now - 1);
      expect(await s().get(id)).toBeUndefined();
      expect(await listedIds(s(), user, now)).toEqual([]);
      expect(await s().deleteUser(user, [])).toBe(0);
    });

    it('takeFlash gives a flash once, then undefined, and leaves the other keys', async () => {
      const now = Date.now();
      const id = freshId();
      await s().write(
        id,
        change(now, { set: { a: '1' }, flashSet: { notice: '"Saved ✓"', other: '2' } }),
      );
      expect(await s().takeFlash(id, 'notice')).toBe('"Saved ✓"');
      expect(await s().takeFlash(id, 'notice')).toBeUndefined();
      const record = await mustGet(s(), id);
      expect(entries(record.flash)).toEqual([['other', '2']]);
      expect(entries(record.data)).toEqual([['a', '1']]);
    });

    it('takeFlash of a missing key or a missing record is undefined, and creates nothing', async () => {
      const now = Date.now();
      const id = freshId();
      await s().write(id, change(now, { set: { a: '1' } }));
      expect(await s().takeFlash(id, 'nothing')).toBeUndefined();
      expect(await s().takeFlash(id, 'a')).toBeUndefined();
      expect(await s().takeFlash(id, '__proto__')).toBeUndefined();
      expect(entries((await mustGet(s(), id)).data)).toEqual([['a', '1']]);
      const missing = freshId();
      expect(await s().takeFlash(missing, 'a')).toBeUndefined();
      expect(await s().get(missing)).toBeUndefined();
    });

    it('takeFlash of a tricky key gives exactly what was set', async () => {
      const now = Date.now();
      const id = freshId();
      await s().write(id, change(now, { flashSet: TRICKY_FLASH }));
      for (const [key, value] of entries(TRICKY_FLASH)) {
        expect(await s().takeFlash(id, key)).toBe(value);
      }
      expect(entries((await mustGet(s(), id)).flash)).toEqual([]);
    });

    itWhenAtomic('20 parallel takeFlash of one key give the value exactly once', async () => {
      const now = Date.now();
      const id = freshId();
      await s().write(id, change(now, { flashSet: { once: '"only once"' } }));
      const taken = await Promise.all(Array.from({ length: 20 }, () => s().takeFlash(id, 'once')));
      expect(taken.filter((value) => value !== undefined)).toEqual(['"only once"']);
    });

    it('delete removes the record and its index entry, and tells whether there was one', async () => {
      const now = Date.now();
      const user = freshUser();
      const gone = freshId(user);
      const kept = freshId(user);
      await s().write(gone, change(now, { userTag: user, set: { a: '1' } }));
      await s().write(kept, change(now, { userTag: user }));
      await expect(s().delete(gone)).resolves.toBe(true);
      expect(await s().get(gone)).toBeUndefined();
      expect(await listedIds(s(), user, now)).toEqual([kept]);
      // Nothing to delete: a session moving to a new id learns that it was revoked.
      await expect(s().delete(gone)).resolves.toBe(false);
      await expect(s().delete(freshId())).resolves.toBe(false);
      // Only `kept` was left to delete: the index held no entry for `gone`.
      expect(await s().deleteUser(user, [])).toBe(1);
    });

    it('a record written without the user it had leaves that user, and a touch does not bring it back', async () => {
      const now = Date.now();
      const user = freshUser();
      const id = freshId(user);
      await s().write(id, change(now, { userTag: user, set: { a: '1' } }));
      expect(await listedIds(s(), user, now)).toEqual([id]);
      await s().write(id, change(now, { mode: 'update', userTag: undefined }));
      expect((await mustGet(s(), id)).userTag).toBeUndefined();
      expect(await listedIds(s(), user, now)).toEqual([]);
      expect(await s().touch(id, now + 1, now + HOUR + 1)).toBe(true);
      expect(await listedIds(s(), user, now)).toEqual([]);
      expect(await s().deleteUser(user, [])).toBe(0);
      expect((await mustGet(s(), id)).data).toEqual({ a: '1' });
    });

    it('list gives the live sessions of that user only, with their times', async () => {
      const now = Date.now();
      const user = freshUser();
      const other = freshUser();
      const first = freshId(user);
      const second = freshId(user);
      const ended = freshId(user);
      const othersSession = freshId(other);
      const anonymous = freshId();
      await s().write(first, change(now - 3000, { userTag: user, lastSeenAt: now - 1000 }));
      await s().write(second, change(now - 2000, { userTag: user }));
      // Written already ended: neither listed nor readable.
      await s().write(
        ended,
        change(now - 2 * HOUR, { userTag: user, expiresAt: now - MINUTE, set: { a: '1' } }),
      );
      await s().write(othersSession, change(now, { userTag: other }));
      await s().write(anonymous, change(now));

      const listed = (await s().list(user, now)).slice().sort((a, b) => a.createdAt - b.createdAt);
      expect(listed).toEqual([
        { id: first, createdAt: now - 3000, lastSeenAt: now - 1000 },
        { id: second, createdAt: now - 2000, lastSeenAt: now - 2000 },
      ]);
      expect(await s().get(ended)).toBeUndefined();
      expect(await listedIds(s(), other, now)).toEqual([othersSession]);
      expect(await s().list(freshUser(), now)).toEqual([]);
    });

    it('list judges expiry at the `now` it is given', async () => {
      const now = Date.now();
      const user = freshUser();
      const short = freshId(user);
      const long = freshId(user);
      await s().write(short, change(now, { userTag: user, expiresAt: now + 10 * MINUTE }));
      await s().write(long, change(now, { userTag: user, expiresAt: now + 2 * HOUR }));
      expect(await listedIds(s(), user, now)).toEqual([short, long].sort());
      expect(await listedIds(s(), user, now + HOUR)).toEqual([long]);
    });

    it('an ended record is not listed, and deleteUser does not count it', async () => {
      const now = Date.now();
      const user = freshUser();
      const live = freshId(user);
      const ended = freshId(user);
      await s().write(live, change(now, { userTag: user }));
      await s().write(ended, change(now, { userTag: user }));
      // The session ends (an update that moves its expiry into the past).
      await s().write(
        ended,
        change(now, { mode: 'update', userTag: user, expiresAt: now - MINUTE }),
      );
      expect(await s().get(ended)).toBeUndefined();
      expect(await listedIds(s(), user, now)).toEqual([live]);
      expect(await s().deleteUser(user, [])).toBe(1);
    });

    it('deleteUser deletes every session of the user except the excepted, and counts them', async () => {
      const now = Date.now();
      const user = freshUser();
      const other = freshUser();
      const ids = [freshId(user), freshId(user), freshId(user), freshId(user)];
      for (const id of ids) await s().write(id, change(now, { userTag: user, set: { a: '1' } }));
      const othersSession = freshId(other);
      await s().write(othersSession, change(now, { userTag: other }));
      const current = ids[1]!;

      // An excepted id that is not the user's changes nothing.
      expect(await s().deleteUser(user, [current, othersSession, freshId(user)])).toBe(3);
      for (const id of ids) {
        if (id === current) expect(await s().get(id)).toBeDefined();
        else expect(await s().get(id)).toBeUndefined();
      }
      expect(await listedIds(s(), user, now)).toEqual([current]);
      expect(await listedIds(s(), other, now)).toEqual([othersSession]);
      expect(await s().get(othersSession)).toBeDefined();

      // The index kept only the excepted session.
      expect(await s().deleteUser(user, [])).toBe(1);
      expect(await s().get(current)).toBeUndefined();
      expect(await listedIds(s(), user, now)).toEqual([]);
      expect(await s().deleteUser(user, [])).toBe(0);
    });

    it('markMoved leaves a marker: no record to read or write, and delete names where it went', async () => {
      const now = Date.now();
      const user = freshUser();
      const from = freshId(user);
      const to = freshId(user);
      await s().write(from, change(now, { userTag: user, set: { a: '1' } }));
      const ended = await s().markMoved(from, to, now + 60_000);
      expect(ended?.data).toEqual({ a: '1' });
      expect(await s().get(from)).toBeUndefined();
      expect(await listedIds(s(), user, now)).toEqual([]);
      // Neither an update nor a create brings the old id back.
      expect(await s().write(from, change(now, { mode: 'update', userTag: user }))).toBe(false);
      expect(await s().write(from, change(now, { userTag: user }))).toBe(false);
      expect(await s().touch(from, now, now + 60_000)).toBe(false);
      expect(await s().markMoved(from, to, now + 60_000)).toBeUndefined();
      await expect(s().delete(from)).resolves.toBe(to);
      await expect(s().delete(from)).resolves.toBe(false);
    });

    it('markMoved of a missing or ended record changes nothing and gives undefined', async () => {
      const now = Date.now();
      const missing = freshId();
      expect(await s().markMoved(missing, freshId(), now + 60_000)).toBeUndefined();
      await expect(s().delete(missing)).resolves.toBe(false);
      const ended = freshId();
      await s().write(ended, change(now - 2 * HOUR, { expiresAt: now - 1 }));
      expect(await s().markMoved(ended, freshId(), now + 60_000)).toBeUndefined();
    });

    it('deleteUser of a user with no sessions deletes nothing', async () => {
      expect(await s().deleteUser(freshUser(), [])).toBe(0);
    });
  });
}
