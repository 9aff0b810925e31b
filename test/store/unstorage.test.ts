/**
 * The unstorage store: the shared store contract on unstorage's memory and fs drivers and
 * on a storage that gives text back (no atomic operations, so without the parallel
 * tests), then what only it promises: any id survives unstorage's key normalization, TTLs
 * go to the driver in seconds and never under 60, ended items are ignored whatever the
 * driver kept, the user index stays bounded and never drops a live session, and a stored
 * value it cannot read is an error, not a missing session.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage, type Driver, type Storage } from 'unstorage';
import fsDriver from 'unstorage/drivers/fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isSessionError } from '../../src/errors.js';
import { storeSessionId, userTagOf } from '../../src/store/session-id.js';
import type { SessionStore } from '../../src/store/store.js';
import { unstorageStore, type UnstorageLike } from '../../src/store/unstorage.js';
import { change, describeStoreContract } from './contract.js';

describeStoreContract(
  'unstorageStore on the memory driver',
  () => Promise.resolve({ store: unstorageStore(createStorage()), close: () => Promise.resolve() }),
  { atomic: false },
);

describeStoreContract(
  'unstorageStore on the fs driver',
  async () => {
    const base = await mkdtemp(join(tmpdir(), 'sealed-session-unstorage-'));
    const storage = createStorage({ driver: fsDriverAt(base) });
    return {
      store: unstorageStore(storage, { prefix: 'sessions:' }),
      close: async () => {
        await storage.dispose();
        await rm(base, { recursive: true, force: true });
      },
    };
  },
  { atomic: false },
);

/**
 * unstorage's fs driver at `base`. Its declarations import `Driver` through a directory
 * path that NodeNext resolution refuses, so its return type reads as `any`: say what it is.
 */
function fsDriverAt(base: string): Driver {
  return fsDriver({ base }) as Driver;
}

/** A storage that keeps and gives back the text it is given, as a plain KV would. */
function textStorage(): UnstorageLike & { readonly items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => Promise.resolve(items.get(key) ?? null),
    setItem: (key, value) => {
      items.set(key, value);
      return Promise.resolve();
    },
    removeItem: (key) => {
      items.delete(key);
      return Promise.resolve();
    },
  };
}

describeStoreContract(
  'unstorageStore on a storage that gives text back',
  () => Promise.resolve({ store: unstorageStore(textStorage()), close: () => Promise.resolve() }),
  { atomic: false },
);

const HOUR = 3_600_000;

/** Ids unstorage would mangle or refuse if used as keys as they are. */
const ODD_IDS = [
  'a:b',
  'a/b',
  'a\\b',
  'a::b',
  ':leading',
  'trailing:',
  'a?query',
  'a#hash',
  '.',
  '..',
  '../../etc/passwd',
  '.hidden',
  'a..b',
  'dot.',
  '',
  ' ',
  'ünïcödé',
  '🍪',
  'x'.repeat(129),
  'y'.repeat(5000),
  'CaseSensitive',
  'casesensitive',
  '%2F',
  'a b',
  'nul\0byte',
];

async function withFsStorage<T>(run: (storage: Storage, base: string) => Promise<T>): Promise<T> {
  const base = await mkdtemp(join(tmpdir(), 'sealed-session-unstorage-'));
  const storage = createStorage({ driver: fsDriverAt(base) });
  try {
    return await run(storage, base);
  } finally {
    await storage.dispose();
    await rm(base, { recursive: true, force: true });
  }
}

