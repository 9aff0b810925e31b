/**
 * The Redis store on a single server: the shared store contract through node-redis and
 * ioredis on the shared 127.0.0.1:6379 (each run under a random prefix of its own), then
 * what only the Redis store promises, on a `redis-server` this file starts for itself (so
 * it may flush scripts, reset stats and restart it): the key layout and TTLs, an index that
 * stays bounded, the EVAL fallback when the server lost its scripts, atomic flash reads and
 * revocations under real concurrency from several connections, both clients on the same
 * data, and options refused with a rule-naming error.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient, RESP_TYPES, type TypeMapping } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/errors.js';
import { redisStore, type RedisClient } from '../../src/store/redis.js';
import { SCRIPTS } from '../../src/store/redis-scripts.js';
import { storeSessionId, userTagOf } from '../../src/store/session-id.js';
import type { SessionStore } from '../../src/store/store.js';
import { change, describeStoreContract } from './contract.js';
import { startRedis, type RedisServer } from './redis-servers.js';

const SHARED_URL = 'redis://127.0.0.1:6379';
const HOUR = 3_600_000;

type NodeRedis = ReturnType<typeof createClient>;

/** A prefix no other run uses, so runs never see each other's keys on a shared server. */
function freshPrefix(): string {
  return `test-sess:${randomUUID()}:`;
}

function freshUser(): string {
  return userTagOf(`user-${randomUUID()}@example.com`);
}

function freshId(userTag?: string): string {
  return storeSessionId(userTag, randomUUID());
}

async function nodeRedisOn(url: string): Promise<NodeRedis> {
  const client = createClient({ url });
  // A connection error must not become an unhandled 'error' event.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function ioredisOn(port: number, keyPrefix?: string): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    maxRetriesPerRequest: 3,
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
  });
  client.on('error', () => undefined);
  return client;
}

/** Deletes every key under `prefix` (SCAN, so a busy shared server is not blocked). */
async function deleteKeys(client: NodeRedis, prefix: string): Promise<void> {
  let cursor = '0';
  for (let round = 0; round < 10_000; round++) {
    const [next, keys] = await client.sendCommand<[string, string[]]>([
      'SCAN',
      cursor,
      'MATCH',
      `${prefix}*`,
      'COUNT',
      '1000',
    ]);
    if (keys.length > 0) await client.sendCommand(['UNLINK', ...keys]);
    cursor = next;
    if (cursor === '0') return;
  }
}

describeStoreContract('redisStore, node-redis, 127.0.0.1:6379', async () => {
  const client = await nodeRedisOn(SHARED_URL);
  const prefix = freshPrefix();
  return {
    store: redisStore({ client, prefix }),
    async close() {
      await deleteKeys(client, prefix);
      client.destroy();
    },
  };
});

describeStoreContract('redisStore, ioredis, 127.0.0.1:6379', async () => {
  const client = ioredisOn(6379);
  const admin = await nodeRedisOn(SHARED_URL);
  const prefix = freshPrefix();
  return {
    store: redisStore({ client, prefix }),
    async close() {
      await deleteKeys(admin, prefix);
      admin.destroy();
      client.disconnect();
    },
  };
});

/** The error `make` throws, failing the test when it throws none or another kind. */
function configError(make: () => unknown): Error {
  try {
    make();
  } catch (error) {
    expect(isSessionError(error, 'ERR_CONFIG_INVALID'), String(error)).toBe(true);
    return error as Error;
  }
  throw new Error('expected ERR_CONFIG_INVALID, nothing was thrown');
}

