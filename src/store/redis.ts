/**
 * `sealed-session/redis`: a {@link SessionStore} over Redis, through a client the user
 * already has (node-redis v5 `createClient()` / `createCluster()`, or ioredis `Redis` /
 * `Redis.Cluster`).
 *
 * Why it is built as it is:
 *
 * - **No import of a Redis package.** Both clients are optional peers, so users of the
 *   other client (or of no store) must still install and compile: the client is recognised
 *   by its shape, and only the few methods the store calls are typed here.
 * - **Hash tags.** The record of an id is `<prefix>{<slot tag>}:<id>` and a user's index
 *   `<prefix>{<user tag>}:user`. A user's session ids start with the user tag
 *   (src/store/session-id.ts), so on Redis Cluster a user's records and index share one
 *   hash slot, and "sign out everywhere" is one atomic script on one node.
 * - **One Lua script per operation that changes something** (src/store/redis-scripts.ts).
 *   A check-then-write from JavaScript would let an update bring back a session that was
 *   just revoked, and a read-modify-write of the index would drop entries written in
 *   between; a script runs whole, on the node that owns the slot, on every client alike.
 *   A read is one HGETALL, atomic as any command, and several times cheaper for Redis than
 *   the same call from a script (on an ioredis cluster, a script: see SCRIPTS.read).
 * - **Expiry.** The engine checks every time itself; PEXPIREAT on records and indexes only
 *   lets Redis collect what has ended, and each script that touches an index drops the
 *   members that have ended, so an index never grows without bound.
 */
import { SessionError } from '../errors.js';
import { SCRIPTS, type RedisScript } from './redis-scripts.js';
import { slotTagOf, userTagInId } from './session-id.js';
import type { SessionStore, StoreChange, StoredRecord, StoredSessionInfo } from './store.js';

/**
 * A node-redis client or client pool (`createClient()`, `createClientPool()`): commands go
 * through `sendCommand(args)`.
 */