/** Every file under `dir`, relative to it. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('unstorageStore', () => {
  it('is of kind unstorage with a 1500 ms deadline unless told otherwise', () => {
    const store = unstorageStore(createStorage());
    expect(store.kind).toBe('unstorage');
    expect(store.timeout).toBe(1500);
    expect(unstorageStore(createStorage(), { timeout: 250 }).timeout).toBe(250);
  });

  it('keeps every id apart and readable, whatever unstorage does to keys (memory driver)', async () => {
    await expectOddIdsSurvive(createStorage());
  });

  it('keeps every id apart and readable, whatever unstorage does to keys (fs driver)', async () => {
    await withFsStorage(async (storage, base) => {
      const store = await expectOddIdsSurvive(storage);
      // Nothing escaped the base directory, and every file is in the store's folders.
      for (const file of await files(base)) expect(file).toMatch(/^sealed-session\/(s|sx|u|ux)\//);
      for (const id of ODD_IDS) await store.delete(id);
      expect(await files(base)).toEqual([]);
    });
  });

  it('keeps odd user tags apart and their indexes working', async () => {
    const store = unstorageStore(createStorage());
    const now = Date.now();
    const tags = ['a:b', 'a/b', '..', '', 'ü', 'z'.repeat(300)];
    for (const [i, tag] of tags.entries()) {
      await store.write(`session-${i}`, change(now, { userTag: tag }));
    }
    for (const [i, tag] of tags.entries()) {
      expect((await store.list(tag, now)).map((info) => info.id)).toEqual([`session-${i}`]);
    }
    expect(await store.deleteUser('a:b', [])).toBe(1);
    expect(await store.get('session-0')).toBeUndefined();
    expect(await store.get('session-1')).toBeDefined();
  });

  it('writes records and indexes under the prefix, so stores with other prefixes never meet', async () => {
    const storage = textStorage();
    const one = unstorageStore(storage, { prefix: 'one:' });
    const two = unstorageStore(storage, { prefix: 'two:' });
    const user = userTagOf('prefix@example.com');
    const id = storeSessionId(user, 'abc');
    const now = Date.now();
    await one.write(id, change(now, { userTag: user, set: { a: '1' } }));
    expect([...storage.items.keys()].sort()).toEqual([`one:s:${id}`, `one:u:${user}`]);
    expect(await two.get(id)).toBeUndefined();
    expect(await two.list(user, now)).toEqual([]);
    expect(await two.deleteUser(user, [])).toBe(0);
    expect(await one.get(id)).toBeDefined();
  });

  it('passes TTLs in whole seconds, never under 60, for records and indexes', async () => {
    const storage = textStorage();
    const ttls: [string, number | undefined][] = [];
    const recording: UnstorageLike = {
      getItem: (key) => storage.getItem(key),
      removeItem: (key) => storage.removeItem(key),
      setItem: (key, value, options) => {
        ttls.push([key.split(':')[1]!, options?.ttl]);
        return storage.setItem(key, value);
      },
    };
    const store = unstorageStore(recording, { prefix: 'p:' });
    const user = userTagOf('ttl@example.com');
    // A still clock, so the expected TTLs are exact.
    vi.useFakeTimers({ toFake: ['Date'] });
    const now = Date.now();

    await store.write('short', change(now, { expiresAt: now + 10_000 }));
    await store.write('long', change(now, { userTag: user, expiresAt: now + 2 * HOUR + 1 }));
    await store.touch('long', now, now + 90_500);
    await store.write('flash', change(now, { expiresAt: now + 5 * 60_000, flashSet: { f: '1' } }));
    await store.takeFlash('flash', 'f');

    for (const [, ttl] of ttls) {
      expect(Number.isInteger(ttl)).toBe(true);
      expect(ttl).toBeGreaterThanOrEqual(60);
    }
    const [shortTtl, longIndex, longTtl, touchedIndex, touchedTtl, flashTtl, takenTtl] = ttls;
    expect(shortTtl).toEqual(['s', 60]);
    // Rounded up to whole seconds: the driver never drops a record before it ends.
    expect(longIndex).toEqual(['u', 7201]);
    expect(longTtl).toEqual(['s', 7201]);
    expect(touchedIndex).toEqual(['u', 91]);
    expect(touchedTtl).toEqual(['s', 91]);
    // Taking a flash rewrites the record with what is left of its life.
    expect(flashTtl).toEqual(['s', 300]);
    expect(takenTtl).toEqual(['s', 300]);
    expect(ttls).toHaveLength(7);
  });

  it('ignores an ended record the driver kept, on every read', async () => {
    const storage = createStorage();
    const store = unstorageStore(storage, { prefix: '' });
    const now = Date.now();
    const ended = { c: now - 2 * HOUR, s: now - HOUR, e: now - 1, d: ['a', '1'], f: ['f', '1'] };
    await storage.setItem('s:ended', JSON.stringify(ended));
    expect(await store.get('ended')).toBeUndefined();
    expect(await store.touch('ended', now, now + HOUR)).toBe(false);
    expect(await store.takeFlash('ended', 'f')).toBeUndefined();
    expect(await store.write('ended', change(now, { mode: 'update', set: { b: '2' } }))).toBe(
      false,
    );

    // A create starts afresh rather than reviving the ended data.
    await store.write('ended', change(now, { set: { b: '2' } }));
    const record = await store.get('ended');
    expect(record?.createdAt).toBe(now);
    expect({ ...record?.data }).toEqual({ b: '2' });
    expect({ ...record?.flash }).toEqual({});
  });

  it('does not follow a move marker the driver kept past its end', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const store = unstorageStore(createStorage(), { prefix: '' });
      const now = Date.now();
      await store.write('before', change(now, { set: { a: '1' } }));
      expect(await store.markMoved('before', 'after', now + 1000)).toBeDefined();
      vi.setSystemTime(now + 999);
      expect(await store.delete('before')).toBe('after');
      await store.write('again', change(now + 999, { set: { a: '1' } }));
      expect(await store.markMoved('again', 'after', now + 1000)).toBeDefined();
      vi.setSystemTime(now + 1001);
      expect(await store.delete('again')).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a user index bounded: ended sessions leave it (and the storage) at the next change', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const storage = textStorage();
    const store = unstorageStore(storage, { prefix: '' });
    const user = userTagOf('busy@example.com');
    for (let i = 0; i < 30; i++) {
      await store.write(
        storeSessionId(user, `s${i}`),
        change(t0, { userTag: user, expiresAt: t0 + 60_000 }),
      );
    }
    expect(indexOf(storage, user)).toHaveLength(30);

    vi.setSystemTime(t0 + 120_000);
    const fresh = storeSessionId(user, 'fresh');
    await store.write(fresh, change(Date.now(), { userTag: user }));
    expect(indexOf(storage, user).map((entry) => entry.id)).toEqual([fresh]);
    // The ended records went too: drivers without TTLs would otherwise keep them forever.
    expect([...storage.items.keys()].sort()).toEqual([`s:${fresh}`, `u:${user}`]);

    await store.delete(fresh);
    expect([...storage.items.keys()]).toEqual([]);
  });

  it('never prunes a live session from the index, even when the index lags behind its record', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const storage = textStorage();
    const store = unstorageStore(storage, { prefix: '' });
    const user = userTagOf('lagging@example.com');
    const live = storeSessionId(user, 'live');
    await store.write(live, change(t0, { userTag: user, expiresAt: t0 + 60_000 }));
    // A lost index update (two writes racing) left an older expiry in the index.
    await store.touch(live, t0, t0 + HOUR);
    storage.items.set(`u:${user}`, JSON.stringify([{ id: live, e: t0 + 60_000 }]));

    vi.setSystemTime(t0 + 120_000);
    await store.write(storeSessionId(user, 'other'), change(Date.now(), { userTag: user }));
    expect(indexOf(storage, user).find((entry) => entry.id === live)?.e).toBe(t0 + HOUR);
    expect(await store.deleteUser(user, [])).toBe(2);
    expect(await store.get(live)).toBeUndefined();
  });

  it('a session that changes user or signs out leaves the old index item at once', async () => {
    const storage = textStorage();
    const store = unstorageStore(storage, { prefix: '' });
    const [before, after] = [userTagOf('before@example.com'), userTagOf('after@example.com')];
    const now = Date.now();
    await store.write('x', change(now, { userTag: before }));
    await store.write('x', change(now, { mode: 'update', userTag: after }));
    expect([...storage.items.keys()].sort()).toEqual(['s:x', `u:${after}`]);
    await store.write('x', change(now, { mode: 'update', userTag: undefined }));
    expect([...storage.items.keys()]).toEqual(['s:x']);
  });

  it('prunes index entries whose record is gone or has left the user, and copes with a lost index', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const storage = textStorage();
    const store = unstorageStore(storage, { prefix: '' });
    const user = userTagOf('pruned@example.com');
    const [gone, moved, kept] = ['gone', 'moved', 'kept'].map((r) => storeSessionId(user, r));
    for (const id of [gone, moved, kept]) {
      await store.write(id!, change(t0, { userTag: user, expiresAt: t0 + 60_000 }));
    }
    // The KV dropped one record on its own; another left the user but its entry stayed.
    storage.items.delete(`s:${gone!}`);
    const index = storage.items.get(`u:${user}`)!;
    await store.write(moved!, change(t0, { mode: 'update', userTag: undefined }));
    storage.items.set(`u:${user}`, index);

    vi.setSystemTime(t0 + 120_000);
    await store.write(kept!, change(Date.now(), { mode: 'create', userTag: user }));
    expect(indexOf(storage, user).map((entry) => entry.id)).toEqual([kept]);
    // Pruning never deletes a record that is no longer the user's.
    expect(await store.get(moved!)).toBeDefined();

    // The index item itself vanished (a TTL, an operator): deleting still works.
    storage.items.delete(`u:${user}`);
    await store.delete(kept!);
    expect(storage.items.has(`s:${kept!}`)).toBe(false);
    expect(storage.items.has(`u:${user}`)).toBe(false);
  });

  it('writes an index only when it changes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const storage = textStorage();
    const writes: string[] = [];
    const counting: UnstorageLike = {
      getItem: (key) => storage.getItem(key),
      setItem: (key, value) => {
        writes.push(key);
        return storage.setItem(key, value);
      },
      removeItem: (key) => {
        writes.push(`-${key}`);
        return storage.removeItem(key);
      },
    };
    const store = unstorageStore(counting, { prefix: '' });
    const user = userTagOf('quiet@example.com');
    const [a, b] = ['a', 'b'].map((random) => storeSessionId(user, random));
    await store.write(a!, change(t0, { userTag: user }));
    await store.write(b!, change(t0, { userTag: user, expiresAt: t0 + 60_000 }));
    writes.length = 0;

    // Same expiry: the record changes, the index does not.
    await store.write(a!, change(t0, { mode: 'update', userTag: user, set: { x: '1' } }));
    expect(writes).toEqual([`s:${a!}`]);
    writes.length = 0;

    // Everything excepted: nothing deleted, nothing rewritten.
    expect(await store.deleteUser(user, [a!, b!])).toBe(0);
    expect(writes).toEqual([]);

    // A session whose entry a lost update never wrote: its delete leaves the index alone.
    storage.items.set(`u:${user}`, JSON.stringify([{ id: b!, e: t0 + 60_000 }]));
    await store.delete(a!);
    expect(writes).toEqual([`-s:${a!}`]);
    writes.length = 0;

    // An ended record the driver kept is removed by deleteUser, but not counted.
    vi.setSystemTime(t0 + 120_000);
    expect(await store.deleteUser(user, [])).toBe(0);
    expect(writes).toEqual([`-s:${b!}`, `-u:${user}`]);
  });

  it('deleteUser spares a session that has left the user since its index entry was written', async () => {
    const storage = textStorage();
    const store = unstorageStore(storage, { prefix: '' });
    const user = userTagOf('left@example.com');
    const now = Date.now();
    const id = storeSessionId(user, 'moved');
    await store.write(id, change(now, { userTag: user }));
    const staleIndex = storage.items.get(`u:${user}`)!;
    await store.write(id, change(now, { mode: 'update', userTag: undefined }));
    // A lost index update left the entry behind.
    storage.items.set(`u:${user}`, staleIndex);
    expect(await store.list(user, now)).toEqual([]);
    storage.items.set(`u:${user}`, staleIndex);
    expect(await store.deleteUser(user, [])).toBe(0);
    expect(await store.get(id)).toBeDefined();
    expect(storage.items.has(`u:${user}`)).toBe(false);
  });

  it('rejects on a stored value it cannot read, without quoting it, instead of calling the session missing', async () => {
    const storage = textStorage();
    const store = unstorageStore(storage, { prefix: '' });
    const secret = 'secret-session-data';
    const bad: [string, string][] = [
      ['s:garbage', `{"c":1,${secret}`],
      ['s:shape', JSON.stringify({ c: 1, s: 1, e: Date.now() + HOUR, d: [secret], f: [] })],
      ['s:array', JSON.stringify([secret])],
      ['s:number', '42'],
    ];
    for (const [key, value] of bad) storage.items.set(key, value);
    for (const [key] of bad) {
      const error = await store.get(key.slice(2)).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error, key).toBeInstanceOf(Error);
      expect((error as Error).message).not.toContain(secret);
    }
    storage.items.set('u:tag', `[{"id":"${secret}"`);
    await expect(store.list('tag', Date.now())).rejects.toThrow(/user index is not readable/);
    storage.items.set('u:tag', JSON.stringify([{ id: 'x' }]));
    await expect(store.deleteUser('tag', [])).rejects.toThrow(/user index is not readable/);
    storage.items.set('u:tag', JSON.stringify([null]));
    await expect(store.list('tag', Date.now())).rejects.toThrow(/user index is not readable/);
    storage.items.set('u:tag', JSON.stringify({ id: 'x', e: 1 }));
    await expect(store.list('tag', Date.now())).rejects.toThrow(/user index is not readable/);
  });

  it('passes a storage failure on as it is', async () => {
    const failure = new Error('KV down');
    const failing: UnstorageLike = {
      getItem: () => Promise.reject(failure),
      setItem: () => Promise.reject(failure),
      removeItem: () => Promise.reject(failure),
    };
    const store = unstorageStore(failing);
    await expect(store.get('x')).rejects.toBe(failure);
    await expect(store.write('x', change(Date.now()))).rejects.toBe(failure);
  });

  it('refuses an invalid storage or options with ERR_CONFIG_INVALID naming the rule', () => {
    const storage = createStorage();
    const cases: [unknown, unknown, RegExp][] = [
      [undefined, undefined, /storage must have getItem, setItem and removeItem/],
      [{ getItem() {}, setItem() {} }, undefined, /storage must have getItem/],
      [storage, { prefix: 1 }, /prefix must be a string/],
      [storage, { timeout: 0 }, /timeout must be a positive finite number/],
      [storage, { timeout: -5 }, /timeout must be a positive finite number/],
      [storage, { timeout: Infinity }, /timeout must be a positive finite number/],
      [storage, { timeout: '100' }, /timeout must be a positive finite number/],
      [storage, { ttl: 5 }, /ttl is not an option/],
      [storage, 'options', /options must be an object/],
    ];
    for (const [candidate, options, rule] of cases) {
      let caught: unknown;
      try {
        unstorageStore(candidate as never, options as never);
      } catch (error) {
        caught = error;
      }
      expect(isSessionError(caught, 'ERR_CONFIG_INVALID'), String(rule)).toBe(true);
      expect((caught as Error).message).toMatch(rule);
    }
  });
});

/** Writes a session under every odd id, each with its own data, and reads each back. */
async function expectOddIdsSurvive(storage: Storage): Promise<SessionStore> {
  const store = unstorageStore(storage);
  const now = Date.now();
  for (const [i, id] of ODD_IDS.entries()) {
    expect(
      await store.write(id, change(now, { set: { i: `${i}` }, flashSet: { f: `${i}` } })),
    ).toBe(true);
  }
  for (const [i, id] of ODD_IDS.entries()) {
    const record = await store.get(id);
    expect(record?.data, JSON.stringify(id)).toEqual({ i: `${i}` });
  }
  for (const [i, id] of ODD_IDS.entries()) expect(await store.takeFlash(id, 'f')).toBe(`${i}`);
  return store;
}

/** The index of `userTag` in a text storage with an empty prefix. */
function indexOf(
  storage: { readonly items: Map<string, string> },
  userTag: string,
): { id: string; e: number }[] {
  const text = storage.items.get(`u:${userTag}`);
  return text === undefined ? [] : (JSON.parse(text) as { id: string; e: number }[]);
}
