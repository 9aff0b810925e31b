/**
 * How a store-mode session id names its user, so that a Redis Cluster keeps every
 * per-user operation in one hash slot. A session that belongs to a user (the config's
 * `userKey` gives one) has the id `<userTag>.<random>`; any other session's id is the
 * random part alone. A store keys the record of an id under its slot tag (the user tag
 * when there is one, else the whole id), and a user's index under the user tag, so a
 * user's records and index share a slot and one script can revoke them all.
 *
 * The user tag is a hash of the user key, so user keys (e-mail addresses, say) never
 * appear in store keys or session ids.
 */
import { encodeBase64url } from '../internal/base64url.js';
import { LruCache } from '../internal/lru.js';
import { sha256 } from '../internal/sha256.js';

/** Characters of a user tag: 128 bits of SHA-256 in base64url. */
const USER_TAG_CHARS = 22;
/** `<userTag>.` at the start of an id. */
const USER_ID = /^([A-Za-z0-9_-]{22})\./;

const utf8 = new TextEncoder();

/**
 * Tags of the user keys seen lately: every write of a signed-in session needs its user's
 * tag, and a SHA-256 in JavaScript per write showed in profiles.
 */
const recentTags = new LruCache<string, string>(1024);

/** The user tag of `userKey`: the same on every process, never the key itself. */
export function userTagOf(userKey: string): string {
  let tag = recentTags.get(userKey);
  if (tag === undefined) {
    tag = encodeBase64url(sha256(utf8.encode(`sealed-session user\0${userKey}`))).slice(
      0,
      USER_TAG_CHARS,
    );
    recentTags.set(userKey, tag);
  }
  return tag;
}

/**
 * A session id for `userTag` (or none) around a random part. A random part of no user that
 * happens to look like `<userTag>.` (a `generateId` of the application's) gets a `_` in
 * front, so it is never read as a user's id.
 */
export function storeSessionId(userTag: string | undefined, random: string): string {
  if (userTag !== undefined) return `${userTag}.${random}`;
  return USER_ID.test(random) ? `_${random}` : random;
}

/** The user tag an id carries, or undefined for a session of no user. */
export function userTagInId(id: string): string | undefined {
  return USER_ID.exec(id)?.[1];
}

/** The hash-slot tag of the record of `id`: its user tag, else the id itself. */
export function slotTagOf(id: string): string {
  return userTagInId(id) ?? id;
}
