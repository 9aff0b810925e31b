/**
 * A store for the store-mode suites that proves nothing by itself: it wraps a real store
 * (a `memoryStore()` or a `redisStore`) and passes every call through unchanged, while it
 * counts and logs the calls (so a suite can see that a request did no store I/O, or wrote
 * only the keys that changed) and can be switched to fail: every call (or only chosen
 * methods) then rejects, or never answers, so the engine's deadline (`timeout`) is what
 * ends the request. No behaviour of the store is mocked: while `mode` is 'ok', what the
 * engine sees is exactly what the wrapped store answers.
 */
import type {
  SessionStore,
  StoreChange,
  StoredRecord,
  StoredSessionInfo,
} from '../../../src/index.js';

import { STORE_METHODS, type StoreMethod } from '../../../src/store/store.js';

export { STORE_METHODS, type StoreMethod };

/** 'reject': the call rejects with a client error; 'hang': the call never settles. */
export type FailureMode = 'ok' | 'reject' | 'hang';

/** One call the engine made. */
export interface StoreCall {
  readonly method: StoreMethod;
  /** The session id, or the user tag for `list` and `deleteUser`. */
  readonly key: string;
  /** The change of a `write`. */
  readonly change?: StoreChange;
}

/** The error a failing probe rejects with: what a Redis client throws when it is down. */
export class StoreDownError extends Error {
  override readonly name = 'StoreDownError';
}

export class ProbeStore implements SessionStore {
  readonly kind = 'probe';
  readonly timeout: number | undefined;
  readonly inner: SessionStore;
  readonly calls: StoreCall[] = [];
  #mode: FailureMode = 'ok';
  /** The methods the mode applies to; every method when undefined. */
  #only: ReadonlySet<StoreMethod> | undefined;

  constructor(inner: SessionStore, timeout?: number) {
    this.inner = inner;
    this.timeout = timeout;
  }

  /** Makes `methods` (all of them by default) fail as `mode` says, or work again ('ok'). */
  fail(mode: FailureMode, methods?: readonly StoreMethod[]): void {
    this.#mode = mode;
    this.#only = methods === undefined ? undefined : new Set(methods);
  }

  /** Forgets the calls logged so far. */
  reset(): void {
    this.calls.length = 0;
  }

  /** How many calls of `method` (of any method when undefined) were made since the reset. */
  count(method?: StoreMethod): number {
    return method === undefined
      ? this.calls.length
      : this.calls.filter((call) => call.method === method).length;
  }

  /** The changes written since the reset, in order. */
  writes(): StoreChange[] {
    return this.calls.flatMap((call) => (call.change === undefined ? [] : [call.change]));
  }

  get(id: string): Promise<StoredRecord | undefined> {
    return this.#run({ method: 'get', key: id }, () => this.inner.get(id));
  }

  write(id: string, change: StoreChange): Promise<boolean> {
    return this.#run({ method: 'write', key: id, change }, () => this.inner.write(id, change));
  }

  touch(id: string, lastSeenAt: number, expiresAt: number): Promise<boolean> {
    return this.#run({ method: 'touch', key: id }, () =>
      this.inner.touch(id, lastSeenAt, expiresAt),
    );
  }

  takeFlash(id: string, key: string): Promise<string | undefined> {
    return this.#run({ method: 'takeFlash', key: id }, () => this.inner.takeFlash(id, key));
  }

  delete(id: string): Promise<boolean | string> {
    return this.#run({ method: 'delete', key: id }, () => this.inner.delete(id));
  }

  markMoved(id: string, to: string, until: number): Promise<StoredRecord | undefined> {
    return this.#run({ method: 'markMoved', key: id }, () => this.inner.markMoved(id, to, until));
  }

  list(userTag: string, now: number): Promise<StoredSessionInfo[]> {
    return this.#run({ method: 'list', key: userTag }, () => this.inner.list(userTag, now));
  }

  deleteUser(userTag: string, except: readonly string[]): Promise<number> {
    return this.#run({ method: 'deleteUser', key: userTag }, () =>
      this.inner.deleteUser(userTag, except),
    );
  }

  #run<R>(call: StoreCall, pass: () => Promise<R>): Promise<R> {
    this.calls.push(call);
    const failing = this.#mode !== 'ok' && (this.#only?.has(call.method) ?? true);
    if (!failing) return pass();
    if (this.#mode === 'reject') {
      return Promise.reject(new StoreDownError(`connection refused (${call.method})`));
    }
    // Never settles: only the engine's deadline ends the call.
    return new Promise<R>(() => undefined);
  }
}
