/**
 * The session engine: load, update, clear, seal and unseal a session for one request. It
 * knows only the {@link SessionTransport} of a request, never a framework.
 *
 * Fixed h3 defects (DESIGN.md §2.3): a cleared session never comes back from the request's
 * cookie; the cookie is really deleted; a token of a rotated-out password id still opens
 * while its id is in the map and is resealed under the current one; an invalid header
 * falls back to the cookie; a new session is written by useSession, not by every read; a
 * write after the headers went out is a clear error; at most one Set-Cookie per cookie.
 */
import { SessionError, isSessionError, type SessionErrorCode } from '../errors.js';
import { iron } from '../iron/instance.js';
import { chain, toPromise, type MaybePromise } from '../internal/maybe-promise.js';
import {
  MAX_SET_COOKIE_BYTES,
  readCookie,
  serializeDeletion,
  serializeToken,
} from '../cookie/session-cookie.js';
import { resolveConfig, type ResolvedConfig } from './config.js';
import type { SessionTransport } from './transport.js';
import type {
  Session,
  SessionConfig,
  SessionDataT,
  SessionManager,
  SessionRejection,
  SessionUpdate,
} from './types.js';

/** Longest token read from a request; anything longer is refused unread. */
export const MAX_TOKEN_LENGTH: number = 16 * 1024;

/** The state of one named session within one request. */
export interface SessionState {
  session: Session | undefined;
  /** The one unseal every concurrent reader of this request waits on. */
  loading: Promise<Session> | undefined;
  /** The browser holds this session: it came from a valid token or was written now. */
  persisted: boolean;
  /** It came from a token sealed under a password id that no longer seals. */
  sealedWithOldPassword: boolean;
  /** Cleared in this request: the request's own token must not bring it back. */
  cleared: boolean;
  /** Bumped by clear: a load that started before must not install its session after. */
  generation: number;
  /** Writes started, and the latest one applied: a slow older seal never wins. */
  writesStarted: number;
  writesApplied: number;
}

/**
 * One request's view: how it talks to the host, and its sessions by name. It lives on the
 * request's own object (the event), not in a WeakMap: short-lived WeakMap keys are costly
 * for the garbage collector, and this is made on every request.
 */
export interface RequestContext {
  readonly transport: SessionTransport;
  sessions: Map<string, SessionState> | undefined;
}

/** A context for a new request over `transport`. */
export function createRequestContext(transport: SessionTransport): RequestContext {
  return { transport, sessions: undefined };
}

