/**
 * The session operations: load, update, clear, regenerate, seal and unseal a session for
 * one request, over the request's state, the token codec and the cookie I/O. It knows
 * only the {@link SessionTransport} of a request, never a framework.
 *
 * Writes of one session in one request run in one queue, in the order they were called,
 * and each is checked against the generation it was called in: a clear bumps the
 * generation, so an update or regenerate that started before a clear never lands after
 * it. An update is staged: the session's data changes only once its write succeeded.
 *
 * Fixed h3 defects: a cleared session never comes back from the request's cookie; the
 * cookie is really deleted; a token of a rotated-out password id still opens while its id
 * is in the map and is resealed under the current one; an invalid header falls back to
 * the cookie; a new session is written by useSession, not by every read; a write after the
 * headers went out is a clear error; at most one Set-Cookie per cookie.
 */
import { SessionError, isSessionError, type SessionErrorCode } from '../errors.js';
import type { Iron } from '../iron/create-iron.js';
import { iron as sharedIron } from '../iron/instance.js';
import { copyJson, parseSafe, setDataKey } from '../iron/json.js';
import { storeSessionId, userTagInId } from '../store/session-id.js';
import type { StoreChange, StoredRecord } from '../store/store.js';
import { chain, toPromise, type MaybePromise } from '../internal/maybe-promise.js';
import { logUnawaitedError, resolveConfig, type ResolvedConfig } from './config.js';
import {
  assertWritable,
  deleteSessionCookie,
  readSessionCookie,
  requestHeaderToken,
  writeSessionCookie,
} from './cookie-io.js';
import { LiveSession } from './live-session.js';
import {
  stateOf,
  type RequestContext,
  type SessionSource,
  type SessionState,
} from './request-state.js';
import {
  callStore,
  openRecord,
  planChange,
  applyKeys,
  userTagFor,
  userTagOfKey,
  valuesOf,
  type RecordSnapshot,
} from './store-records.js';
import { createTokenCodec, MAX_TOKEN_LENGTH, sessionEnd, type OpenedToken } from './token-codec.js';
import type {
  Session,
  RevokeSessionOptions,
  RevokeUserSessionsOptions,
  SessionConfig,
  SessionDataT,
  SessionInfo,
  SessionManager,
  SessionRejection,
  SessionUpdate,
  UserKey,
} from './types.js';
import { watchWrite } from './unawaited.js';
import { shouldWrite } from './write-policy.js';

/** The session operations of one engine; every function takes the request's context. */
export interface SessionEngine {
  /**
   * The request's session; loads it once, however many callers ask at the same time. A new
   * session is not written; an existing one is when the write policy says so.
   */
  getSession<T extends SessionDataT>(
    request: RequestContext,
    config: SessionConfig,
  ): Promise<Session<T>>;
  /**
   * The session with live accessors and write operations, written now when the write
   * policy says so (a new session, unless `saveUninitialized` is false; a rotated password,
   * a legacy seal, an idle renewal).
   */
  useSession<T extends SessionDataT>(
    request: RequestContext,
    config: SessionConfig,
    saveUninitialized?: boolean,
  ): Promise<SessionManager<T>>;
  /** Applies `update` to a staged copy of the data, writes it, then makes it the data. */
  updateSession<T extends SessionDataT>(
    request: RequestContext,
    config: SessionConfig,
    update?: SessionUpdate<T>,
  ): Promise<Session<T>>;
  /** Ends the session: deletes its cookie; later reads in this request start a new one. */
  clearSession(request: RequestContext, config: SessionConfig): Promise<void>;
  /** Gives the session a new id and creation time, keeping its data, and writes it. */
  regenerateSession<T extends SessionDataT>(
    request: RequestContext,
    config: SessionConfig,
  ): Promise<Session<T>>;
  /** Seals the request's session into a token, after the writes already called. */
  sealSession(request: RequestContext, config: SessionConfig): Promise<string>;
  /** Opens a token with this configuration. */
  unsealSession(config: SessionConfig, token: string): Promise<Session>;
  /** Keeps `value` under flash key `key` for the next request that reads it, and writes it. */
  setFlash(
    request: RequestContext,
    config: SessionConfig,
    key: string,
    value: unknown,
  ): Promise<void>;
  /** The flash value under `key`, removed as it is read (the session is written without it). */
  takeFlash(request: RequestContext, config: SessionConfig, key: string): Promise<unknown>;
  /** The live sessions of `userKey` in the config's store, oldest first. */
  listSessions(config: SessionConfig, userKey: UserKey): Promise<SessionInfo[]>;
  /** Deletes the record of session `sessionId`: its next request gets a fresh session. */
  revokeSession(
    config: SessionConfig,
    sessionId: string,
    options?: RevokeSessionOptions,
  ): Promise<boolean>;
  /** Deletes every session of `userKey` but those in `except`; gives how many. */
  revokeUserSessions(
    config: SessionConfig,
    userKey: UserKey,
    options?: RevokeUserSessionsOptions,
  ): Promise<number>;
}