export interface NodeRedisClient {
  /** Sends one command, its name first; the store sends HGETALL, EVALSHA and EVAL. */
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * A node-redis cluster (`createCluster()`): `sendCommand(firstKey, isReadonly, args)`
 * sends a command to the node that owns `firstKey`'s slot.
 */
export interface NodeRedisCluster {
  /** Sends one command to the master of `firstKey`'s slot (the store never reads replicas). */
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  /** Only node-redis clusters have it: it tells them from single clients. */
  getSlotMaster(slot: number): unknown;
}

/** An ioredis client or cluster (`new Redis()`, `new Redis.Cluster()`). */
export interface IoRedisClient {
  /** EVALSHA: how the store runs each of its scripts. */
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** EVAL: when the server answered NOSCRIPT (restart, failover, SCRIPT FLUSH). */
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /**
   * Any command, its reply left as the server sent it: HGETALL, whose reply ioredis's own
   * `hgetall` turns into an object. With `evalsha`, it also tells ioredis from node-redis
   * (which has `eval` too).
   */
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** A client {@link redisStore} accepts. */
export type RedisClient = NodeRedisClient | NodeRedisCluster | IoRedisClient;

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected client: node-redis v5 (`createClient()`, `createCluster()`) or ioredis
   * (`new Redis()`, `new Redis.Cluster()`). The store never connects or closes it.
   * An ioredis `keyPrefix` is honoured, before `prefix`.
   */
  readonly client: RedisClient;
  /**
   * The start of every key the store writes. Hash tags (`{`, `}`) are not allowed: the
   * store places its own, so that a user's keys share a cluster slot.
   * @default 'sess:'
   */
  readonly prefix?: string | undefined;
  /**
   * The deadline of each call in milliseconds, which the session engine enforces.
   * @default 1500
   */
  readonly timeout?: number | undefined;
}

/** Default of {@link RedisStoreOptions.prefix}. */
const DEFAULT_PREFIX = 'sess:';
/** Default of {@link RedisStoreOptions.timeout}. */
const DEFAULT_TIMEOUT_MS = 1500;
const OPTION_KEYS = new Set(['client', 'prefix', 'timeout']);

/** The two ways the store talks to the client it was given. */
interface RedisCommands {
  /** Runs `script` with `keys` and `args` (after the prefix, which this adds). */
  runScript(
    script: RedisScript,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown>;
  /**
   * HGETALL of `key`, a plain command: a read needs no script (one command is atomic), and
   * a script costs Redis several times the command's CPU (bench/results/NOTES.md).
   */
  readHash(key: string): Promise<unknown>;
}

function invalid(rule: string): SessionError {
  return new SessionError('ERR_CONFIG_INVALID', `Invalid redisStore options: ${rule}`);
}

/**
 * A session store in Redis or Redis Cluster.
 *
 * Records are hashes under `<prefix>{<slot tag>}:<id>`, a user's index a sorted set under
 * `<prefix>{<user tag>}:user`; every operation is one Lua script on one hash slot, run by
 * EVALSHA (EVAL when the server lost its script cache).
 *
 * @param options - the client, and optionally the key prefix and the per-call deadline
 * @returns the store, to pass as the session config's `store`
 * @throws SessionError `ERR_CONFIG_INVALID` when the options are not an object, name an
 *   unknown option, the client is not a node-redis or ioredis client (or is a node-redis
 *   sentinel), the prefix is not a string or holds `{` or `}`, or the timeout is not a
 *   positive number of milliseconds
 */
export function redisStore(options: RedisStoreOptions): SessionStore {
  const input: unknown = options;
  if (typeof input !== 'object' || input === null) throw invalid('options must be an object');
  for (const key of Object.keys(input)) {
    if (!OPTION_KEYS.has(key)) throw invalid(`${key} is not an option`);
  }
  const prefix: unknown = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || prefix.includes('{') || prefix.includes('}')) {
    throw invalid('prefix must be a string without { or } (the store places the hash tags)');
  }
  const timeout: unknown = options.timeout ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw invalid('timeout must be a positive number of milliseconds');
  }
  const commands = commandsFor(options.client, prefix);
  const run: RedisCommands['runScript'] = (script, keys, args) =>
    commands.runScript(script, keys, args);

  const recordKey = (id: string): string => `${prefix}{${slotTagOf(id)}}:${id}`;
  const indexKey = (userTag: string): string => `${prefix}{${userTag}}:user`;
  /** The record's key, then its id's user index when the id carries a user tag. */
  const keysOf = (id: string): string[] => {
    const userTag = userTagInId(id);
    return userTag === undefined ? [recordKey(id)] : [recordKey(id), indexKey(userTag)];
  };