function stateOf(request: RequestContext, name: string): SessionState {
  const sessions = (request.sessions ??= new Map<string, SessionState>());
  let state = sessions.get(name);
  if (state === undefined) {
    state = {
      session: undefined,
      loading: undefined,
      persisted: false,
      sealedWithOldPassword: false,
      cleared: false,
      generation: 0,
      writesStarted: 0,
      writesApplied: 0,
    };
    sessions.set(name, state);
  }
  return state;
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
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Opens a token into a session: iron unseal, then the session shape, then `maxAge` from
 * `createdAt`. Synchronous when the crypto backend is (node:crypto), so a request's
 * session costs no promise hops there.
 *
 * @throws SessionError — a token error code (see TOKEN_ERRORS)
 */
function openToken(config: ResolvedConfig, token: string): MaybePromise<Session> {
  // JavaScript callers of unsealSession may pass a non-string: iron refuses it (ERR_SEAL_INVALID).
  if (typeof token === 'string' && token.length > MAX_TOKEN_LENGTH) {
    throw new SessionError('ERR_COOKIE_TOO_LARGE', 'The session token is too large');
  }
  return chain(iron.unsealEager(token, config.password, config.seal), (value) => {
    if (
      !isPlainObject(value) ||
      typeof value.id !== 'string' ||
      value.id === '' ||
      typeof value.createdAt !== 'number' ||
      !Number.isFinite(value.createdAt) ||
      !isPlainObject(value.data)
    ) {
      throw new SessionError('ERR_COOKIE_INVALID', 'The token does not hold a session');
    }
    if (config.maxAgeMs > 0 && Date.now() - value.createdAt > config.maxAgeMs) {
      throw new SessionError('ERR_SESSION_EXPIRED', 'The session has expired');
    }
    return { id: value.id, createdAt: value.createdAt, data: value.data };
  });
}

/** The password id field of a token (Fe26.2*<id>*...). */
function passwordIdOf(token: string): string {
  const start = token.indexOf('*') + 1;
  return token.slice(start, token.indexOf('*', start));
}

function freshSession(config: ResolvedConfig): Session {
  return { id: config.generateId(), createdAt: Date.now(), data: {} };
}

/** Tries one token; reports why it was refused and gives undefined, or rethrows non-token errors. */
function tryToken(
  config: ResolvedConfig,
  state: SessionState,
  token: string,
  source: 'header' | 'cookie',
): MaybePromise<Session | undefined> {
  const refused = (error: unknown): Session | undefined => {
    if (!isSessionError(error) || !TOKEN_ERRORS.has(error.code)) throw error;
    reportInvalidToken(config, { error, source, name: config.name });
    return undefined;
  };
  const accepted = (session: Session): Session => {
    state.persisted = true;
    state.sealedWithOldPassword = passwordIdOf(token) !== config.sealingPasswordId;
    return session;
  };
  let opened: MaybePromise<Session>;
  try {
    opened = openToken(config, token);
  } catch (error) {
    return refused(error);
  }
  return opened instanceof Promise ? opened.then(accepted, refused) : accepted(opened);
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

function loadSession(
  request: RequestContext,
  config: ResolvedConfig,
  state: SessionState,
): MaybePromise<Session> {
  const fresh = (): Session => {
    state.persisted = false;
    state.sealedWithOldPassword = false;
    return freshSession(config);
  };
  if (state.cleared) return fresh();
  const { transport } = request;
  const fromCookie = (): MaybePromise<Session> => {
    const cookieHeader = transport.getRequestHeader('cookie');
    const token = cookieHeader === undefined ? undefined : readCookie(cookieHeader, config.name);
    if (token === undefined || token === '') return fresh();
    return chain(tryToken(config, state, token, 'cookie'), (session) => session ?? fresh());
  };
  const headerToken =
    config.sessionHeader === false ? undefined : transport.getRequestHeader(config.sessionHeader);
  if (headerToken === undefined || headerToken === '') return fromCookie();
  // An invalid header falls back to the cookie.
  return chain(
    tryToken(config, state, headerToken, 'header'),
    (session) => session ?? fromCookie(),
  );
}

/** The request's session; loads it once, however many callers ask at the same time. */
export function getSession<T extends SessionDataT>(
  request: RequestContext,
  config: SessionConfig,
): Promise<Session<T>> {
  let resolved: ResolvedConfig;
  try {
    resolved = resolveConfig(config);
  } catch (error) {
    // A bad config is a rejection, as from every other function: never a synchronous throw.
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  const state = stateOf(request, resolved.name);
  if (state.session !== undefined) return Promise.resolve(state.session as Session<T>);
  if (state.loading === undefined) {
    let loaded: MaybePromise<Session>;
    try {
      loaded = loadSession(request, resolved, state);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (!(loaded instanceof Promise)) {
      state.session = loaded;
      return Promise.resolve(loaded as Session<T>);
    }
    const generation = state.generation;
    state.loading = loaded.then(
      (session) => {
        if (state.generation !== generation) return session;
        state.session = session;
        state.loading = undefined;
        return session;
      },
      (error: unknown) => {
        if (state.generation === generation) state.loading = undefined;
        throw error;
      },
    );
  }
  return state.loading as Promise<Session<T>>;
}

function assertWritable(transport: SessionTransport): void {
  if (transport.headersSent()) {
    throw new SessionError(
      'ERR_HEADERS_SENT',
      'The response headers were already sent; the session cannot be written',
    );
  }
}

/** Seals `session` and sets its cookie, unless a later write already landed. */
async function writeSession(
  request: RequestContext,
  config: ResolvedConfig,
  state: SessionState,
  session: Session,
): Promise<void> {
  const cookie = config.cookie;
  const template = config.cookieTemplate;
  if (cookie === false || template === undefined) return;
  assertWritable(request.transport);
  const write = ++state.writesStarted;
  const token = await sealPayload(config, session);
  if (write < state.writesApplied) return;
  assertWritable(request.transport);
  const expiresAt = config.maxAgeMs > 0 ? session.createdAt + config.maxAgeMs : undefined;
  const header = serializeToken(template, token, expiresAt);
  if (header.length > MAX_SET_COOKIE_BYTES) {
    throw new SessionError(
      'ERR_COOKIE_TOO_LARGE',
      `The session cookie would exceed ${MAX_SET_COOKIE_BYTES} bytes; browsers would drop it`,
    );
  }
  request.transport.setCookie(header, {
    name: config.name,
    domain: cookie.domain,
    path: cookie.path,
  });
  state.writesApplied = write;
  state.persisted = true;
  state.sealedWithOldPassword = false;
}

function sealPayload(config: ResolvedConfig, session: Session): Promise<string> {
  // Exactly { id, createdAt, data }, in this order: what h3 seals, so cookies interchange.
  const payload = { id: session.id, createdAt: session.createdAt, data: session.data };
  // With maxAge, the token expires when the session does (h3 counted from the seal, so
  // the token and the cookie disagreed); an explicit seal.ttl still wins.
  return config.expiresWithSession
    ? iron.sealUntil(payload, config.password, config.seal, session.createdAt + config.maxAgeMs)
    : iron.seal(payload, config.password, config.seal);
}

/** Assigns own keys, defining (not setting) `__proto__` so it cannot change a prototype. */
function mergeInto(target: Record<string, unknown>, update: object): void {
  for (const [key, value] of Object.entries(update)) {
    if (key === '__proto__') {
      Object.defineProperty(target, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      target[key] = value;
    }
  }
}

/** Applies `update` to the session data and writes the cookie. */
export async function updateSession<T extends SessionDataT>(
  request: RequestContext,
  config: SessionConfig,
  update?: SessionUpdate<T>,
): Promise<Session<T>> {
  const resolved = resolveConfig(config);
  const state = stateOf(request, resolved.name);
  const session = await getSession<T>(request, config);
  const patch: unknown = typeof update === 'function' ? update(session.data) : update;
  // JavaScript callers may pass null, or a non-object from an update function.
  if (typeof patch === 'object' && patch !== null) mergeInto(session.data, patch);
  await writeSession(request, resolved, state, session);
  return session;
}

/** Ends the session: deletes its cookie; later reads in this request start a new one. */
export function clearSession(request: RequestContext, config: SessionConfig): Promise<void> {
  try {
    const resolved = resolveConfig(config);
    const state = stateOf(request, resolved.name);
    state.session = undefined;
    state.loading = undefined;
    state.cleared = true;
    state.generation++;
    state.persisted = false;
    state.sealedWithOldPassword = false;
    const cookie = resolved.cookie;
    if (cookie !== false) {
      assertWritable(request.transport);
      // Counts as the latest write: an update still sealing must not revive the cookie.
      state.writesApplied = ++state.writesStarted;
      request.transport.setCookie(serializeDeletion(resolved.name, cookie), {
        name: resolved.name,
        domain: cookie.domain,
        path: cookie.path,
      });
    }
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Gives the session a new id and creation time, keeping its data, and writes it. */
export async function regenerateSession<T extends SessionDataT>(
  request: RequestContext,
  config: SessionConfig,
): Promise<Session<T>> {
  const resolved = resolveConfig(config);
  const state = stateOf(request, resolved.name);
  const current = await getSession(request, config);
  const next: Session<T> = {
    id: resolved.generateId(),
    createdAt: Date.now(),
    data: current.data as T,
  };
  state.session = next;
  await writeSession(request, resolved, state, next);
  return next;
}

/** Seals the request's session into a token (loading it first if needed). */
export async function sealSession(request: RequestContext, config: SessionConfig): Promise<string> {
  const session = await getSession(request, config);
  return sealPayload(resolveConfig(config), session);
}

/**
 * Opens a token with this configuration.
 *
 * @throws SessionError — `ERR_SEAL_*`, `ERR_PASSWORD_NOT_FOUND`, `ERR_SESSION_EXPIRED`,
 *   `ERR_COOKIE_INVALID`, `ERR_COOKIE_TOO_LARGE`, `ERR_DATA_INVALID`
 */
export function unsealSession(config: SessionConfig, token: string): Promise<Session> {
  return toPromise(() => openToken(resolveConfig(config), token));
}

/**
 * The session with live accessors and write operations. A new session is written at once
 * (unless `saveUninitialized` is false: then at its first change) so its id holds from the
 * next request on; an unchanged existing one writes nothing, unless it was sealed under a
 * password id that no longer seals (then it is resealed).
 */
export async function useSession<T extends SessionDataT>(
  request: RequestContext,
  config: SessionConfig,
  saveUninitialized = true,
): Promise<SessionManager<T>> {
  const resolved = resolveConfig(config);
  const state = stateOf(request, resolved.name);
  const session = await getSession<T>(request, config);
  if ((!state.persisted && saveUninitialized) || state.sealedWithOldPassword) {
    await writeSession(request, resolved, state, session);
  }
  return new LiveSession<T>(request, config, state);
}

/** The manager useSession returns; a class so each request allocates one small object. */
class LiveSession<T extends SessionDataT> implements SessionManager<T> {
  readonly #request: RequestContext;
  readonly #config: SessionConfig;
  readonly #state: SessionState;

  constructor(request: RequestContext, config: SessionConfig, state: SessionState) {
    this.#request = request;
    this.#config = config;
    this.#state = state;
  }

  get id(): string | undefined {
    return this.#state.session?.id;
  }

  get createdAt(): number | undefined {
    return this.#state.session?.createdAt;
  }

  get data(): T {
    return (this.#state.session?.data ?? {}) as T;
  }

  async update(update?: SessionUpdate<T>): Promise<this> {
    await updateSession(this.#request, this.#config, update);
    return this;
  }

  async clear(): Promise<this> {
    await clearSession(this.#request, this.#config);
    return this;
  }

  async regenerate(): Promise<this> {
    await regenerateSession(this.#request, this.#config);
    return this;
  }
}
