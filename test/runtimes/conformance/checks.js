// What every conformance module uses to run named checks, in plain ESM so each runtime
// (Node, Bun, Deno, workerd's bundle) loads it as it is.

/** Fe26.2 token grammar: eight `*`-separated fields. */
export const TOKEN_SHAPE =
  /^Fe26\.2\*\w*\*[0-9a-f]*\*[\w-]{22}\*[\w-]+\*\d*\*[0-9a-f]*\*[\w-]{43}$/;

/** A failed expectation (as opposed to an error thrown by the code under test). */
export class CheckFailed extends Error {}

export function assert(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

/** JSON with sorted keys: equal for deeply equal JSON values. */
function canonical(value) {
  return JSON.stringify(value, (_key, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

export function assertDeepEqual(actual, expected, what) {
  const a = canonical(actual);
  const e = canonical(expected);
  assert(a === e, `${what}: expected ${e.slice(0, 200)}, got ${String(a).slice(0, 300)}`);
}

/** One line about an error: the failed expectation, or what was thrown (name, code, message). */
export function describeError(error) {
  if (error instanceof CheckFailed) return error.message;
  if (error !== null && typeof error === 'object') {
    const { name, code, message } = error;
    return `threw ${String(name)}${code === undefined ? '' : ` ${String(code)}`}: ${String(message)}`;
  }
  return `threw ${String(error)}`;
}

/**
 * Named checks and their outcome: `check(name, fn)` runs one (a thrown error or a failed
 * expectation fails it, never the run), `skipped` collects those that could not run, and
 * `result(extra)` gives the summary every conformance module returns.
 */
export function createReport() {
  const passed = [];
  const failures = [];
  const skipped = [];
  const details = {};
  return {
    skipped,
    async check(name, fn) {
      try {
        await fn();
        passed.push(name);
      } catch (error) {
        failures.push(name);
        details[name] = describeError(error);
      }
    },
    result(extra) {
      return {
        passed: passed.length,
        failed: failures.length,
        failures,
        skipped,
        details,
        runtime: runtimeName(),
        ...extra,
      };
    },
  };
}

/** The runtime running this module, as it names itself. */
function runtimeName() {
  const g = globalThis;
  if (g.navigator !== undefined && typeof g.navigator.userAgent === 'string') {
    return g.navigator.userAgent;
  }
  if (g.process !== undefined && g.process.versions !== undefined) {
    return `Node.js/${String(g.process.versions.node)}`;
  }
  return 'unknown';
}
