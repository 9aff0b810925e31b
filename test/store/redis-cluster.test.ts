/**
 * The Redis store on a Redis Cluster of three masters this file starts for itself: the
 * shared store contract through a node-redis cluster and an ioredis cluster, then what
 * makes the store cluster-safe: every key of one user's operations hashes to one slot (so
 * each script runs whole on one node), different users spread over the nodes, the scripts
 * come back after every node lost them, and revocation racing with writes stays atomic.
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/store/redis.js';
import { storeSessionId, userTagOf } from '../../src/store/session-id.js';
import type { SessionStore } from '../../src/store/store.js';
import { change, describeStoreContract } from './contract.js';
import { startCluster, type RedisTestCluster } from './redis-servers.js';

const HOUR = 3_600_000;

type NodeRedis = ReturnType<typeof createClient>;

let cluster: RedisTestCluster | undefined;
/** One plain client per master, to look at what each node holds. */
const admins: NodeRedis[] = [];
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  for (const node of cluster.nodes) {
    const admin = createClient({ url: node.url });
    admin.on('error', () => undefined);
    await admin.connect();
    admins.push(admin);
  }
});

afterAll(async () => {
  for (const close of closers) close();
  for (const admin of admins) admin.destroy();
  await cluster?.stop();
});

/** The cluster this file started. */
function own(): RedisTestCluster {
  if (cluster === undefined) throw new Error('the cluster did not start');
  return cluster;
}

async function nodeRedisCluster(): Promise<ReturnType<typeof createCluster>> {
  const client = createCluster({ rootNodes: own().rootNodes.map((node) => ({ ...node })) });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function ioredisCluster(): Cluster {
  const client = new Cluster(own().startupNodes.map((node) => ({ ...node })));
  client.on('error', () => undefined);
  return client;
}

function freshPrefix(): string {
  return `test-sess:${randomUUID()}:`;
}

function freshUser(): string {
  return userTagOf(`user-${randomUUID()}@example.com`);
}

function freshId(userTag?: string): string {
  return storeSessionId(userTag, randomUUID());
}

describeStoreContract('redisStore, node-redis cluster of 3 masters', async () => {
  const client = await nodeRedisCluster();
  return {
    store: redisStore({ client, prefix: freshPrefix() }),
    close: () => client.close(),
  };
});

describeStoreContract('redisStore, ioredis cluster of 3 masters', () => {
  const client = ioredisCluster();
  return Promise.resolve({
    store: redisStore({ client, prefix: freshPrefix() }),
    async close() {
      await client.quit();
    },
  });
});

describe('redisStore on a cluster', () => {
  async function stores(prefix: string): Promise<SessionStore[]> {
    const viaNode = await nodeRedisCluster();
    const viaIo = ioredisCluster();
    closers.push(
      () => {
        viaNode.destroy();
      },
      () => {
        viaIo.disconnect();
      },
    );
    return [redisStore({ client: viaNode, prefix }), redisStore({ client: viaIo, prefix })];
  }

  /** Every key under `prefix` on each master, by node. */
  async function keysByNode(prefix: string): Promise<string[][]> {
    return Promise.all(admins.map((admin) => admin.keys(`${prefix}*`)));
  }

  async function slotOf(key: string): Promise<number> {
    return Number(await admins[0]!.sendCommand(['CLUSTER', 'KEYSLOT', key]));
  }

  it('keeps every key of one user in one slot, through every operation, on both clients', async () => {
    const prefix = freshPrefix();
    for (const store of await stores(prefix)) {
      const now = Date.now();
      const user = freshUser();
      const ids = [freshId(user), freshId(user), freshId(user)];
      for (const id of ids) {
        await store.write(
          id,
          change(now, { userTag: user, set: { a: '1' }, flashSet: { f: '2' } }),
        );
      }
      expect(await store.touch(ids[0]!, now + 1, now + 2 * HOUR)).toBe(true);
      expect(await store.takeFlash(ids[1]!, 'f')).toBe('2');
      expect((await store.get(ids[2]!))?.data).toEqual({ a: '1' });
      expect(await store.list(user, now)).toHaveLength(3);

      const held = (await keysByNode(`${prefix}{${user}}`)).map((keys) => keys.sort());
      const expected = [`${prefix}{${user}}:user`, ...ids.map((id) => `${prefix}{${user}}:${id}`)];
      // All four keys on one node, and in one slot there.
      expect(held.filter((keys) => keys.length > 0)).toEqual([expected.sort()]);
      const slots = new Set(await Promise.all(expected.map(slotOf)));
      expect(slots.size).toBe(1);

      await store.delete(ids[0]!);
      expect(await store.deleteUser(user, [ids[1]!])).toBe(1);
      expect((await store.list(user, now)).map((info) => info.id)).toEqual([ids[1]]);
      await store.delete(ids[1]!);
      expect((await keysByNode(`${prefix}{${user}}`)).flat()).toEqual([]);
    }
  });

  it('spreads different users over the masters', async () => {
    const prefix = freshPrefix();
    const [store] = await stores(prefix);
    const now = Date.now();
    for (let i = 0; i < 30; i++) {
      const user = freshUser();
      await store!.write(freshId(user), change(now, { userTag: user }));
      await store!.write(freshId(), change(now));
    }
    const counts = (await keysByNode(prefix)).map((keys) => keys.length);
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(90);
    // 60 random slots all on one of three masters would be a broken layout, not chance.
    expect(counts.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('runs again after every master lost its scripts (SCRIPT FLUSH)', async () => {
    const prefix = freshPrefix();
    for (const store of await stores(prefix)) {
      await Promise.all(admins.map((admin) => admin.sendCommand(['SCRIPT', 'FLUSH'])));
      const now = Date.now();
      const user = freshUser();
      const id = freshId(user);
      expect(await store.write(id, change(now, { userTag: user, flashSet: { f: '1' } }))).toBe(
        true,
      );
      expect(await store.takeFlash(id, 'f')).toBe('1');
      expect((await store.list(user, now)).map((info) => info.id)).toEqual([id]);
      expect(await store.deleteUser(user, [])).toBe(1);
    }
  });

  it('deleteUser racing with updates never leaves a deleted session', async () => {
    const prefix = freshPrefix();
    const both = await stores(prefix);
    for (let round = 0; round < 3; round++) {
      const now = Date.now();
      const user = freshUser();
      const ids = Array.from({ length: 15 }, () => freshId(user));
      for (const id of ids) await both[0]!.write(id, change(now, { userTag: user }));
      const kept = ids[0]!;
      const updates: Promise<boolean>[] = [];
      let deleted: Promise<number> | undefined;
      for (let wave = 0; wave < 4; wave++) {
        for (const [i, id] of ids.entries()) {
          updates.push(
            both[(i + wave) % 2]!.write(
              id,
              change(now, { mode: 'update', userTag: user, set: { [`w${wave}`]: '1' } }),
            ),
          );
        }
        if (wave === 1) deleted = both[round % 2]!.deleteUser(user, [kept]);
      }
      await Promise.all(updates);
      expect(await deleted).toBe(14);
      const left = (await keysByNode(`${prefix}{${user}}`)).flat().sort();
      expect(left).toEqual([`${prefix}{${user}}:${kept}`, `${prefix}{${user}}:user`].sort());
      expect(Object.keys((await both[1]!.get(kept))?.data ?? {}).sort()).toEqual([
        'w0',
        'w1',
        'w2',
        'w3',
      ]);
    }
  });
});
