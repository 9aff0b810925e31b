/**
 * JSON for sealed data, in both directions: sealing refuses any value a JSON round trip
 * would change (instead of sealing something else than was given), and unsealing refuses
 * keys that would pollute prototypes in code that copies the data.
 */
import { SessionError } from '../errors.js';

function notJson(): SessionError {
  return new SessionError('ERR_DATA_INVALID', 'Data cannot be represented faithfully as JSON');
}

/**
 * A key that would change an object's prototype when copied with assignment semantics
 * (`Object.assign`, naive deep merges), or a `constructor.prototype` path that reaches one.
 */
function isDangerousKey(object: Record<string, unknown>, key: string): boolean {
  if (key === '__proto__') return true;
  if (key !== 'constructor') return false;
  const value = object[key];
  return typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype');
}

/**
 * JSON.stringify, refusing anything the round trip would change instead of silently
 * changing it: functions, symbols, bigints, NaN and infinities, `undefined` in arrays,
 * class instances (Date, Map, ...), symbol or non-enumerable keys, cycles, prototype
 * keys. `undefined` object properties are allowed and dropped, as every JSON user expects.
 *
 * @throws SessionError `ERR_DATA_INVALID`
 */
export function stringifyLossless(value: unknown): string {
  if (!isLosslessJson(value)) throw notJson();
  try {
    return JSON.stringify(value);
  } catch (error) {
    // Defensive: isLosslessJson has already refused cycles and every non-JSON value.
    throw new SessionError('ERR_DATA_INVALID', 'Data cannot be represented faithfully as JSON', {
      cause: error,
    });
  }
}

/**
 * Values walked before giving up. Cycles (which JSON.stringify would reject anyway) and
 * absurdly shared structures end here instead of looping; no session comes near it.
 */
const MAX_NODES = 1_000_000;

function isLosslessJson(root: unknown): boolean {
  const stack: unknown[] = [root];
  let visited = 0;
  while (stack.length > 0) {
    if (++visited > MAX_NODES) return false;
    const value = stack.pop();
    switch (typeof value) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(value)) return false;
        continue;
      case 'undefined':
      case 'bigint':
      case 'function':
      case 'symbol':
        return false;
      case 'object':
        break;
    }
    if (value === null) continue;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        // A hole or undefined in an array becomes null in JSON.
        if (value[i] === undefined) return false;
        stack.push(value[i]);
      }
      continue;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    const record = value as Record<string, unknown>;
    let enumerable = 0;
    for (const key in record) {
      // for-in also yields inherited enumerable keys (a polluted Object.prototype): JSON
      // would leave those out.
      if (!Object.hasOwn(record, key) || isDangerousKey(record, key)) return false;
      enumerable++;
      const child = record[key];
      // An undefined property is dropped, as every JSON user expects.
      if (child !== undefined) stack.push(child);
    }
    // Non-enumerable and symbol keys would be dropped by JSON too. Two counts rather than
    // one Reflect.ownKeys, which takes V8's slow path (bench/results/NOTES.md).
    if (
      Object.getOwnPropertyNames(record).length !== enumerable ||
      Object.getOwnPropertySymbols(record).length !== 0
    ) {
      return false;
    }
  }
  return true;
}

/**
 * Sets `target[key] = value` as an own data property, as JSON.parse makes them. A key the
 * target inherits (`__proto__`, `constructor`, or anything a polluted prototype holds, an
 * accessor included) is defined, so it stays data and runs no setter; other keys are
 * assigned: defining every key cost twice as much, and gave objects V8 reads more slowly.
 */
export function setDataKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (!Object.hasOwn(target, key) && key in target) {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

// JSON text can spell a key with escapes ("\u005f_proto__"), so any escape also takes the
// careful path; plain session data rarely contains one.
const SUSPICIOUS = /__proto__|constructor|\\u/;

/**
 * JSON.parse that refuses prototype-polluting keys (`__proto__`, `constructor.prototype`)
 * anywhere in the value, as @hapi/bourne does.
 *
 * @throws SessionError `ERR_DATA_INVALID` (prototype keys), `ERR_SEAL_UNSEAL_FAILED` (not JSON)
 */
export function parseSafe(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // The MAC verified, so text that is not JSON means it was decrypted with the wrong key
    // or algorithm (mismatched options): the same failure as a decryption error.
    throw new SessionError(
      'ERR_SEAL_UNSEAL_FAILED',
      'The token does not verify with this password',
      {
        cause: error,
      },
    );
  }
  if (SUSPICIOUS.test(text) && hasDangerousKey(value)) {
    throw new SessionError('ERR_DATA_INVALID', 'Sealed data contains a prototype key');
  }
  return value;
}

function hasDangerousKey(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) stack.push(item);
      continue;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (isDangerousKey(record, key)) return true;
      stack.push(record[key]);
    }
  }
  return false;
}

/** Nesting copied by `copyJson`; deeper data is the caller's to copy another way. */
const MAX_COPY_DEPTH = 64;
/** What `copyValue` answers when it gives up (too deep, or a value it does not copy). */
const GIVE_UP: unique symbol = Symbol('give up');

/**
 * A deep copy of `value` when it is made of plain objects, arrays and primitives only (what
 * JSON.parse gives), or undefined when it holds anything else (a Date, a Map, a class
 * instance, a function, a `__proto__` key) or is nested deeper than the copy goes: the
 * caller then parses the JSON text again, or copies with structuredClone. The copy is what
 * JSON.parse of the same text would give (same keys, same order), at about a third of its
 * cost and a fraction of structuredClone's: strings are shared, not scanned again
 * (bench/results/NOTES.md). Cycles end at the depth limit.
 */
export function copyJson(value: unknown): unknown {
  const copy = copyValue(value, 0);
  return copy === GIVE_UP ? undefined : copy;
}

function copyValue(value: unknown, depth: number): unknown {
  if (typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint'
      ? GIVE_UP
      : value;
  }
  if (value === null) return value;
  if (depth === MAX_COPY_DEPTH) return GIVE_UP;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === Array.prototype) {
    const array = value as unknown[];
    const out: unknown[] = [];
    for (let i = 0; i < array.length; i++) {
      const item = copyValue(array[i], depth + 1);
      if (item === GIVE_UP) return GIVE_UP;
      out.push(item);
    }
    return out;
  }
  if (prototype !== Object.prototype && prototype !== null) return GIVE_UP;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key in record) {
    // Own keys only (a polluted Object.prototype must not leak in). Assigning "__proto__"
    // would set the copy's prototype, so a value with that key is left to the caller.
    if (!Object.hasOwn(record, key)) continue;
    if (key === '__proto__') return GIVE_UP;
    const item = copyValue(record[key], depth + 1);
    if (item === GIVE_UP) return GIVE_UP;
    out[key] = item;
  }
  return out;
}
