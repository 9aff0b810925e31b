// What every conformance module uses to run named checks, in plain ESM so each runtime
// (Node, Bun, Deno, workerd's bundle) loads it as it is.

/** Fe26.2 token grammar (DESIGN.md §2.1): eight `*`-separated fields. */
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
