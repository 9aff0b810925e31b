/**
 * The manager `useSession` and the middleware hand out: live accessors over the request's
 * session state and its write operations. A class, so a request allocates one small object.
 */
import type { RequestContext, SessionState } from './request-state.js';
import type { SessionEngine } from './session-engine.js';
import type { SessionConfig, SessionDataT, SessionManager, SessionUpdate } from './types.js';
import { watchWrite } from './unawaited.js';
import { resolveConfig } from './config.js';

export class LiveSession<T extends SessionDataT> implements SessionManager<T> {
  readonly #engine: SessionEngine;
  readonly #request: RequestContext;
  readonly #config: SessionConfig;
  readonly #state: SessionState;

  constructor(
    engine: SessionEngine,
    request: RequestContext,
    config: SessionConfig,
    state: SessionState,
  ) {
    this.#engine = engine;
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

  update(update?: SessionUpdate<T>): Promise<this> {
    return this.#settle(this.#engine.updateSession(this.#request, this.#config, update));
  }

  clear(): Promise<this> {
    return this.#settle(this.#engine.clearSession(this.#request, this.#config));
  }

  regenerate(): Promise<this> {
    return this.#settle(this.#engine.regenerateSession(this.#request, this.#config));
  }

  /** The manager once `write` is done, watched like every write (see unawaited.ts). */
  #settle(write: Promise<unknown>): Promise<this> {
    return watchWrite(
      write.then(() => this),
      resolveConfig(this.#config).onUnawaitedError,
    );
  }
}