describe('redisStore options', () => {
  /** Shaped like a node-redis client; never called by these tests. */
  const fakeClient: RedisClient = { sendCommand: () => Promise.resolve(null) };

  it('defaults: kind redis, a 1500 ms deadline', () => {
    const store = redisStore({ client: fakeClient });
    expect(store.kind).toBe('redis');
    expect(store.timeout).toBe(1500);
    expect(redisStore({ client: fakeClient, timeout: 250 }).timeout).toBe(250);
  });

  it('refuses a prefix with hash-tag braces, or one that is not a string', () => {
    for (const prefix of ['sess{', 'sess}:', '{app}:', 'a{b}c']) {
      expect(configError(() => redisStore({ client: fakeClient, prefix })).message).toMatch(
        /prefix must be a string without \{ or \}/,
      );
    }
    expect(
      configError(() => redisStore({ client: fakeClient, prefix: 7 as never })).message,
    ).toMatch(/prefix/);
    expect(redisStore({ client: fakeClient, prefix: '' }).kind).toBe('redis');
  });

  it('refuses a client that is neither node-redis nor ioredis', () => {
    const wrong: unknown[] = [
      undefined,
      null,
      'redis://127.0.0.1:6379',
      {},
      { get: () => undefined, set: () => undefined },
      { getItem: () => undefined, setItem: () => undefined },
      { sendCommand: 'not a function' },
      // ioredis without its script helpers.
      { evalsha: () => undefined, call: () => undefined },
    ];
    for (const client of wrong) {
      expect(configError(() => redisStore({ client: client as RedisClient })).message).toMatch(
        /client must be a node-redis or ioredis client/,
      );
    }
    const sentinel = { sendCommand: () => Promise.resolve(null), getSentinelNode: () => undefined };
    expect(configError(() => redisStore({ client: sentinel })).message).toMatch(/not a sentinel/);
  });

  it('refuses a timeout that is not a positive finite number, and unknown options', () => {
    for (const timeout of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1500']) {
      expect(
        configError(() => redisStore({ client: fakeClient, timeout: timeout as number })).message,
      ).toMatch(/timeout must be a positive number of milliseconds/);
    }
    expect(
      configError(() => redisStore({ client: fakeClient, prefx: 'x:' } as never)).message,
    ).toMatch(/prefx is not an option/);
    expect(configError(() => redisStore(null as never)).message).toMatch(
      /options must be an object/,
    );
  });

  it('refuses an ioredis keyPrefix that is not a string', () => {
    const client = {
      evalsha: () => Promise.resolve(null),
      eval: () => Promise.resolve(null),
      call: () => Promise.resolve(null),
      options: { keyPrefix: Buffer.from('x:') },
    };
    expect(configError(() => redisStore({ client })).message).toMatch(/keyPrefix must be a string/);
  });

  it('fails a call whose reply has a shape no Redis client gives, never misreads it', async () => {
    const replies: Record<string, unknown> = {};
    const odd: RedisClient = {
      sendCommand: (args: string[]) => {
        const script = Object.entries(SCRIPTS).find(([, { sha }]) => sha === args[1])?.[0];
        return Promise.resolve(replies[args[0] === 'HGETALL' ? 'get' : (script ?? '?')]);
      },
    };
    const store = redisStore({ client: odd });
    const id = freshId(freshUser());
    const unexpected = /unexpected reply from the Redis client/;
    replies['get'] = 7;
    await expect(store.get(id)).rejects.toThrow(unexpected);
    replies['write'] = 'one';
    await expect(store.write(id, change(Date.now()))).rejects.toThrow(unexpected);
    replies['write'] = 1.5;
    await expect(store.write(id, change(Date.now()))).rejects.toThrow(unexpected);
    replies['delete'] = [1];
    await expect(store.delete(id)).rejects.toThrow(unexpected);
    replies['delete'] = null;
    await expect(store.delete(id)).rejects.toThrow(unexpected);
    replies['markMoved'] = 'x';
    await expect(store.markMoved(id, 'to', Date.now())).rejects.toThrow(unexpected);
    replies['takeFlash'] = 3;
    await expect(store.takeFlash(id, 'f')).rejects.toThrow(unexpected);
    // Replies of the right kinds in other spellings (bigint and text integers, bytes) read as such.
    replies['write'] = 1n;
    expect(await store.write(id, change(Date.now()))).toBe(true);
    replies['write'] = '0';
    expect(await store.write(id, change(Date.now()))).toBe(false);
    replies['takeFlash'] = new TextEncoder().encode('"ü"');
    expect(await store.takeFlash(id, 'f')).toBe('"ü"');
    replies['takeFlash'] = undefined;
    expect(await store.takeFlash(id, 'f')).toBeUndefined();
    // A record missing a field, or with a field of no known kind, and list entries cut short
    // or malformed, are skipped, not guessed.
    replies['get'] = ['c', '1', 's', null, 'x:odd', '1', null, 'v'];
    expect(await store.get(id)).toBeUndefined();
    replies['list'] = ['a', '1', '2', 'b', 'later', '2', 'c', '3'];
    expect(await store.list('tag', 0)).toEqual([{ id: 'a', createdAt: 1, lastSeenAt: 2 }]);
  });

  it('reads an ioredis cluster through a script, so a read never goes to a replica', async () => {
    const sent: unknown[][] = [];
    const cluster = {
      isCluster: true,
      evalsha: (...args: unknown[]) => {
        sent.push(['evalsha', ...args]);
        return Promise.resolve([]);
      },
      eval: () => Promise.resolve([]),
      call: (...args: unknown[]) => {
        sent.push(['call', ...args]);
        return Promise.resolve([]);
      },
    };
    expect(await redisStore({ client: cluster, prefix: 'p:' }).get('an-id')).toBeUndefined();
    expect(sent).toEqual([['evalsha', SCRIPTS.read.sha, 1, 'p:{an-id}:an-id', 'p:']]);
  });

  it('takes an ioredis client without options as one with no keyPrefix', async () => {
    const calls: unknown[][] = [];
    const client = {
      evalsha: (...args: unknown[]) => {
        calls.push(args);
        return Promise.resolve(1);
      },
      eval: () => Promise.resolve(1),
      call: () => Promise.resolve([]),
    };
    const store = redisStore({ client, prefix: 'p:' });
    expect(await store.touch('an-id', 1, 2)).toBe(true);
    expect(calls[0]).toEqual([
      SCRIPTS.touch.sha,
      1,
      'p:{an-id}:an-id',
      'p:',
      'an-id',
      '1',
      '2',
      '2',
    ]);
    expect(await store.get('an-id')).toBeUndefined();
  });

  it('sends a node-redis cluster command to the slot of its first key, never as read-only', async () => {
    const calls: [string | undefined, boolean | undefined, string[]][] = [];
    const cluster = {
      sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]) {
        calls.push([firstKey, isReadonly, args]);
        return Promise.resolve(1);
      },
      getSlotMaster: () => undefined,
    };
    const user = freshUser();
    const id = freshId(user);
    const store = redisStore({ client: cluster, prefix: 'p:' });
    await store.touch(id, 1, 2);
    expect(calls).toEqual([
      [
        `p:{${user}}:${id}`,
        false,
        [
          'EVALSHA',
          SCRIPTS.touch.sha,
          '2',
          `p:{${user}}:${id}`,
          `p:{${user}}:user`,
          'p:',
          id,
          '1',
          '2',
          '2',
        ],
      ],
    ]);
  });
});