  return {
    kind: 'redis',
    timeout,

    async get(id: string): Promise<StoredRecord | undefined> {
      return parseRecord(hashReply(await commands.readHash(recordKey(id))));
    },

    async write(id: string, change: StoreChange): Promise<boolean> {
      const keys = [recordKey(id)];
      if (change.userTag !== undefined) keys.push(indexKey(change.userTag));
      const toSet: string[] = [];
      for (const [key, json] of Object.entries(change.set)) toSet.push(`d:${key}`, json);
      for (const [key, json] of Object.entries(change.flashSet)) toSet.push(`f:${key}`, json);
      const args = [
        id,
        change.mode,
        String(change.createdAt),
        String(change.lastSeenAt),
        String(change.expiresAt),
        wholeMs(change.expiresAt),
        change.userTag ?? '',
        String(toSet.length / 2),
        ...toSet,
        ...change.unset.map((key) => `d:${key}`),
        ...change.flashUnset.map((key) => `f:${key}`),
      ];
      return integerReply(await run(SCRIPTS.write, keys, args)) === 1;
    },

    async touch(id: string, lastSeenAt: number, expiresAt: number): Promise<boolean> {
      const args = [id, String(lastSeenAt), String(expiresAt), wholeMs(expiresAt)];
      return integerReply(await run(SCRIPTS.touch, keysOf(id), args)) === 1;
    },

    async takeFlash(id: string, key: string): Promise<string | undefined> {
      return textReply(await run(SCRIPTS.takeFlash, [recordKey(id)], [`f:${key}`]));
    },

    async delete(id: string): Promise<boolean | string> {
      const reply = await run(SCRIPTS.delete, keysOf(id), [id]);
      // An integer reply is the count of records deleted; a text reply, a move marker's target.
      if (typeof reply === 'number' || typeof reply === 'bigint') return integerReply(reply) === 1;
      const movedTo = textReply(reply);
      if (movedTo === undefined) throw unexpected();
      return movedTo;
    },

    async markMoved(id: string, to: string, until: number): Promise<StoredRecord | undefined> {
      const args = [id, to, wholeMs(until)];
      return parseRecord(arrayReply(await run(SCRIPTS.markMoved, keysOf(id), args)));
    },

    async list(userTag: string, now: number): Promise<StoredSessionInfo[]> {
      const flat = arrayReply(await run(SCRIPTS.list, [indexKey(userTag)], [String(now)]));
      const sessions: StoredSessionInfo[] = [];
      for (let i = 0; i + 2 < flat.length; i += 3) {
        const id = textReply(flat[i]);
        const createdAt = timeOf(textReply(flat[i + 1]));
        const lastSeenAt = timeOf(textReply(flat[i + 2]));
        if (id === undefined || createdAt === undefined || lastSeenAt === undefined) continue;
        sessions.push({ id, createdAt, lastSeenAt });
      }
      return sessions;
    },

    async deleteUser(userTag: string, except: readonly string[]): Promise<number> {
      return integerReply(await run(SCRIPTS.deleteUser, [indexKey(userTag)], except));
    },
  };
}

/**
 * How to talk to `client`, after telling which client it is by its shape. ioredis is
 * checked first: it has a `sendCommand` too, of another kind.
 */
function commandsFor(client: unknown, prefix: string): RedisCommands {
  if (typeof client !== 'object' || client === null) {
    throw invalid('client must be a node-redis or ioredis client');
  }
  const shape = client as Record<string, unknown>;
  if (
    typeof shape.evalsha === 'function' &&
    typeof shape.eval === 'function' &&
    typeof shape.call === 'function'
  ) {
    return ioredisCommands(client as IoRedisClient, prefix);
  }
  if (typeof shape.sendCommand !== 'function') {
    throw invalid('client must be a node-redis or ioredis client');
  }
  if (typeof shape.getSentinelNode === 'function') {
    throw invalid('client must be a node-redis client or cluster, not a sentinel');
  }
  if (typeof shape.getSlotMaster === 'function') {
    const cluster = client as NodeRedisCluster;
    return nodeRedisCommands(prefix, (firstKey, args) =>
      cluster.sendCommand(firstKey, false, args),
    );
  }
  const single = client as NodeRedisClient;
  return nodeRedisCommands(prefix, (_firstKey, args) => single.sendCommand(args));
}

/** node-redis: EVALSHA, and EVAL once more when the server answers NOSCRIPT. */
function nodeRedisCommands(
  prefix: string,
  send: (firstKey: string | undefined, args: string[]) => Promise<unknown>,
): RedisCommands {
  return {
    async runScript(script, keys, args) {
      const rest = [String(keys.length), ...keys, prefix, ...args];
      try {
        return await send(keys[0], ['EVALSHA', script.sha, ...rest]);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return send(keys[0], ['EVAL', script.source, ...rest]);
      }
    },
    readHash: (key) => send(key, ['HGETALL', key]),
  };
}

/**
 * ioredis: the same through its `evalsha`/`eval` and `call`. ioredis adds its `keyPrefix`
 * to every command's keys but not to ARGV, so the scripts get it in front of the prefix
 * they build keys from. (node-redis clusters are told every command is not read-only, so
 * they never read from a replica.)
 */