/** What an engine is made of: its iron instance and its clock. */
export interface SessionEngineParts {
  readonly iron: Iron;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

/** What loading a request's session gives, before it is installed in the request's state. */
interface Loaded {
  readonly session: Session;
  readonly source: SessionSource;
  readonly sealedWithOldPassword: boolean;
  readonly legacySeal: boolean;
  readonly flash: Record<string, unknown> | undefined;
  /** The cookie's token was left unchecked (ERR_DERIVATION_LIMIT): do not write over it. */
  readonly tokenUnchecked: boolean;
  /** With a store: the session's record as read, if it has one. */
  readonly record: RecordSnapshot | undefined;
  /** With a store: the reference says the record was written. */
  readonly referenceStored: boolean;
  /** With a store: the id a reference named whose record was gone. */
  readonly goneId?: string | undefined;
}

/** What refusing a request's tokens found out, for the fresh session that replaces them. */
interface RefusedTokens {
  /** The cookie's token was left unchecked (ERR_DERIVATION_LIMIT): do not write over it. */
  unchecked: boolean;
  /** With a store: the id a reference named whose record was gone. */
  goneId: string | undefined;
  /** A clear came since the load began: its findings are not reported. */
  superseded?: () => boolean;
}

/** Errors that mean "this token is not a usable session": the request gets a fresh one. */
const TOKEN_ERRORS: ReadonlySet<SessionErrorCode> = new Set<SessionErrorCode>([
  'ERR_SEAL_INVALID',
  'ERR_SEAL_UNSEAL_FAILED',
  'ERR_SEAL_EXPIRED',
  'ERR_PASSWORD_NOT_FOUND',
  'ERR_DATA_INVALID',
  'ERR_SESSION_EXPIRED',
  'ERR_COOKIE_INVALID',
  'ERR_COOKIE_TOO_LARGE',
  'ERR_PURPOSE_MISMATCH',
  'ERR_PURPOSE_MISSING',
  'ERR_DERIVATION_LIMIT',
  'ERR_SESSION_REVOKED',
]);

/**
 * The resolved config of a revocation call, which needs a store.
 *
 * @throws SessionError `ERR_CONFIG_INVALID` without one
 */
function storeConfig(
  config: SessionConfig,
  operation: string,
  needsUserKey = false,
): ResolvedConfig {
  const resolved = resolveConfig(config);
  if (resolved.store === undefined) {
    throw new SessionError(
      'ERR_CONFIG_INVALID',
      `Invalid session config: ${operation} needs a store`,
    );
  }
  // Without userKey no session is indexed by user: the call would find none, silently.
  if (needsUserKey && resolved.userKey === undefined) {
    throw new SessionError(
      'ERR_CONFIG_INVALID',
      `Invalid session config: ${operation} needs userKey`,
    );
  }
  return resolved;
}

/**
 * The user tag of a user key given to a revocation call.
 *
 * @throws SessionError `ERR_CONFIG_INVALID` for anything but a non-empty string or a number
 */
function userTagOfCall(userKey: UserKey): string {
  const tag = userTagOfKey(userKey);
  if (tag === undefined) {
    throw new SessionError('ERR_CONFIG_INVALID', 'A user key is a non-empty string or a number');
  }
  return tag;
}

/**
 * How long a move marker sends a sign-out or revocation that names a session's old id on
 * to its new one: the requests it is for were already under way when the session moved.
 */
const MOVE_MARKER_MS = 60_000;

/**
 * Move markers a delete follows. A chain is as long as the moves one session made within a
 * marker's life: a thousand is more than sixteen a second for a whole minute, past any real
 * client. Past it the delete fails rather than report a session ended that may live on.
 */
const MAX_MOVES_FOLLOWED = 1000;

/** A session moved to a new id: the record written there, and what it was made from. */
interface Moved {
  readonly record: RecordSnapshot | undefined;
  /** The old record as read just before the move (a regenerate only). */
  readonly base: StoredRecord | undefined;
  /** This request's own change, against what it read. */
  readonly ours: StoreChange | undefined;
}

/**
 * The keys whose text differs between `before` and `after`, leaving out `except`, as keys
 * to set and to delete; undefined when there are none.
 */
function changedSince(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
  except: ReadonlySet<string>,
): { set: Record<string, string>; unset: string[] } | undefined {
  const set = Object.create(null) as Record<string, string>;
  const unset: string[] = [];
  for (const key of Object.keys(after)) {
    if (!except.has(key) && before[key] !== after[key]) set[key] = after[key]!;
  }
  for (const key of Object.keys(before)) {
    if (!except.has(key) && after[key] === undefined) unset.push(key);
  }
  return Object.keys(set).length > 0 || unset.length > 0 ? { set, unset } : undefined;
}

/** What a load that a clear overtook gives: load() never installs it. */
const SUPERSEDED: Loaded = Object.freeze({
  session: Object.freeze({ id: '', createdAt: 0, data: Object.freeze({}) }),
  source: 'fresh',
  sealedWithOldPassword: false,
  legacySeal: false,
  flash: undefined,
  tokenUnchecked: false,
  record: undefined,
  referenceStored: false,
});

const revoked = (): SessionError =>
  new SessionError('ERR_SESSION_REVOKED', 'The session was revoked or has ended');

/** The password id field of a token (Fe26.2*<id>*...). */
function passwordIdOf(token: string): string {
  const start = token.indexOf('*') + 1;
  return token.slice(start, token.indexOf('*', start));
}

/**
 * Tells the configured observer why a token was refused. An observer that throws (a
 * logging bug) must not turn a bad cookie into a failed request, so its error is dropped.
 */
function reportInvalidToken(config: ResolvedConfig, rejection: SessionRejection): void {
  try {
    config.onInvalidToken?.(rejection);
  } catch {
    // Deliberately ignored: see above.
  }
}

function rejection(error: unknown): Promise<never> {
  return Promise.reject(error instanceof Error ? error : new Error(String(error)));
}

/**
 * Assigns own keys; a key the target inherits (`__proto__` above all) is defined, not set,
 * so it cannot change a prototype or run a setter (setDataKey).
 */
function mergeInto(target: Record<string, unknown>, update: object): void {
  for (const [key, value] of Object.entries(update)) setDataKey(target, key, value);
}

/**
 * A deep copy of session data: copyJson for the plain JSON that session data almost always
 * is (a fraction of structuredClone's cost, which was a tenth of a write's CPU), and
 * structuredClone for anything else, so a Date or a cycle copies as it always did.
 *
 * @throws SessionError `ERR_DATA_INVALID` when the data cannot even be copied (functions...)
 */
function deepCopy(data: Record<string, unknown>): Record<string, unknown> {
  try {
    return (copyJson(data) as Record<string, unknown> | undefined) ?? structuredClone(data);
  } catch {
    // A getter that throws, or what the clone refuses (its error quotes the value, a
    // function's source: never pass it on).
    throw new SessionError('ERR_DATA_INVALID', 'Data cannot be represented faithfully as JSON');
  }
}

/**
 * The data `update` would make, on a copy: a shallow one for an object (merging replaces
 * top-level keys only), a deep one for a function (it may change nested values).
 *
 * @throws SessionError `ERR_DATA_INVALID` when the data cannot even be copied (functions...)
 */
function stageUpdate(
  data: Record<string, unknown>,
  update: SessionUpdate | undefined,
): Record<string, unknown> {
  let staged: Record<string, unknown>;
  let patch: unknown = update;
  if (typeof update === 'function') {
    staged = deepCopy(data);
    patch = update(staged);
  } else {
    staged = { ...data };
  }
  // JavaScript callers may pass null, or a non-object from an update function.
  if (typeof patch === 'object' && patch !== null) mergeInto(staged, patch);
  return staged;
}

/** Makes `target` hold exactly `source`'s keys, keeping the object (callers may hold it). */
function replaceContents(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const key of Object.keys(target))
    if (!Object.hasOwn(source, key)) Reflect.deleteProperty(target, key);
  mergeInto(target, source);
}