describe('redisStore on a server of its own', () => {
  let server: RedisServer | undefined;
  let admin: NodeRedis;
  const closers: (() => unknown)[] = [];

  /** The server this file started. */
  const own = (): RedisServer => {
    if (server === undefined) throw new Error('the server did not start');
    return server;
  };

  beforeAll(async () => {
    server = await startRedis();
    admin = await nodeRedisOn(server.url);
    closers.push(() => {
      admin.destroy();
    });
  });
  afterAll(async () => {
    for (const close of closers) close();
    await server?.stop();
  });

  async function nodeStore(prefix: string): Promise<SessionStore> {
    const client = await nodeRedisOn(own().url);
    closers.push(() => {
      client.destroy();
    });
    return redisStore({ client, prefix });
  }

  function ioStore(prefix: string, keyPrefix?: string): SessionStore {
    const client = ioredisOn(own().port, keyPrefix);
    closers.push(() => {
      client.disconnect();
    });
    return redisStore({ client, prefix });
  }

  async function pttl(key: string): Promise<number> {
    return Number(await admin.sendCommand(['PTTL', key]));
  }

  async function members(key: string): Promise<string[]> {
    return (await admin.sendCommand<string[]>(['ZRANGE', key, '0', '-1'])).slice().sort();
  }

  async function exists(key: string): Promise<boolean> {
    return Number(await admin.sendCommand(['EXISTS', key])) === 1;
  }

  it('uses the default prefix sess: and the documented key layout', async () => {
    const client = await nodeRedisOn(own().url);
    closers.push(() => {
      client.destroy();
    });
    const store = redisStore({ client });
    const now = Date.now();
    const user = freshUser();
    const id = freshId(user);
    const anonymous = freshId();
    await store.write(
      id,
      change(now - 10, {
        lastSeenAt: now,
        userTag: user,
        set: { a: '1', 'x:y': '"z"' },
        flashSet: { notice: '"hi"' },
      }),
    );
    await store.write(anonymous, change(now));

    const record = `sess:{${user}}:${id}`;
    expect(await admin.hGetAll(record)).toEqual({
      c: String(now - 10),
      s: String(now),
      e: String(now + HOUR - 10),
      u: user,
      'd:a': '1',
      'd:x:y': '"z"',
      'f:notice': '"hi"',
    });
    expect(await admin.zRangeWithScores(`sess:{${user}}:user`, 0, -1)).toEqual([
      { value: id, score: now + HOUR - 10 },
    ]);
    // A session of no user is keyed under its own id, has no `u` and joins no index.
    expect(await admin.hGetAll(`sess:{${anonymous}}:${anonymous}`)).toEqual({
      c: String(now),
      s: String(now),
      e: String(now + HOUR),
    });
    await store.delete(id);
    await store.delete(anonymous);
    expect(await admin.keys('sess:*')).toEqual([]);
  });

  it('computes the SHA-1 Redis names each script by', async () => {
    for (const script of Object.values(SCRIPTS)) {
      expect(await admin.sendCommand(['SCRIPT', 'LOAD', script.source])).toBe(script.sha);
    }
  });

  it('writes and deletes thousands of keys in one change, past what one Lua call can take', async () => {
    const prefix = freshPrefix();
    const store = await nodeStore(prefix);
    const now = Date.now();
    const id = freshId(freshUser());
    // 6,000 keys: 12,000 arguments, past Lua's 8,000 for one unpacked call.
    const keys = Array.from({ length: 6000 }, (_, i) => `k${i}`);
    const set = Object.fromEntries(keys.map((key, i) => [key, String(i)]));
    expect(await store.write(id, change(now, { set }))).toBe(true);
    expect(Object.keys((await store.get(id))?.data ?? {})).toHaveLength(6000);
    const unset = keys.slice(1);
    expect(await store.write(id, change(now, { mode: 'update', unset }))).toBe(true);
    expect({ ...(await store.get(id))?.data }).toEqual({ k0: '0' });
  });

  it('sets a TTL on the record and on the index, at the furthest expiry of the index', async () => {
    const prefix = freshPrefix();
    const store = await nodeStore(prefix);
    const now = Date.now();
    const user = freshUser();
    const short = freshId(user);
    const long = freshId(user);
    const index = `${prefix}{${user}}:user`;
    const near = (ttl: number, expected: number): void => {
      expect(ttl).toBeGreaterThan(expected - 5_000);
      expect(ttl).toBeLessThanOrEqual(expected);
    };

    await store.write(short, change(now, { userTag: user, expiresAt: now + HOUR }));
    near(await pttl(`${prefix}{${user}}:${short}`), HOUR);
    near(await pttl(index), HOUR);

    await store.write(long, change(now, { userTag: user, expiresAt: now + 3 * HOUR }));
    near(await pttl(`${prefix}{${user}}:${long}`), 3 * HOUR);
    near(await pttl(index), 3 * HOUR);

    // touch moves the record's TTL, its index score, and the index TTL with it.
    expect(await store.touch(short, now, now + 5 * HOUR)).toBe(true);
    near(await pttl(`${prefix}{${user}}:${short}`), 5 * HOUR);
    expect(Number(await admin.zScore(index, short))).toBe(now + 5 * HOUR);
    near(await pttl(index), 5 * HOUR);

    // When the furthest member leaves, the index lives as long as the one left.
    await store.delete(short);
    near(await pttl(index), 3 * HOUR);
    await store.delete(long);
    expect(await exists(index)).toBe(false);

    // A fractional expiry rounds up: nothing ends before the engine says it does.
    const fractional = freshId(user);
    await store.write(fractional, change(now, { userTag: user, expiresAt: now + HOUR + 0.5 }));
    expect(Number(await admin.zScore(index, fractional))).toBe(now + HOUR + 1);
    expect((await store.list(user, now)).map((info) => info.id)).toEqual([fractional]);
  });

  it('keeps the index bounded: later writes and lists drop members that have ended', async () => {
    const prefix = freshPrefix();
    const store = await nodeStore(prefix);
    const now = Date.now();
    const user = freshUser();
    const index = `${prefix}{${user}}:user`;
    const ended = Array.from({ length: 30 }, () => freshId(user));
    for (const id of ended) {
      await store.write(id, change(now, { userTag: user, expiresAt: now + 60_000 }));
    }
    expect(await members(index)).toEqual(ended.slice().sort());

    // A write an hour later (the engine's now is its lastSeenAt) finds them all ended.
    const later = freshId(user);
    await store.write(later, change(now + HOUR, { userTag: user }));
    expect(await members(index)).toEqual([later]);

    // list drops members whose record is gone, whatever their score.
    const vanished = freshId(user);
    await store.write(vanished, change(now + HOUR, { userTag: user }));
    await admin.del(`${prefix}{${user}}:${vanished}`);
    expect(await members(index)).toEqual([later, vanished].sort());
    expect((await store.list(user, now + HOUR)).map((info) => info.id)).toEqual([later]);
    expect(await members(index)).toEqual([later]);

    // list at a time past every member leaves no index at all.
    expect(await store.list(user, now + 3 * HOUR)).toEqual([]);
    expect(await exists(index)).toBe(false);
  });

  it('a session that ends (expiry in the past) is deleted and leaves its index', async () => {
    const prefix = freshPrefix();
    const store = await nodeStore(prefix);
    const now = Date.now();
    const user = freshUser();
    const id = freshId(user);
    await store.write(id, change(now, { userTag: user }));
    expect(await store.touch(id, now, now - 1)).toBe(true);
    expect(await exists(`${prefix}{${user}}:${id}`)).toBe(false);
    expect(await exists(`${prefix}{${user}}:user`)).toBe(false);
    // Born ended: nothing is kept, nothing is indexed.
    const born = freshId(user);
    expect(await store.write(born, change(now, { userTag: user, expiresAt: now - 1 }))).toBe(true);
    expect(await admin.keys(`${prefix}*`)).toEqual([]);
  });

  it('reads a malformed record as missing, and ignores fields it does not know', async () => {
    const prefix = freshPrefix();
    const store = await nodeStore(prefix);
    const id = freshId();
    const key = `${prefix}{${id}}:${id}`;
    await admin.hSet(key, { s: '1', 'd:a': '1' });
    expect(await store.get(id)).toBeUndefined();
    await admin.hSet(key, { c: 'soon' });
    expect(await store.get(id)).toBeUndefined();
    await admin.hSet(key, { c: ' 5' });
    expect(await store.get(id)).toBeUndefined();
    await admin.hSet(key, { c: '5', x: 'unknown', 'f:n': '2' });
    expect(await store.get(id)).toEqual({
      createdAt: 5,
      lastSeenAt: 1,
      userTag: undefined,
      data: { a: '1' },
      flash: { n: '2' },
    });
    // Maps without a prototype: an inherited name never reads as a stored key.
    const record = await store.get(id);
    expect(record?.data['constructor']).toBeUndefined();
    expect(record?.flash['__proto__']).toBeUndefined();
  });

  it('rejects with the client error: a key of the wrong type, a closed client', async () => {
    const prefix = freshPrefix();
    const store = await nodeStore(prefix);
    const id = freshId();
    await admin.set(`${prefix}{${id}}:${id}`, 'a string, not a hash');
    await expect(store.write(id, change(Date.now()))).rejects.toThrow(/WRONGTYPE/);
    await expect(store.get(id)).rejects.toThrow(/WRONGTYPE/);

    const closed = createClient({ url: own().url });
    const unusable = redisStore({ client: closed, prefix });
    await expect(unusable.get(id)).rejects.toThrow();
  });

  it('falls back to EVAL once when the server has lost its scripts (SCRIPT FLUSH)', async () => {
    const prefix = freshPrefix();
    const stores = [await nodeStore(prefix), ioStore(prefix)];
    const now = Date.now();
    const user = freshUser();
    const id = freshId(user);
    for (const store of stores) {
      await admin.sendCommand(['SCRIPT', 'FLUSH']);
      await admin.sendCommand(['CONFIG', 'RESETSTAT']);
      expect(await admin.sendCommand(['SCRIPT', 'EXISTS', SCRIPTS.write.sha])).toEqual([0]);
      expect(await store.write(id, change(now, { userTag: user, set: { a: '1' } }))).toBe(true);
      expect(await store.write(id, change(now, { mode: 'update', userTag: user }))).toBe(true);
      expect(await store.get(id)).toMatchObject({ data: { a: '1' }, userTag: user });
      expect(await admin.sendCommand(['SCRIPT', 'EXISTS', SCRIPTS.write.sha])).toEqual([1]);
      // One EVAL for the script the server lacked (write; a read is a plain HGETALL); every
      // later call is EVALSHA.
      const stats = await admin.info('commandstats');
      expect(stats).toMatch(/cmdstat_eval:calls=1,/);
    }
  });

  it('recovers its scripts after the server restarts', async () => {
    const prefix = freshPrefix();
    const store = await nodeStore(prefix);
    const io = ioStore(prefix);
    const id = freshId();
    await store.write(id, change(Date.now()));
    await own().restart();
    // Nothing is persisted: the record went with the restart, and so did the scripts.
    await expect
      .poll(() => store.get(id).catch(() => 'not yet'), { timeout: 10_000 })
      .toBeUndefined();
    await expect.poll(() => io.get(id).catch(() => 'not yet'), { timeout: 10_000 }).toBeUndefined();
    expect(await store.write(id, change(Date.now(), { set: { a: '1' } }))).toBe(true);
    expect((await io.get(id))?.data).toEqual({ a: '1' });
  });

  it('a call to a paused server waits until it resumes', async () => {
    const prefix = freshPrefix();
    const store = await nodeStore(prefix);
    const id = freshId();
    await store.write(id, change(Date.now(), { set: { a: '1' } }));
    own().pause();
    let settled = false;
    const pending = store.get(id).finally(() => {
      settled = true;
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(settled).toBe(false);
    } finally {
      own().resume();
    }
    expect((await pending)?.data).toEqual({ a: '1' });
  });

  it('gives a flash exactly once to 20 parallel takes over several connections', async () => {
    const prefix = freshPrefix();
    const stores = [
      await nodeStore(prefix),
      await nodeStore(prefix),
      ioStore(prefix),
      ioStore(prefix),
    ];
    for (let round = 0; round < 10; round++) {
      const id = freshId(freshUser());
      await stores[0]!.write(id, change(Date.now(), { flashSet: { once: `"round ${round}"` } }));
      const taken = await Promise.all(
        Array.from({ length: 20 }, (_, i) => stores[i % stores.length]!.takeFlash(id, 'once')),
      );
      expect(taken.filter((value) => value !== undefined)).toEqual([`"round ${round}"`]);
      expect((await stores[1]!.get(id))?.flash).toEqual({});
    }
  });

  it('deleteUser racing with updates of the same sessions never leaves a deleted session', async () => {
    const prefix = freshPrefix();
    const stores = [await nodeStore(prefix), await nodeStore(prefix), ioStore(prefix)];
    for (let round = 0; round < 5; round++) {
      const now = Date.now();
      const user = freshUser();
      const ids = Array.from({ length: 20 }, () => freshId(user));
      for (const id of ids) await stores[0]!.write(id, change(now, { userTag: user }));
      const kept = ids[round]!;

      const updates: Promise<boolean>[][] = ids.map(() => []);
      let deleted: Promise<number> | undefined;
      for (let wave = 0; wave < 4; wave++) {
        for (const [i, id] of ids.entries()) {
          const store = stores[(i + wave) % stores.length]!;
          updates[i]!.push(
            store.write(
              id,
              change(now, { mode: 'update', userTag: user, set: { [`w${wave}`]: '1' } }),
            ),
          );
        }
        if (wave === 1) deleted = stores[2]!.deleteUser(user, [kept]);
      }
      const results = await Promise.all(updates.map((writes) => Promise.all(writes)));
      // Updates never delete: every other session was there to be revoked.
      expect(await deleted).toBe(19);
      expect(results[round]).toEqual([true, true, true, true]);

      for (const id of ids) {
        const alive = await exists(`${prefix}{${user}}:${id}`);
        expect(alive, id === kept ? 'the kept session' : 'a revoked session').toBe(id === kept);
      }
      expect(await members(`${prefix}{${user}}:user`)).toEqual([kept]);
      expect((await stores[1]!.list(user, now)).map((info) => info.id)).toEqual([kept]);
    }
  });

  it('node-redis and ioredis read and change the same records', async () => {
    const prefix = freshPrefix();
    const viaNode = await nodeStore(prefix);
    const viaIo = ioStore(prefix);
    const now = Date.now();
    const user = freshUser();
    const first = freshId(user);
    const second = freshId(user);

    await viaNode.write(
      first,
      change(now, { userTag: user, set: { a: '"é"' }, flashSet: { f: '1' } }),
    );
    expect(await viaIo.get(first)).toEqual({
      createdAt: now,
      lastSeenAt: now,
      userTag: user,
      data: { a: '"é"' },
      flash: { f: '1' },
    });
    await viaIo.write(second, change(now + 1, { userTag: user }));
    expect(await viaIo.takeFlash(first, 'f')).toBe('1');
    expect(await viaNode.takeFlash(first, 'f')).toBeUndefined();
    expect((await viaNode.list(user, now)).map((info) => info.id).sort()).toEqual(
      [first, second].sort(),
    );
    expect(await viaNode.deleteUser(user, [second])).toBe(1);
    expect(await viaIo.get(first)).toBeUndefined();
    expect((await viaIo.list(user, now)).map((info) => info.id)).toEqual([second]);
  });

  it('honours an ioredis keyPrefix, also for the keys its scripts build', async () => {
    const prefix = freshPrefix();
    const store = ioStore(prefix, 'app:');
    const now = Date.now();
    const user = freshUser();
    const ids = [freshId(user), freshId(user)];
    for (const id of ids) await store.write(id, change(now, { userTag: user, set: { a: '1' } }));
    expect(await exists(`app:${prefix}{${user}}:${ids[0]!}`)).toBe(true);
    // Reads are a plain HGETALL, which ioredis prefixes as it does the scripts' KEYS.
    expect((await store.get(ids[0]!))?.data).toEqual({ a: '1' });
    expect(await members(`app:${prefix}{${user}}:user`)).toEqual(ids.slice().sort());
    expect((await store.list(user, now)).map((info) => info.id).sort()).toEqual(ids.slice().sort());
    expect(await store.deleteUser(user, [])).toBe(2);
    expect(await admin.keys(`app:${prefix}*`)).toEqual([]);
  });

  /**
   * A connected RESP3 client with `typeMapping` in its command options: the way a mapping
   * reaches `sendCommand` (a `withTypeMapping` proxy maps the typed commands only).
   */
  async function resp3Client(typeMapping: TypeMapping) {
    const client = createClient({ url: own().url, RESP: 3, commandOptions: { typeMapping } });
    client.on('error', () => undefined);
    await client.connect();
    closers.push(() => {
      client.destroy();
    });
    return client;
  }

  it('reads records through a RESP3 client that maps strings to buffers', async () => {
    const prefix = freshPrefix();
    const client = await resp3Client({ [RESP_TYPES.BLOB_STRING]: Buffer });
    expect(await client.sendCommand(['ECHO', 'x'])).toBeInstanceOf(Buffer);
    const store = redisStore({ client, prefix });
    const now = Date.now();
    const user = freshUser();
    const id = freshId(user);
    await store.write(id, change(now, { userTag: user, set: { a: '"ü"' }, flashSet: { f: '1' } }));
    expect(await store.get(id)).toEqual({
      createdAt: now,
      lastSeenAt: now,
      userTag: user,
      data: { a: '"ü"' },
      flash: { f: '1' },
    });
    expect(await store.list(user, now)).toEqual([{ id, createdAt: now, lastSeenAt: now }]);
    expect(await store.takeFlash(id, 'f')).toBe('1');
  });

  it('reads records whatever a RESP3 client maps a hash reply to: object, Map or array', async () => {
    const prefix = freshPrefix();
    const now = Date.now();
    const id = freshId(freshUser());
    const writer = redisStore({ client: await resp3Client({}), prefix });
    const set = JSON.parse('{ "a": "1", "__proto__": "2" }') as Record<string, string>;
    await writer.write(id, change(now, { set, flashSet: { f: '3' } }));
    for (const mapping of [Object, Map, Array]) {
      const client = await resp3Client({ [RESP_TYPES.MAP]: mapping });
      const reply = await client.sendCommand(['HGETALL', `${prefix}{${id}}:${id}`]);
      const shape = reply instanceof Map ? 'Map' : Array.isArray(reply) ? 'Array' : typeof reply;
      expect(shape).toBe(mapping === Object ? 'object' : mapping.name);
      const store = redisStore({ client, prefix });
      const record = await store.get(id);
      expect({ ...record?.data }, mapping.name).toEqual({ a: '1', ['__proto__']: '2' });
      expect({ ...record?.flash }).toEqual({ f: '3' });
      expect(record?.createdAt).toBe(now);
    }
  });
});