function ioredisCommands(client: IoRedisClient, prefix: string): RedisCommands {
  const options = (client as { options?: unknown }).options;
  const keyPrefix: unknown =
    typeof options === 'object' && options !== null
      ? (options as { keyPrefix?: unknown }).keyPrefix
      : undefined;
  if (keyPrefix !== undefined && typeof keyPrefix !== 'string') {
    throw invalid('an ioredis keyPrefix must be a string');
  }
  const serverPrefix = (keyPrefix ?? '') + prefix;
  const runScript: RedisCommands['runScript'] = async (script, keys, args) => {
    const rest = [...keys, serverPrefix, ...args];
    try {
      return await client.evalsha(script.sha, keys.length, ...rest);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(script.source, keys.length, ...rest);
    }
  };
  // A cluster may send HGETALL to a replica (`scaleReads`), which can lag behind a
  // revocation: there a read is a script, which always runs on the master.
  const isCluster = (client as { isCluster?: unknown }).isCluster === true;
  return {
    runScript,
    readHash: isCluster
      ? (key) => runScript(SCRIPTS.read, [key], [])
      : (key) => client.call('HGETALL', key),
  };
}

/** The server's script cache lost the script (restart, failover, SCRIPT FLUSH). */
function isNoScript(error: unknown): boolean {
  const message: unknown = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.startsWith('NOSCRIPT');
}

/** A PEXPIREAT time and index score: whole ms, rounded up so nothing ends early. */
function wholeMs(time: number): string {
  return String(Math.ceil(time));
}

const utf8 = new TextDecoder();

/** A bulk string reply as text: clients that map strings to buffers give bytes. */
function textReply(reply: unknown): string | undefined {
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return utf8.decode(reply);
  if (reply === null || reply === undefined) return undefined;
  throw unexpected();
}

function integerReply(reply: unknown): number {
  const value = typeof reply === 'bigint' || typeof reply === 'string' ? Number(reply) : reply;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw unexpected();
  return value;
}

function arrayReply(reply: unknown): readonly unknown[] {
  if (!Array.isArray(reply)) throw unexpected();
  return reply;
}

/**
 * HGETALL's reply as a flat field/value list, in every shape a client gives it: a flat
 * array (RESP2, ioredis's `call`, or a RESP3 map that node-redis's type mapping makes an
 * array), an object (a RESP3 map by default) or a Map (by type mapping).
 */
function hashReply(reply: unknown): readonly unknown[] {
  if (Array.isArray(reply)) return reply;
  if (reply instanceof Map) return [...(reply as Map<unknown, unknown>)].flat();
  if (typeof reply === 'object' && reply !== null && !(reply instanceof Uint8Array)) {
    return Object.entries(reply).flat();
  }
  throw unexpected();
}

function unexpected(): Error {
  return new TypeError('sealed-session redis store: unexpected reply from the Redis client');
}

/** A stored time, or undefined for anything but the decimal number the store wrote. */
function timeOf(text: string | undefined): number | undefined {
  if (text === undefined || text === '' || text.trim() !== text) return undefined;
  const time = Number(text);
  return Number.isFinite(time) ? time : undefined;
}

/** HGETALL's flat field/value list as a record, or undefined when missing or malformed. */
function parseRecord(flat: readonly unknown[]): StoredRecord | undefined {
  let createdAt: number | undefined;
  let lastSeenAt: number | undefined;
  let userTag: string | undefined;
  // Without a prototype: a `__proto__` key stays a key, and no inherited name
  // (`constructor`, `toString`) reads as a value.
  const data = Object.create(null) as Record<string, string>;
  const flash = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = textReply(flat[i]);
    const value = textReply(flat[i + 1]);
    if (field === undefined || value === undefined) continue;
    if (field.startsWith('d:')) data[field.slice(2)] = value;
    else if (field.startsWith('f:')) flash[field.slice(2)] = value;
    else if (field === 'c') createdAt = timeOf(value);
    else if (field === 's') lastSeenAt = timeOf(value);
    else if (field === 'u') userTag = value;
  }
  if (createdAt === undefined || lastSeenAt === undefined) return undefined;
  return { createdAt, lastSeenAt, userTag, data, flash };
}
