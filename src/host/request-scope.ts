/**
 * The request a session function runs in when it is called without an event
 * (`useSession(config)`, as vinxi allows). This package's adapters and middleware run each
 * handler in an AsyncLocalStorage scope holding the request; inside Nitro and vinxi, the
 * request comes from their own async context (unctx's `nitro-app`), read without
 * importing either.
 *
 * AsyncLocalStorage is looked up at run time (a global, or `node:async_hooks` through
 * `process.getBuiltinModule`), never imported, so the core loads on runtimes without it;
 * there, calls without an event fail with a coded error that says what to do.
 */
import { SessionError } from '../errors.js';
import type { RequestContext } from '../session/request-state.js';

interface Storage<T> {
  run<R>(store: T, callback: () => R): R;
  getStore(): T | undefined;
}

type StorageConstructor = new <T>() => Storage<T>;

interface RuntimeGlobals {
  AsyncLocalStorage?: StorageConstructor;
  process?: { getBuiltinModule?: (id: string) => { AsyncLocalStorage?: StorageConstructor } };
  __unctx__?: {
    get(
      key: string,
      options?: { asyncContext: boolean; AsyncLocalStorage: StorageConstructor },
    ): { tryUse(): { event?: unknown } | undefined };
  };
}

const runtime = globalThis as unknown as RuntimeGlobals;

// One storage per process, shared by every copy of this package (an app may bundle one and
// a dependency another), under a registered symbol.
const STORAGE_KEY = Symbol.for('sealed-session.request-scope');

/** AsyncLocalStorage, as a global or from `node:async_hooks`, if the runtime has it. */
function findStorageConstructor(): StorageConstructor | undefined {
  if (runtime.AsyncLocalStorage !== undefined) return runtime.AsyncLocalStorage;
  try {
    return runtime.process?.getBuiltinModule?.('node:async_hooks').AsyncLocalStorage;
  } catch {
    return undefined;
  }
}

function findStorage(): Storage<RequestContext> | undefined {
  const shared = (runtime as unknown as Record<symbol, unknown>)[STORAGE_KEY] as
    Storage<RequestContext> | undefined;
  if (shared !== undefined) return shared;
  const AsyncLocalStorage = findStorageConstructor();
  if (AsyncLocalStorage === undefined) return undefined;
  const storage = new AsyncLocalStorage<RequestContext>();
  (runtime as unknown as Record<symbol, unknown>)[STORAGE_KEY] = storage;
  return storage;
}

let storage: Storage<RequestContext> | undefined;

/**
 * The storage, found at first use. Not finding one is not remembered: an app may set
 * `globalThis.AsyncLocalStorage` after this module loaded (workerd with `nodejs_als`).
 */
function requestStorage(): Storage<RequestContext> | undefined {
  storage ??= findStorage();
  return storage;
}

/** Runs `callback` with `request` as the current request of event-less session calls. */
export function runInRequestScope<R>(request: RequestContext, callback: () => R): R {
  const scope = requestStorage();
  return scope === undefined ? callback() : scope.run(request, callback);
}

/** The request of the current scope, set by this package's adapters, if any. */
export function scopedRequest(): RequestContext | undefined {
  return requestStorage()?.getStore();
}

/**
 * The event of the current Nitro or vinxi request, if their async context is on. The
 * context is looked up only inside a call (never at load), when Nitro has long made it.
 */
export function frameworkEvent(): unknown {
  try {
    // unctx makes the context when it is not there yet, with the options of the first
    // caller: give Nitro's own, so a context made here first still works for Nitro.
    const AsyncLocalStorage = findStorageConstructor();
    const options =
      AsyncLocalStorage === undefined ? undefined : { asyncContext: true, AsyncLocalStorage };
    return runtime.__unctx__?.get('nitro-app', options).tryUse()?.event;
  } catch {
    return undefined;
  }
}

/** The error of an event-less call made outside any request. */
export function noRequestInScope(): SessionError {
  return new SessionError(
    'ERR_EVENT_MISSING',
    'No request is in scope for a call without an event: pass the event, or turn on ' +
      "asyncContext in sealed-session's adapter or middleware options (toNodeListener(handler, " +
      '{ asyncContext: true })), or in Nitro or vinxi (server.experimental.asyncContext: true)',
  );
}
