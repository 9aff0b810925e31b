/**
 * The Lua scripts of the Redis store (src/store/redis.ts), one per store operation.
 *
 * Each operation runs as one script so that Redis applies it atomically: a write that
 * checks the record exists, changes it and moves its index entry cannot interleave with a
 * revocation, and two requests taking the same flash cannot both read it. Doing the same
 * from JavaScript would need WATCH/MULTI retries, which node-redis clusters and ioredis
 * clusters handle differently, and a read-modify-write of the index would lose entries to
 * parallel writes.
 *
 * Every key a script touches shares one hash slot (the store's key layout puts a user's
 * records and index under the same `{userTag}` hash tag), so the scripts run unchanged on
 * Redis Cluster. Scripts that walk a user's index compute the record keys from the
 * members: they cannot be declared in KEYS up front without reading the index from
 * JavaScript first, which is the read-modify-write the scripts exist to avoid.
 *
 * Calling convention, the same for all: `ARGV[1]` is the key prefix exactly as the server
 * sees it (the store's prefix after any client-side prefix such as ioredis's `keyPrefix`),
 * so keys built inside a script match the keys the client passed in KEYS.
 */
import { sha1 } from '../internal/sha1.js';

/** A script's source and the SHA-1 that EVALSHA names it by. */
export interface RedisScript {
  /** The Lua source, for EVAL when the server does not have it cached. */
  readonly source: string;
  /** Lowercase hex SHA-1 of `source`, for EVALSHA. */
  readonly sha: string;
}

/**
 * Shared by every script: key names, and the upkeep of a user's index. The slot tag
 * mirrors `slotTagOf` (src/store/session-id.ts) so that a script finds a member's record
 * under the same key the store wrote it to.
 */
const PRELUDE = `
local prefix = ARGV[1]
local function slot_tag(id)
  if string.byte(id, 23) == 46 and string.find(string.sub(id, 1, 22), '^[%w_%-]+$') then
    return string.sub(id, 1, 22)
  end
  return id
end
local function record_key(id)
  return prefix .. '{' .. slot_tag(id) .. '}:' .. id
end
local function index_key(tag)
  return prefix .. '{' .. tag .. '}:user'
end
-- Calls fn with the items of list in parts of at most 4000 (whole groups of size), so
-- that no unpack goes past Lua's limit on a call's arguments.
local function each_chunk(list, size, fn)
  local part = {}
  for i = 1, #list do
    part[#part + 1] = list[i]
    if #part >= 4000 and #part % size == 0 then
      fn(part)
      part = {}
    end
  end
  if #part > 0 then fn(part) end
end
-- Members scored below now have ended; the index then lives as long as its longest member,
-- so an index nobody touches again still goes away.
local function tidy(index, now)
  if now then
    redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. now)
  end
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', index, last[2])
  end
end
`;

/**
 * KEYS: record. Returns HGETALL's flat field/value list. Only for ioredis clusters: they send
 * a command flagged read-only, as HGETALL is, to a replica when `scaleReads` says so, and a
 * replica may not have the latest revocation yet; a script always runs on the master.
 * Every other client reads with a plain HGETALL (several times cheaper for Redis).
 */
const READ = `
return redis.call('HGETALL', KEYS[1])
`;

/**
 * KEYS: record, then the user's index when the change has a user. ARGV: prefix, id, mode,
 * createdAt, lastSeenAt, expiresAt, expiresAt as whole ms, userTag, n, n field/value pairs
 * to set, then the fields to delete. Returns 1, or 0 for an update of a missing record or
 * any write to a move marker (a record key holding only \`m\`, see MARK_MOVED).
 *
 * Every write of a request goes through here, so it makes as few calls as it can: one
 * HMGET for what it checks, one HSET, one HDEL when something goes, and the expiry and the
 * index only when the session's end or user changed (a session with a fixed end, maxAge
 * alone, keeps both as they are). A Redis call from Lua costs about as much as a command.
 */
const WRITE = `
local record, id, now = KEYS[1], ARGV[2], ARGV[5]
local held = redis.call('HMGET', record, 'm', 'c', 'u', 'e')
if held[1] then
  return 0
end
local existed, old, old_end = held[2] ~= false, held[3], held[4]
if ARGV[3] == 'update' and not existed then
  return 0
end
local tag = false
if KEYS[2] then tag = ARGV[8] end
local set = { 's', now, 'e', ARGV[6] }
-- A parallel first write of the same session may have created the record: keep its time.
if not existed then
  set[#set + 1] = 'c'
  set[#set + 1] = ARGV[4]
end
if tag then
  set[#set + 1] = 'u'
  set[#set + 1] = tag
end
local first_deleted = 10 + 2 * tonumber(ARGV[9])
for i = 10, first_deleted - 1 do
  set[#set + 1] = ARGV[i]
end
each_chunk(set, 2, function(part) redis.call('HSET', record, unpack(part)) end)
local deleted = {}
if old and not tag then deleted[1] = 'u' end
for i = first_deleted, #ARGV do
  deleted[#deleted + 1] = ARGV[i]
end
each_chunk(deleted, 1, function(part) redis.call('HDEL', record, unpack(part)) end)
local live = true
-- The expiry was set with this same end by the write or touch that stored it; a record
-- whose expiry was taken away outside the store keeps none until its end changes.
if not existed or old_end ~= ARGV[6] then
  -- An expiry already past deletes the record at once: then it leaves the index too.
  redis.call('PEXPIREAT', record, ARGV[7])
  live = redis.call('EXISTS', record) == 1
end
-- Only reached when an id does not carry its user's tag (the engine never does that):
-- the record then leaves its old user's index rather than stay revocable there.
if old and old ~= tag then
  local previous = index_key(old)
  redis.call('ZREM', previous, id)
  tidy(previous, now)
end
if tag and (old_end ~= ARGV[6] or old ~= tag or not live) then
  if live then
    redis.call('ZADD', KEYS[2], ARGV[7], id)
  else
    redis.call('ZREM', KEYS[2], id)
  end
  tidy(KEYS[2], now)
end
return 1
`;

