/**
 * Errors made without a stack trace, for the refusals that anyone can cause at will: a
 * malformed, forged, tampered or expired token. V8 walks the stack for every error it
 * makes, and for a forged token that walk cost as much as checking its MAC
 * (bench/results/NOTES.md). Such a stack only shows this library's own frames, and the
 * error's code and message say all there is to say.
 *
 * Where `Error.stackTraceLimit` cannot be written (frozen intrinsics), errors keep their
 * stack.
 */
const canTrim = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')?.writable === true;

/** Runs `make` with stack traces off, and restores the limit whatever happens. */
export function withoutStack<T>(make: () => T): T {
  if (!canTrim) return make();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
