/**
 * The Fe26.2 engine is written once for a synchronous backend (node:crypto) and an
 * asynchronous one (WebCrypto). Chaining through `chain` keeps the synchronous path free of
 * promise allocations and microtask hops, which would otherwise be most of the cost of a
 * cached unseal (bench/iron-profile.mjs times an awaited promise against the whole
 * operation).
 */
// Named `chain`, not `then`: a module exporting `then` makes its namespace a thenable.
export type MaybePromise<T> = T | Promise<T>;

export function chain<T, U>(
  value: MaybePromise<T>,
  next: (value: T) => MaybePromise<U>,
): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** Runs `fn` and always returns a promise, turning a synchronous throw into a rejection. */
export function toPromise<T>(fn: () => MaybePromise<T>): Promise<T> {
  try {
    const value = fn();
    return value instanceof Promise ? value : Promise.resolve(value);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

const settled = Promise.resolve();

/**
 * As {@link toPromise}, but a synchronous throw rejects one microtask later, by when the
 * caller has attached its handler. Node tracks every promise rejected while it has no
 * handler (to report unhandled rejections) and untracks it when one is attached; for a
 * refused token that bookkeeping cost more than the microtask (bench/results/NOTES.md).
 * Unhandled rejections are still reported.
 */
export function toPromiseLate<T>(fn: () => MaybePromise<T>): Promise<T> {
  try {
    const value = fn();
    return value instanceof Promise ? value : Promise.resolve(value);
  } catch (error) {
    const reason = error instanceof Error ? error : new Error(String(error));
    return settled.then(() => {
      throw reason;
    });
  }
}