/**
 * KEYS: record, then the index of the id's user tag when it has one. ARGV: prefix, id,
 * lastSeenAt, expiresAt, expiresAt as whole ms. Returns 1, or 0 when the record is gone.
 */
const TOUCH = `
local record, id, now = KEYS[1], ARGV[2], ARGV[3]
if redis.call('HEXISTS', record, 'c') == 0 then
  return 0
end
local tag = redis.call('HGET', record, 'u')
redis.call('HSET', record, 's', now, 'e', ARGV[4])
redis.call('PEXPIREAT', record, ARGV[5])
if tag then
  local index = index_key(tag)
  if redis.call('EXISTS', record) == 1 then
    redis.call('ZADD', index, ARGV[5], id)
  else
    redis.call('ZREM', index, id)
  end
  tidy(index, now)
end
return 1
`;

/** KEYS: record. ARGV: prefix, the flash field. Returns its value once, then nil. */
const TAKE_FLASH = `
local value = redis.call('HGET', KEYS[1], ARGV[2])
if value then
  redis.call('HDEL', KEYS[1], ARGV[2])
end
return value
`;

/**
 * KEYS: record, then the index of the id's user tag when it has one. ARGV: prefix, id.
 * The record's own user tag is read too, so a record indexed under another tag than its
 * id's leaves that index as well. Returns 1 when there was a record (an ended one is gone
 * already: its key expired with it), 0 when there was none, or for a move marker the id
 * it names (the marker is deleted).
 */
const DELETE = `
local record, id = KEYS[1], ARGV[2]
local moved = redis.call('HGET', record, 'm')
if moved then
  redis.call('DEL', record)
  return moved
end
local old = redis.call('HGET', record, 'u')
local existed = redis.call('DEL', record)
local function leave(index)
  redis.call('ZREM', index, id)
  tidy(index)
end
if KEYS[2] then
  leave(KEYS[2])
end
if old and index_key(old) ~= KEYS[2] then
  leave(index_key(old))
end
return existed
`;

/**
 * KEYS: record, then the index of the id's user tag when it has one. ARGV: prefix, id,
 * the id moved to, until as whole ms. Replaces a live record with a marker (a hash of the
 * one field \`m\`) that expires at until, and takes the id out of its index. Returns the
 * record's HGETALL list as it was, or an empty list when there was no live record.
 */
const MARK_MOVED = `
local record, id = KEYS[1], ARGV[2]
if redis.call('HEXISTS', record, 'c') == 0 then
  return {}
end
local fields = redis.call('HGETALL', record)
local old = redis.call('HGET', record, 'u')
redis.call('DEL', record)
redis.call('HSET', record, 'm', ARGV[3])
redis.call('PEXPIREAT', record, ARGV[4])
if KEYS[2] then
  redis.call('ZREM', KEYS[2], id)
  tidy(KEYS[2])
end
if old and index_key(old) ~= KEYS[2] then
  redis.call('ZREM', index_key(old), id)
  tidy(index_key(old))
end
return fields
`;

/**
 * KEYS: index. ARGV: prefix, now. Returns a flat id, createdAt, lastSeenAt list of the
 * members whose record has not ended at now; members whose record is gone, malformed or
 * ended leave the index.
 */
const LIST = `
local index, now = KEYS[1], ARGV[2]
redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. now)
local found = {}
for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local fields = redis.call('HMGET', record_key(id), 'c', 's', 'e')
  local ends = tonumber(fields[3])
  if fields[1] and fields[2] and ends and ends > tonumber(now) then
    found[#found + 1] = id
    found[#found + 1] = fields[1]
    found[#found + 1] = fields[2]
  else
    redis.call('ZREM', index, id)
  end
end
tidy(index)
return found
`;

/**
 * KEYS: index. ARGV: prefix, then the ids to keep. Deletes every other member's record and
 * index entry; returns how many records there were to delete.
 */
const DELETE_USER = `
local index = KEYS[1]
local keep = {}
for i = 2, #ARGV do
  keep[ARGV[i]] = true
end
local deleted = 0
for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  if not keep[id] then
    deleted = deleted + redis.call('DEL', record_key(id))
    redis.call('ZREM', index, id)
  end
end
tidy(index)
return deleted
`;

const utf8 = new TextEncoder();

function script(body: string): RedisScript {
  const source = PRELUDE + body;
  let sha = '';
  for (const byte of sha1(utf8.encode(source))) sha += byte.toString(16).padStart(2, '0');
  return { source, sha };
}

/** The store's scripts by operation. */
export const SCRIPTS: {
  readonly read: RedisScript;
  readonly write: RedisScript;
  readonly touch: RedisScript;
  readonly takeFlash: RedisScript;
  readonly delete: RedisScript;
  readonly markMoved: RedisScript;
  readonly list: RedisScript;
  readonly deleteUser: RedisScript;
} = {
  read: script(READ),
  write: script(WRITE),
  touch: script(TOUCH),
  takeFlash: script(TAKE_FLASH),
  delete: script(DELETE),
  markMoved: script(MARK_MOVED),
  list: script(LIST),
  deleteUser: script(DELETE_USER),
};
