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

/** Where a manager keeps its request's session state: a key users cannot name. */
const kState = Symbol('sealed-session.state');

/** The accessors, defined on each manager (own properties) from one shared descriptor set. */
const LIVE_FIELDS: PropertyDescriptorMap = {
  id: {
    enumerable: true,
    get(this: LiveSession<SessionDataT>) {
      return this[kState].session?.id;
    },
  },
  createdAt: {
    enumerable: true,
    get(this: LiveSession<SessionDataT>) {
      return this[kState].session?.createdAt;
    },
  },
  data: {
    enumerable: true,
    get(this: LiveSession<SessionDataT>) {
      return this[kState].session?.data ?? {};
    },
  },
};

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

  constructor(
    engine: SessionEngine,
    request: RequestContext,
    config: SessionConfig,
    state: SessionState,
  ) {
    this.#engine = engine;
    this.#request = request;
    this.#config = config;
    this[kState] = state;
    Object.defineProperties(this, LIVE_FIELDS);
  }

  /** The state the shared accessors read (a symbol key: not a property users see). */
  readonly [kState]: SessionState;

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
