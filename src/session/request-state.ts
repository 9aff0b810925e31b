/**
 * What the session engine keeps about one request: how it talks to the host (its
 * {@link SessionTransport}) and, per session name, the state of that session within the
 * request. Nothing here outlives the request.
 */
import type { RecordSnapshot } from './store-records.js';
import type { SessionTransport } from './transport.js';
import type { Session } from './types.js';

/** Where a request's session came from. */
export type SessionSource = 'fresh' | 'cookie' | 'header';

/** The state of one named session within one request. */
export interface SessionState {
  /** The session's name (its cookie's name). */
  readonly name: string;
  session: Session | undefined;
  /** The one unseal every concurrent reader of this request waits on. */
  loading: Promise<Session> | undefined;
  /** Where `session` came from: a new session, the cookie, or the session header. */
  source: SessionSource;
  /**
   * A session token came in the session header: this request answers through
   * `sealSession` only and never sets or deletes the session cookie, so a token someone
   * else supplies in the header can never replace the browser's own cookie.
   */
  headerBound: boolean;
  /** The client holds this session: it came from a valid token or was written now. */
  persisted: boolean;
  /** It came from a token sealed under a password id that no longer seals. */
  sealedWithOldPassword: boolean;
  /** It came from a token that verified only at 1 iteration (`legacySealFallback`). */
  legacySeal: boolean;
  /** Flash values that came with the session or were set since, by key. */
  flash: Record<string, unknown> | undefined;
  /** Chunks of the session cookie the request carried (0: a plain cookie or none). */
  requestChunks: number;
  /** Chunks of the session cookie this response sets so far. */
  writtenChunks: number;
  /** A write the write policy started for this session, which later readers wait for. */
  autoWrite: Promise<unknown> | undefined;
  /**
   * The request's token was not checked (too many needed a key derivation): the
   * session is fresh for this request, but a new cookie is not written over the token
   * the browser holds unless the handler changes the session.
   */
  tokenUnchecked: boolean;
  /** Cleared in this request: the request's own token must not bring it back. */
  cleared: boolean;
  /**
   * Bumped by every clear. An operation remembers the generation it was called in; when
   * its turn comes (or its seal finishes) in another, a clear came after it, and it must
   * not write.
   */
  generation: number;
  /** The end of this session's write queue, or undefined when no write is running. */
  queue: Promise<unknown> | undefined;
  /** With a store: the session's record as this request last read or wrote it, if any. */
  record: RecordSnapshot | undefined;
  /** With a store: the client's reference says the record was written. */
  referenceStored: boolean;
  /**
   * With a store: the id the request's reference named when its record was gone (revoked,
   * or moved by a parallel sign-in or regenerate): a clear in this request still deletes
   * it, which follows a move marker to where the session went.
   */
  goneId: string | undefined;
}

/**
 * One request's view: how it talks to the host, and its sessions by name. It lives on the
 * request's own object (the event), not in a WeakMap: short-lived WeakMap keys are costly
 * for the garbage collector, and this is made on every request.
 */
export interface RequestContext {
  readonly transport: SessionTransport;
  sessions: Map<string, SessionState> | undefined;
  /**
   * The event's own `context` object, where h3 keeps a request's sessions by name
   * (`event.context.sessions[name]`); the engine keeps it filled the same way.
   */
  readonly eventContext: Record<string, unknown> | undefined;
}

/** A context for a new request over `transport`, mirroring sessions into `eventContext`. */
export function createRequestContext(
  transport: SessionTransport,
  eventContext?: Record<string, unknown>,
): RequestContext {
  return { transport, sessions: undefined, eventContext };
}

/** The state of session `name` in `request`, made on first use. */
export function stateOf(request: RequestContext, name: string): SessionState {
  const sessions = (request.sessions ??= new Map<string, SessionState>());
  let state = sessions.get(name);
  if (state === undefined) {
    state = {
      name,
      session: undefined,
      loading: undefined,
      source: 'fresh',
      headerBound: false,
      persisted: false,
      sealedWithOldPassword: false,
      legacySeal: false,
      flash: undefined,
      requestChunks: 0,
      writtenChunks: 0,
      autoWrite: undefined,
      tokenUnchecked: false,
      cleared: false,
      generation: 0,
      queue: undefined,
      record: undefined,
      referenceStored: false,
      goneId: undefined,
    };
    sessions.set(name, state);
  }
  return state;
}
