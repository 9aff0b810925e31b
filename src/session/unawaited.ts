/**
 * Session writes that nobody awaits. A middleware may start `session.update(...)` and move
 * on; if that write then fails (the response went out, the data is too large), the
 * rejection would be unhandled and, on Node, end the process. Every write the session API
 * returns goes through {@link watchWrite}: a rejection that nobody observed is handed to the
 * configuration's `onUnawaitedError` instead, and one that somebody awaits reaches them as
 * usual.
 */

/**
 * A promise that remembers whether anyone called `then` on it. `await`, `.then`, `.catch`,
 * `.finally` and `Promise.all` all do (for a subclass instance, `await` goes through
 * `then`), so "observed" means exactly "somebody will see the outcome".
 */
class WatchedPromise<T> extends Promise<T> {
  // Promise methods on a WatchedPromise return plain promises: only the one handed out is watched.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  observed = false;

  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.observed = true;
    return super.then(onFulfilled, onRejected);
  }
}

/**
 * `work`, as a promise that reports its failure to `report` when nobody observed it, and
 * that never counts as an unhandled rejection.
 */
export function watchWrite<T>(work: Promise<T>, report: (error: unknown) => void): Promise<T> {
  const watched = new WatchedPromise<T>((resolve, reject) => {
    work.then(resolve, reject);
  });
  // Attached with the original `then`, so this handler does not count as an observer.
  void Promise.prototype.then.call(watched, undefined, (error: unknown) => {
    if (!watched.observed) {
      try {
        report(error);
      } catch {
        // A reporter that throws (a logger that is down) must not become the unhandled
        // rejection this module exists to prevent.
      }
    }
  });
  return watched;
}