/** Runs `operation` after the session's earlier writes, in call order. */
function enqueue<R>(state: SessionState, operation: () => Promise<R>): Promise<R> {
  const previous = state.queue;
  // An operation that throws before its first await still rejects, never throws here.
  const result = previous === undefined ? toPromise(operation) : previous.then(operation);
  const settled: Promise<void> = result.then(
    () => {
      if (state.queue === settled) state.queue = undefined;
    },
    () => {
      if (state.queue === settled) state.queue = undefined;
    },
  );
  state.queue = settled;
  return result;
}

/** A session engine over `parts`: tests pass their own clock; the package uses the default. */
export function createSessionEngine(parts: SessionEngineParts): SessionEngine {
  const { now, iron } = parts;
  const codec = createTokenCodec(iron, now);

  /**
   * A new session id: the config's generator, else a random UUID v4. With a store, it
   * carries `userTag` (the session's user, if any), so a user's records share one slot.
   */
  function newId(config: ResolvedConfig, userTag?: string): string {
    const random = config.generateId?.() ?? uuidV4(iron.randomBytes(16));
    return config.store === undefined ? random : storeSessionId(userTag, random);
  }

  /** Keeps `event.context.sessions[name]` what h3 keeps there: the request's session. */
  function publish(request: RequestContext, name: string, session: Session | undefined): void {
    const context = request.eventContext;
    if (context === undefined) return;
    let sessions: unknown = context.sessions;
    if (typeof sessions !== 'object' || sessions === null) {
      if (session === undefined) return;
      sessions = Object.create(null) as Record<string, Session>;
      context.sessions = sessions;
    }
    if (session === undefined) Reflect.deleteProperty(sessions as object, name);
    else (sessions as Record<string, Session>)[name] = session;
  }

  /** A new, unwritten session. */
  function fresh(config: ResolvedConfig, tokenUnchecked = false, goneId?: string): Loaded {
    return {
      goneId,
      session: { id: newId(config), createdAt: now(), data: {} },
      source: 'fresh',
      sealedWithOldPassword: false,
      legacySeal: false,
      flash: undefined,
      tokenUnchecked,
      record: undefined,
      referenceStored: false,
    };
  }

  /**
   * With a store, what a reference loads: the session its record holds. A reference to a
   * session whose record was never written (nothing changed yet) gives that session with
   * no data; one whose record was written but is gone was revoked or ended.
   *
   * @throws SessionError `ERR_SESSION_REVOKED`, `ERR_SESSION_EXPIRED` (token errors);
   *   `ERR_STORE_UNAVAILABLE`
   */
  async function withRecord(config: ResolvedConfig, reference: Loaded): Promise<Loaded> {
    const id = reference.session.id;
    const record = await callStore(config, (store) => store.get(id));
    if (record === undefined) {
      // A session of a user always has a record: one that is missing was revoked, even
      // when the reference was sealed before the first write (a session header token).
      if (reference.referenceStored || userTagInId(id) !== undefined) throw revoked();
      return reference;
    }
    const opened = openRecord(config, id, record, now());
    return { ...reference, session: opened.session, flash: opened.flash, record: opened.snapshot };
  }

  /**
   * Tries one token: what it loads, or undefined when it is refused (reported), or the
   * error when it is not a token error. Touches no state: the load installs what it gives
   * only if no clear came meanwhile.
   */
  function tryToken(
    config: ResolvedConfig,
    token: string,
    source: Exclude<SessionSource, 'fresh'>,
    refusedTokens: RefusedTokens,
    readRecord = true,
  ): MaybePromise<Loaded | undefined> {
    const refused = (error: unknown): Loaded | undefined => {
      if (!isSessionError(error) || !TOKEN_ERRORS.has(error.code)) throw error;
      if (error.code === 'ERR_DERIVATION_LIMIT' && source === 'cookie') {
        refusedTokens.unchecked = true;
      }
      // A load a clear overtook is thrown away: what it found (a record the clear itself
      // deleted) says nothing about the token.
      if (refusedTokens.superseded?.() !== true) {
        reportInvalidToken(config, { error, source, name: config.name });
      }
      return undefined;
    };
    const accepted = (opened: OpenedToken): MaybePromise<Loaded | undefined> => {
      const loaded: Loaded = {
        session: opened.session,
        source,
        sealedWithOldPassword: passwordIdOf(token) !== config.sealingPasswordId,
        legacySeal: opened.legacySeal,
        flash: opened.flash,
        tokenUnchecked: false,
        record: undefined,
        referenceStored: opened.stored === true,
      };
      // A store that fails is not a bad token: its error goes on to the caller.
      if (config.store === undefined || !readRecord) return loaded;
      return withRecord(config, loaded).catch((error: unknown) => {
        if (isSessionError(error, 'ERR_SESSION_REVOKED')) refusedTokens.goneId = loaded.session.id;
        return refused(error);
      });
    };
    let opened: MaybePromise<OpenedToken>;
    try {
      opened = codec.open(config, token);
    } catch (error) {
      return refused(error);
    }
    return opened instanceof Promise ? opened.then(accepted, refused) : accepted(opened);
  }

  function loadSession(
    request: RequestContext,
    config: ResolvedConfig,
    state: SessionState,
  ): MaybePromise<Loaded> {
    if (state.cleared) return fresh(config);
    const { transport } = request;
    const generation = state.generation;
    const refusedTokens: RefusedTokens = {
      unchecked: false,
      goneId: undefined,
      superseded: () => state.generation !== generation,
    };
    const fromCookie = (): MaybePromise<Loaded> => {
      const cookie = readSessionCookie(transport, config, state);
      if (cookie.duplicated) {
        // Browsers send the cookie of the longest path first, so a sibling site that can
        // set a cookie for the parent domain can put its own in front of ours. We take the
        // first, as every server does, and say so: a __Host- name is the defence.
        reportInvalidToken(config, {
          error: new SessionError(
            'ERR_COOKIE_DUPLICATE',
            'The request carried the session cookie more than once; the first was used',
          ),
          source: 'cookie',
          name: config.name,
        });
      }
      if (cookie.invalid !== undefined) {
        reportInvalidToken(config, { error: cookie.invalid, source: 'cookie', name: config.name });
      }
      if (cookie.token === undefined) return fresh(config);
      return chain(tryToken(config, cookie.token, 'cookie', refusedTokens), (loaded) => {
        if (loaded !== undefined) return loaded;
        // load() throws a superseded result away and starts over: no id is spent on it.
        if (refusedTokens.superseded?.() === true) return SUPERSEDED;
        return fresh(config, refusedTokens.unchecked, refusedTokens.goneId);
      });
    };
    const headerToken = requestHeaderToken(transport, config);
    if (headerToken === undefined) return fromCookie();
    // An invalid header falls back to the cookie.
    return chain(
      tryToken(config, headerToken, 'header', refusedTokens),
      (loaded) => loaded ?? fromCookie(),
    );
  }

  /** Makes `session` the request's session, and mirrors it where h3 keeps it. */
  function install(
    request: RequestContext,
    config: ResolvedConfig,
    state: SessionState,
    session: Session,
  ): Session {
    state.session = session;
    publish(request, config.name, session);
    return session;
  }

  /** Installs what a load gave, with where it came from. */
  function installLoaded(
    request: RequestContext,
    config: ResolvedConfig,
    state: SessionState,
    loaded: Loaded,
  ): Session {
    state.source = loaded.source;
    state.persisted = loaded.source !== 'fresh';
    // Sticky: once the request's session came from the header, this request never writes
    // the cookie, even for a session started after a clear.
    if (loaded.source === 'header') state.headerBound = true;
    state.sealedWithOldPassword = loaded.sealedWithOldPassword;
    state.legacySeal = loaded.legacySeal;
    state.flash = loaded.flash;
    state.tokenUnchecked = loaded.tokenUnchecked;
    state.record = loaded.record;
    state.referenceStored = loaded.referenceStored;
    state.goneId = loaded.goneId;
    return install(request, config, state, loaded.session);
  }

  function load(
    request: RequestContext,
    config: ResolvedConfig,
    state: SessionState,
  ): Promise<Session> {
    if (state.session !== undefined) return Promise.resolve(state.session);
    if (state.loading === undefined) {
      let loaded: MaybePromise<Loaded>;
      try {
        loaded = loadSession(request, config, state);
      } catch (error) {
        return rejection(error);
      }
      if (!(loaded instanceof Promise)) {
        return Promise.resolve(installLoaded(request, config, state, loaded));
      }
      const generation = state.generation;
      state.loading = loaded.then(
        (result) => {
          // A clear came while the token was being opened: nothing of it may come back.
          if (state.generation !== generation) return load(request, config, state);
          state.loading = undefined;
          return installLoaded(request, config, state, result);
        },
        (error: unknown) => {
          if (state.generation === generation) state.loading = undefined;
          throw error;
        },
      );
    }
    return state.loading;
  }

  /**
   * Loads the session, then writes it when the write policy says so; concurrent callers
   * share that write. A renewal (anything but a new session) that fails leaves the read
   * as it is: the renewal waits for a later request, and its failure is reported unless
   * it is only that the response head already went out (a streaming response).
   */
  async function loadAndSettle(
    request: RequestContext,
    config: SessionConfig,
    resolved: ResolvedConfig,
    state: SessionState,
    saveNew: boolean,
  ): Promise<Session> {
    const session = await load(request, resolved, state);
    const reason =
      state.autoWrite === undefined ? shouldWrite(state, resolved, saveNew, now()) : false;
    if (reason !== false) {
      const written =
        reason === 'new-session'
          ? updateSession(request, config)
          : updateSession(request, config).catch((error: unknown) => {
              if (!isSessionError(error, 'ERR_HEADERS_SENT')) resolved.onUnawaitedError(error);
              return session;
            });
      state.autoWrite = written;
      const done = (): void => {
        if (state.autoWrite === written) state.autoWrite = undefined;
      };
      written.then(done, done);
    }
    if (state.autoWrite !== undefined) await state.autoWrite;
    return state.session ?? session;
  }

  /**
   * Seals `next` (which also checks its data and size, cookie or not), then, unless a clear
   * came after `generation`, sets the cookie and runs `apply` in the same turn: no await
   * separates the generation check from the state it guards. Gives false when a clear
   * superseded the write. A session from the session header is not written into the
   * cookie (its client asks for `sealSession`).
   */
  async function write(
    request: RequestContext,
    config: ResolvedConfig,
    state: SessionState,
    next: Session,
    flash: Record<string, unknown> | undefined,
    generation: number,
    apply: () => void,
  ): Promise<boolean> {
    if (config.store !== undefined) {
      return writeToStore(request, config, state, next, flash, generation, apply);
    }
    // Every write restamps the idle window, as in h3 2.x.
    if (config.idleTimeoutMs > 0) next.lastSeenAt = now();
    const { transport } = request;
    const toCookie = !state.headerBound && config.cookie !== false;
    if (toCookie) assertWritable(transport);
    const token = await codec.seal(config, next, flash);
    if (state.generation !== generation) return false;
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new SessionError('ERR_COOKIE_TOO_LARGE', 'The session token would be too large');
    }
    if (toCookie) {
      writeSessionCookie(transport, config, state, token, sessionEnd(config, next), now());
      state.persisted = true;
      state.sealedWithOldPassword = false;
      state.legacySeal = false;
      state.tokenUnchecked = false;
    }
    apply();
    return true;
  }

  /**
   * {@link write} with a store. The record gets only the keys that changed, and only when
   * something changed: an unchanged session costs no store write, and a touch (moving the
   * idle window) comes once more than half of the window has passed. A record that is gone
   * is never written again (`ERR_SESSION_REVOKED`): a slow request cannot undo a sign-out.
   * When the user (`userKey`) changes, or on `regenerate`, the session moves to a new id
   * (see {@link moveRecord}). The cookie is rewritten only when what it refers to changed:
   * the id, whether the record exists, or with `idleTimeout` the window.
   */
  async function writeToStore(
    request: RequestContext,
    config: ResolvedConfig,
    state: SessionState,
    next: Session,
    flash: Record<string, unknown> | undefined,
    generation: number,
    apply: () => void,
  ): Promise<boolean> {
    const time = now();
    const { transport } = request;
    const toCookie = !state.headerBound && config.cookie !== false;
    if (toCookie) assertWritable(transport);
    const clientId = state.session?.id;
    const userTag = userTagFor(config, next.data);
    if (userTagInId(next.id) !== userTag) {
      // A sign-in or a sign-out: a new id (and a new start) for the new privilege.
      next.id = newId(config, userTag);
      next.createdAt = time;
    }
    const previous = state.record?.id === clientId ? state.record : undefined;
    const end = sessionEnd(config, { ...next, lastSeenAt: time })!;
    // A session the client holds (by its reference, or a record) that gets a new id moves.
    const movedFrom =
      clientId !== undefined && next.id !== clientId && (state.persisted || previous !== undefined)
        ? clientId
        : undefined;
    let written: RecordSnapshot | undefined;
    let madeRecord = false;
    let restamped: boolean;
    let moved: Moved | undefined;
    if (movedFrom !== undefined) {
      moved = await moveRecord(config, movedFrom, previous, next, flash, time, end);
      written = moved.record;
      madeRecord = written !== undefined;
      restamped = true;
    } else {
      const plan = planChange(previous, next, flash, time, end);
      if (plan.change !== undefined) {
        const change = plan.change;
        if (!(await callStore(config, (store) => store.write(next.id, change)))) throw revoked();
        written = plan.snapshot;
        madeRecord = previous === undefined;
        restamped = true;
      } else if (
        previous !== undefined &&
        config.idleTimeoutMs > 0 &&
        time - previous.lastSeenAt > config.idleTimeoutMs / 2
      ) {
        if (!(await callStore(config, (store) => store.touch(next.id, time, end)))) throw revoked();
        written = plan.snapshot;
        restamped = true;
      } else {
        written = previous;
        // With no record, the reference in the cookie carries the idle window.
        restamped = previous === undefined && config.idleTimeoutMs > 0;
      }
    }
    /**
     * Undoes a record this write made, which no cookie will refer to: a clear that came
     * meanwhile knew nothing of it (a new id, or a session that had no record yet).
     */
    const undo = async (): Promise<void> => {
      if (madeRecord) await callStore(config, (store) => store.delete(next.id));
    };
    if (state.generation !== generation) {
      await undo();
      return false;
    }
    if (movedFrom !== undefined && moved !== undefined) {
      // The old id ends here, so a copy of its cookie opens nothing; its marker sends a
      // sign-out or revocation that still names it on to the new id. Had it ended already,
      // it was revoked while this request ran: the session must not live on as the new id.
      try {
        const ended = await callStore(config, (store) =>
          store.markMoved(movedFrom, next.id, time + MOVE_MARKER_MS),
        );
        if (ended === undefined && (previous !== undefined || moved.base !== undefined)) {
          await undo();
          throw revoked();
        }
        if (ended !== undefined && written !== undefined) {
          written = await catchUp(config, moved, ended, written, time, end);
        }
      } catch (error) {
        if (!isSessionError(error, 'ERR_SESSION_REVOKED')) await undo().catch(() => undefined);
        throw error;
      }
    }
    if (restamped) {
      if (config.idleTimeoutMs > 0) next.lastSeenAt = time;
    } else if (state.session?.lastSeenAt !== undefined) {
      next.lastSeenAt = state.session.lastSeenAt;
    }
    const recordExists = written !== undefined;
    const cookieStale =
      !state.persisted ||
      next.id !== clientId ||
      state.referenceStored !== recordExists ||
      state.sealedWithOldPassword ||
      state.legacySeal ||
      (restamped && config.idleTimeoutMs > 0);
    if (toCookie && cookieStale) {
      const token = await codec.sealReference(config, next, recordExists);
      if (state.generation !== generation) {
        await undo();
        return false;
      }
      writeSessionCookie(transport, config, state, token, end, now());
      state.persisted = true;
      state.sealedWithOldPassword = false;
      state.legacySeal = false;
      state.tokenUnchecked = false;
      state.referenceStored = recordExists;
    }
    state.record =
      written === undefined
        ? undefined
        : { ...written, lastSeenAt: restamped ? time : written.lastSeenAt };
    if (movedFrom !== undefined && written !== undefined) {
      // The record moved with what other requests changed meanwhile: so does the session.
      replaceContents(next.data, valuesOf(written.data));
      apply();
      state.flash = Object.keys(written.flash).length > 0 ? valuesOf(written.flash) : undefined;
      return true;
    }
    apply();
    return true;
  }

  /**
   * Writes the session under its new id `next.id`. On a regenerate (the same user) that is
   * the record as it is now under `oldId` (a parallel request may have changed other keys
   * since this one read it) with this request's own changes on top; on a change of user,
   * only what this request saw and changed, so a sign-out never carries off what another
   * request added meanwhile. The caller then ends the old record with a move marker, and
   * undoes the move if it was gone by then. A session with no data and no flash gets no
   * record.
   *
   * @throws SessionError `ERR_SESSION_REVOKED` (the record read is gone),
   *   `ERR_STORE_UNAVAILABLE`
   */
  async function moveRecord(
    config: ResolvedConfig,
    oldId: string,
    previous: RecordSnapshot | undefined,
    next: Session,
    flash: Record<string, unknown> | undefined,
    time: number,
    end: number,
  ): Promise<Moved> {
    const sameUser = userTagInId(oldId) === userTagInId(next.id);
    let base: StoredRecord | undefined;
    if (sameUser) {
      base = await callStore(config, (store) => store.get(oldId));
      if (base === undefined && previous !== undefined) throw revoked();
    }
    const ours = planChange(previous, next, flash, time, end).change;
    const data = { ...(sameUser ? base?.data : previous?.data) };
    const flashTexts = { ...(sameUser ? base?.flash : previous?.flash) };
    if (ours !== undefined) {
      applyKeys(data, ours.set, ours.unset);
      applyKeys(flashTexts, ours.flashSet, ours.flashUnset);
    }
    if (Object.keys(data).length === 0 && Object.keys(flashTexts).length === 0) {
      return { record: undefined, base, ours };
    }
    const change: StoreChange = {
      mode: 'create',
      createdAt: next.createdAt,
      lastSeenAt: time,
      expiresAt: end,
      userTag: userTagInId(next.id),
      set: data,
      unset: [],
      flashSet: flashTexts,
      flashUnset: [],
    };
    if (!(await callStore(config, (store) => store.write(next.id, change)))) throw revoked();
    return { record: { id: next.id, lastSeenAt: time, data, flash: flashTexts }, base, ours };
  }

  /**
   * After a regenerate's move: the keys another request changed in the old record between
   * this request's read of it and its move marker, which the new record must also get.
   */
  async function catchUp(
    config: ResolvedConfig,
    moved: Moved,
    ended: StoredRecord,
    written: RecordSnapshot,
    time: number,
    end: number,
  ): Promise<RecordSnapshot> {
    const base = moved.base;
    if (base === undefined) return written;
    const ours = moved.ours;
    const mine = (set: Readonly<Record<string, string>> | undefined, unset?: readonly string[]) =>
      new Set([...Object.keys(set ?? {}), ...(unset ?? [])]);
    const dataDiff = changedSince(base.data, ended.data, mine(ours?.set, ours?.unset));
    const flashDiff = changedSince(base.flash, ended.flash, mine(ours?.flashSet, ours?.flashUnset));
    if (dataDiff === undefined && flashDiff === undefined) return written;
    const change: StoreChange = {
      mode: 'update',
      createdAt: ended.createdAt,
      lastSeenAt: time,
      expiresAt: end,
      userTag: userTagInId(written.id),
      set: dataDiff?.set ?? {},
      unset: dataDiff?.unset ?? [],
      flashSet: flashDiff?.set ?? {},
      flashUnset: flashDiff?.unset ?? [],
    };
    if (!(await callStore(config, (store) => store.write(written.id, change)))) throw revoked();
    const data = { ...written.data };
    const flashTexts = { ...written.flash };
    applyKeys(data, change.set, change.unset);
    applyKeys(flashTexts, change.flashSet, change.flashUnset);
    return { ...written, data, flash: flashTexts };
  }

  /** Runs a write operation: resolves the config, queues it, and watches the outcome. */
  function queuedWrite<R>(
    request: RequestContext,
    config: SessionConfig,
    operation: (resolved: ResolvedConfig, state: SessionState, generation: number) => Promise<R>,
    atCall?: (state: SessionState) => void,
  ): Promise<R> {
    let resolved: ResolvedConfig;
    try {
      resolved = resolveConfig(config);
    } catch (error) {
      return watchWrite(rejection(error), logUnawaitedError);
    }
    const state = stateOf(request, resolved.name);
    atCall?.(state);
    const generation = state.generation;
    return watchWrite(
      enqueue(state, () => operation(resolved, state, generation)),
      resolved.onUnawaitedError,
    );
  }

  /**
   * Writes the session with `data` and `flash` as they would become, then makes them the
   * session's: a failed write changes nothing.
   */
  function commit(
    request: RequestContext,
    resolved: ResolvedConfig,
    state: SessionState,
    session: Session,
    data: Record<string, unknown>,
    flash: Record<string, unknown> | undefined,
    generation: number,
  ): Promise<boolean> {
    const next: Session = { id: session.id, createdAt: session.createdAt, data };
    if (session.lastSeenAt !== undefined) next.lastSeenAt = session.lastSeenAt;
    return write(request, resolved, state, next, flash, generation, () => {
      // A store moves a session whose user changed to a new id.
      session.id = next.id;
      session.createdAt = next.createdAt;
      replaceContents(session.data, data);
      if (next.lastSeenAt !== undefined) session.lastSeenAt = next.lastSeenAt;
      state.flash = flash;
    });
  }

  function updateSession<T extends SessionDataT>(
    request: RequestContext,
    config: SessionConfig,
    update?: SessionUpdate<T>,
  ): Promise<Session<T>> {
    return queuedWrite(request, config, async (resolved, state, generation) => {
      const session = await load(request, resolved, state);
      if (state.generation !== generation) return session as Session<T>;
      const staged = stageUpdate(session.data, update);
      await commit(request, resolved, state, session, staged, state.flash, generation);
      return session as Session<T>;
    });
  }

  function clearSession(request: RequestContext, config: SessionConfig): Promise<void> {
    // Whether the request's session was installed before this clear (a load still under way
    // counts as unread: it is thrown away): if not, the header's
    // token decides below whether the cookie may be touched at all.
    let unread = false;
    // With a store: the id whose record the clear deletes, when the session was read.
    let storedId: string | undefined;
    return queuedWrite(
      request,
      config,
      async (resolved, state) => {
        if (resolved.store !== undefined) {
          const id = unread ? await referencedId(request, resolved, state) : storedId;
          // Deleted before the cookie: a store that is down leaves the user signed in and
          // says so (ERR_STORE_UNAVAILABLE), rather than a signed-out browser whose
          // session goes on living in the store.
          if (id !== undefined) await deleteSession(resolved, id);
        } else if (unread && !state.headerBound) {
          await bindToHeader(request, resolved, state);
        }
        if (!state.headerBound) deleteSessionCookie(request.transport, resolved, state);
      },
      (state) => {
        unread = state.session === undefined && !state.cleared;
        // A session this request made and never wrote (no cookie came) has nothing stored.
        storedId =
          state.record !== undefined || (state.persisted && state.source !== 'fresh')
            ? state.session?.id
            : state.goneId;
        // Takes effect at the call: later reads start a new session, and the writes called
        // before see a new generation. Deleting the cookie waits for those writes.
        state.session = undefined;
        state.loading = undefined;
        state.cleared = true;
        state.generation++;
        state.persisted = false;
        state.sealedWithOldPassword = false;
        state.legacySeal = false;
        state.flash = undefined;
        state.record = undefined;
        state.referenceStored = false;
        publish(request, state.name, undefined);
      },
    );
  }

  /**
   * A clear that comes before any read still must not touch the cookie of a request whose
   * session is the session header's: the header's token is opened to find out.
   */
  async function bindToHeader(
    request: RequestContext,
    config: ResolvedConfig,
    state: SessionState,
  ): Promise<void> {
    const token = requestHeaderToken(request.transport, config);
    if (token === undefined) return;
    const loaded = await tryToken(config, token, 'header', { unchecked: false, goneId: undefined });
    if (loaded !== undefined) state.headerBound = true;
  }

  /**
   * With a store, the id of the session the request refers to, for a clear that came
   * before any read: the session header's when it holds a valid reference (the request
   * then never touches the cookie), else the cookie's. Only the reference is opened; the
   * record is deleted whatever it holds.
   */
  async function referencedId(
    request: RequestContext,
    config: ResolvedConfig,
    state: SessionState,
  ): Promise<string | undefined> {
    const refused: RefusedTokens = { unchecked: false, goneId: undefined };
    const headerToken = requestHeaderToken(request.transport, config);
    if (headerToken !== undefined) {
      const loaded = await tryToken(config, headerToken, 'header', refused, false);
      if (loaded !== undefined) {
        state.headerBound = true;
        return loaded.session.id;
      }
    }
    const token = readSessionCookie(request.transport, config, state).token;
    if (token === undefined) return undefined;
    return (await tryToken(config, token, 'cookie', refused, false))?.session.id;
  }

  function regenerateSession<T extends SessionDataT>(
    request: RequestContext,
    config: SessionConfig,
  ): Promise<Session<T>> {
    return queuedWrite(request, config, async (resolved, state, generation) => {
      const current = await load(request, resolved, state);
      if (state.generation !== generation) return current as Session<T>;
      // With a store, the new id carries the session's user from the start.
      const userTag = resolved.store === undefined ? undefined : userTagFor(resolved, current.data);
      const next: Session = {
        id: newId(resolved, userTag),
        createdAt: now(),
        data: current.data,
      };
      const written = await write(request, resolved, state, next, state.flash, generation, () => {
        install(request, resolved, state, next);
      });
      return (written ? next : current) as Session<T>;
    });
  }

  function setFlash(
    request: RequestContext,
    config: SessionConfig,
    key: string,
    value: unknown,
  ): Promise<void> {
    return queuedWrite(request, config, async (resolved, state, generation) => {
      const session = await load(request, resolved, state);
      if (state.generation !== generation) return;
      const flash = { ...state.flash };
      mergeInto(flash, { [key]: value });
      await commit(request, resolved, state, session, { ...session.data }, flash, generation);
    });
  }

  function takeFlash(
    request: RequestContext,
    config: SessionConfig,
    key: string,
  ): Promise<unknown> {
    return queuedWrite(request, config, async (resolved, state, generation) => {
      const session = await load(request, resolved, state);
      const flash = state.flash;
      if (state.generation !== generation || flash === undefined || !Object.hasOwn(flash, key)) {
        return undefined;
      }
      const value = flash[key];
      const rest = { ...flash };
      Reflect.deleteProperty(rest, key);
      const remaining = Object.keys(rest).length > 0 ? rest : undefined;
      const record = state.record;
      if (resolved.store !== undefined && record !== undefined && record.id === session.id) {
        // Taken from the record in one atomic step: of parallel requests, one gets it.
        const text = await callStore(resolved, (store) => store.takeFlash(session.id, key));
        if (state.generation !== generation) return undefined;
        const recordFlash = { ...record.flash };
        Reflect.deleteProperty(recordFlash, key);
        state.record = { ...record, flash: recordFlash };
        state.flash = remaining;
        return text === undefined ? undefined : parseSafe(text);
      }
      // Read once: the value leaves this request's session even when the cookie cannot be
      // written any more (it then reaches the next request again, which is all a cookie can
      // do), unless a clear came meanwhile.
      try {
        await commit(request, resolved, state, session, { ...session.data }, remaining, generation);
      } catch (error) {
        if (state.generation === generation) state.flash = remaining;
        throw error;
      }
      return value;
    });
  }

  async function listSessions(config: SessionConfig, userKey: UserKey): Promise<SessionInfo[]> {
    const resolved = storeConfig(config, 'listSessions', true);
    const tag = userTagOfCall(userKey);
    const time = now();
    const listed = await callStore(resolved, (store) => store.list(tag, time));
    // The index keeps what the backend has not collected yet: each session's own times
    // decide, as on a request.
    return listed
      .filter(
        (info) =>
          (resolved.maxAgeMs === 0 || time - info.createdAt <= resolved.maxAgeMs) &&
          (resolved.idleTimeoutMs === 0 || time - info.lastSeenAt <= resolved.idleTimeoutMs),
      )
      .map(({ id, createdAt, lastSeenAt }) => ({ id, createdAt, lastSeenAt }))
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async function revokeSession(
    config: SessionConfig,
    sessionId: string,
    options: RevokeSessionOptions = {},
  ): Promise<boolean> {
    const resolved = storeConfig(config, 'revokeSession');
    if (typeof sessionId !== 'string' || sessionId === '') {
      throw new SessionError('ERR_CONFIG_INVALID', 'A session id is a non-empty string');
    }
    // An id that came from a request (a form field) is only revoked for its own user.
    if (
      options.userKey !== undefined &&
      userTagInId(sessionId) !== userTagOfCall(options.userKey)
    ) {
      return false;
    }
    return deleteSession(resolved, sessionId);
  }

  /**
   * Deletes the record of `id`, following move markers to where the session went (a
   * sign-out that names the id a session had before a sign-in or a regenerate still ends
   * it). Resolves whether a live record was deleted.
   */
  async function deleteSession(config: ResolvedConfig, id: string): Promise<boolean> {
    let deleted = false;
    let target = id;
    // A marker names a newer id, which was made after it: the chain ends, and is short.
    for (let hop = 0; hop <= MAX_MOVES_FOLLOWED; hop++) {
      const current = target;
      const outcome = await callStore(config, (store) => store.delete(current));
      if (typeof outcome !== 'string') return deleted || outcome;
      deleted = true;
      target = outcome;
    }
    // The markers followed are spent (a delete consumes the marker it follows), so a retry
    // of the same id cannot reach the session either: the error says what can.
    throw new SessionError(
      'ERR_STORE_UNAVAILABLE',
      `The session moved more than ${MAX_MOVES_FOLLOWED} times within a minute, so its ` +
        "move markers were not followed to its end: revoke the user's sessions instead",
    );
  }

  async function revokeUserSessions(
    config: SessionConfig,
    userKey: UserKey,
    options: RevokeUserSessionsOptions = {},
  ): Promise<number> {
    const resolved = storeConfig(config, 'revokeUserSessions', true);
    const tag = userTagOfCall(userKey);
    const except = options.except;
    const kept = except === undefined ? [] : typeof except === 'string' ? [except] : [...except];
    return callStore(resolved, (store) => store.deleteUser(tag, kept));
  }

  const engine: SessionEngine = {
    getSession<T extends SessionDataT>(request: RequestContext, config: SessionConfig) {
      let resolved: ResolvedConfig;
      try {
        resolved = resolveConfig(config);
      } catch (error) {
        // A bad config is a rejection, as from every other function: never a synchronous throw.
        return rejection(error);
      }
      const state = stateOf(request, resolved.name);
      return loadAndSettle(request, config, resolved, state, false) as Promise<Session<T>>;
    },

    async useSession<T extends SessionDataT>(
      request: RequestContext,
      config: SessionConfig,
      saveUninitialized = true,
    ) {
      const resolved = resolveConfig(config);
      const state = stateOf(request, resolved.name);
      await loadAndSettle(request, config, resolved, state, saveUninitialized);
      return new LiveSession<T>(engine, request, config, state);
    },

    updateSession,
    clearSession,
    listSessions,
    revokeSession,
    revokeUserSessions,
    regenerateSession,
    setFlash,
    takeFlash,

    sealSession(request, config) {
      let resolved: ResolvedConfig;
      try {
        resolved = resolveConfig(config);
      } catch (error) {
        return rejection(error);
      }
      const state = stateOf(request, resolved.name);
      return enqueue(state, async () => {
        const session = await load(request, resolved, state);
        // As h3 2.x, a sealed session is seen now; the request's own session is left as it
        // is, so its cookie's idle renewal still happens.
        const sealed = resolved.idleTimeoutMs > 0 ? { ...session, lastSeenAt: now() } : session;
        if (resolved.store !== undefined) {
          return codec.sealReference(resolved, sealed, state.record?.id === session.id);
        }
        return codec.seal(resolved, sealed, state.flash);
      });
    },

    unsealSession(config, token) {
      return toPromise(() => {
        const resolved = resolveConfig(config);
        return chain(codec.open(resolved, token), (opened) => {
          if (resolved.store === undefined) return opened.session;
          const reference: Loaded = {
            ...fresh(resolved),
            session: opened.session,
            referenceStored: opened.stored === true,
          };
          return withRecord(resolved, reference).then((loaded) => loaded.session);
        });
      });
    },
  };
  return engine;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, byte) =>
  byte.toString(16).padStart(2, '0'),
);

/**
 * A UUID v4 (RFC 9562 §5.4) from 16 random bytes: what `crypto.randomUUID()` returns, made
 * from the crypto backend's pool, which a process started from a startup snapshot refills
 * (Node's own randomUUID keeps a cache that such processes would share).
 */
function uuidV4(bytes: Uint8Array): string {
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  let out = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += '-';
    out += HEX[bytes[i]!]!;
  }
  return out;
}

/** The engine of the public API: the package's iron instance and the system clock. */
export const sessionEngine: SessionEngine = createSessionEngine({
  iron: sharedIron,
  now: () => Date.now(),
});
