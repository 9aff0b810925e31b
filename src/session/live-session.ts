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

/**
 * Where a manager keeps its request's session state: a non-enumerable property under a
 * symbol of this module, so `{ ...session }` and JSON never show it.
 */
const STATE: unique symbol = Symbol('session state');

type WithState = Readonly<Record<typeof STATE, SessionState>>;

/**
 * The accessors every manager gets as own properties, shared by all: one getter each,
 * reading the state through `this` (which also works through a Proxy or an object made
 * with the manager as prototype). Closures made per manager gave every manager a shape of
 * its own: 2.3–3.0 µs a construction against 0.3 µs, and a session read three times slower
 * (bench/results/NOTES.md).
 */
const ID: PropertyDescriptor = {
  enumerable: true,
  get(this: WithState) {
    return this[STATE].session?.id;
  },
};
const CREATED_AT: PropertyDescriptor = {
  enumerable: true,
  get(this: WithState) {
    return this[STATE].session?.createdAt;
  },
};
const DATA: PropertyDescriptor = {
  enumerable: true,
  get(this: WithState) {
    return this[STATE].session?.data ?? {};
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
    Object.defineProperty(this, STATE, { value: state });
    Object.defineProperty(this, 'id', ID);
    Object.defineProperty(this, 'createdAt', CREATED_AT);
    Object.defineProperty(this, 'data', DATA);
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
