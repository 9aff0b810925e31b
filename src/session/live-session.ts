/**
 * The manager `useSession` and the middleware hand out: live accessors over the request's
 * session state and its write operations. `id`, `createdAt` and `data` are own enumerable
 * accessors, as on h3's manager, so `{ ...session }` and `JSON.stringify(session)` show
 * them.
 */
import { resolveConfig } from './config.js';
import type { RequestContext, SessionState } from './request-state.js';
import type { SessionEngine } from './session-engine.js';
import type {
  FlashDataT,
  SessionConfig,
  SessionDataT,
  SessionManager,
  SessionUpdate,
} from './types.js';
import { watchWrite } from './unawaited.js';

export class LiveSession<
  T extends SessionDataT,
  F extends FlashDataT = FlashDataT,
> implements SessionManager<T, F> {
  declare readonly id: string | undefined;
  declare readonly createdAt: number | undefined;
  declare readonly data: T;
  readonly #engine: SessionEngine;
  readonly #request: RequestContext;
  readonly #config: SessionConfig;
  readonly #state: SessionState;

  /**
   * The accessors every manager gets as own properties, shared: one getter function each
   * reading the manager's private state. Closures made per manager cost 2.3–3.0 µs a
   * construction against 0.3 µs (bench/results/NOTES.md), in a session read of ~7 µs.
   */
  static readonly #id: PropertyDescriptor = {
    enumerable: true,
    get(this: LiveSession<SessionDataT>) {
      return this.#state.session?.id;
    },
  };
  static readonly #createdAt: PropertyDescriptor = {
    enumerable: true,
    get(this: LiveSession<SessionDataT>) {
      return this.#state.session?.createdAt;
    },
  };
  static readonly #data: PropertyDescriptor = {
    enumerable: true,
    get(this: LiveSession<SessionDataT>) {
      return this.#state.session?.data ?? {};
    },
  };

  constructor(
    engine: SessionEngine,
    request: RequestContext,
    config: SessionConfig,
    state: SessionState,
  ) {
    this.#engine = engine;
    this.#request = request;
    this.#config = config;
    // The state stays private: no property of the manager users could reach.
    this.#state = state;
    Object.defineProperty(this, 'id', LiveSession.#id);
    Object.defineProperty(this, 'createdAt', LiveSession.#createdAt);
    Object.defineProperty(this, 'data', LiveSession.#data);
  }

  update(update?: SessionUpdate<T>): Promise<this> {
    return this.#settle(this.#engine.updateSession(this.#request, this.#config, update));
  }

  clear(): Promise<this> {
    return this.#settle(this.#engine.clearSession(this.#request, this.#config));
  }

  regenerate(): Promise<this> {
    return this.#settle(this.#engine.regenerateSession(this.#request, this.#config));
  }

  flash<K extends keyof F & string>(key: K, value: F[K]): Promise<this> {
    return this.#settle(this.#engine.setFlash(this.#request, this.#config, key, value));
  }

  takeFlash<K extends keyof F & string>(key: K): Promise<F[K] | undefined> {
    return this.#engine.takeFlash(this.#request, this.#config, key) as Promise<F[K] | undefined>;
  }

  /** The manager once `write` is done, watched like every write (see unawaited.ts). */
  #settle(write: Promise<unknown>): Promise<this> {
    return watchWrite(
      write.then(() => this),
      resolveConfig(this.#config).onUnawaitedError,
    );
  }
}
