/**
 * copyJson, which hands out the data of a verified token from the second read on: a copy
 * must equal what JSON.parse of the same text gives (keys, order, values), share nothing
 * mutable with its source, and give up (undefined) where it leaves the work to the parser.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyJson, parseSafe, setDataKey } from '../../src/iron/json.js';

describe('copyJson', () => {
  it('equals JSON.parse of the same text, key order included, and shares nothing mutable', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        // copyJson copies what parseSafe gives; parseSafe refuses prototype keys outright.
        fc.pre(!/__proto__|"constructor"/.test(text));
        const parsed = parseSafe(text);
        const copy = copyJson(parsed);
        expect(JSON.stringify(copy)).toBe(JSON.stringify(JSON.parse(text)));
        expect(copy).toStrictEqual(JSON.parse(text));
        if (typeof copy === 'object' && copy !== null) {
          expect(copy).not.toBe(parsed);
          // Changing the copy leaves the source as parsed.
          (copy as Record<string, unknown>)['added'] = 1;
          expect(JSON.stringify(parsed)).toBe(JSON.stringify(JSON.parse(text)));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('gives up past its depth, so the caller parses again', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { next: deep };
    expect(copyJson(deep)).toBeUndefined();
    let shallow: unknown = 1;
    for (let i = 0; i < 10; i++) shallow = [shallow];
    expect(copyJson(shallow)).toStrictEqual(shallow);
  });

  it('gives up on anything JSON.parse cannot give, so the caller copies it another way', () => {
    class Point {
      x = 1;
    }
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    const protoKey = JSON.parse('{"__proto__": 1}') as unknown;
    for (const odd of [
      new Date(0),
      new Map([[1, 2]]),
      new Point(),
      () => 1,
      Symbol('s'),
      1n,
      protoKey,
      cycle,
      new Uint8Array(2),
    ]) {
      expect(copyJson({ a: [1, { b: odd }] })).toBeUndefined();
    }
    // A null-prototype object is plain data: copied to an ordinary object, as JSON would be.
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    expect(copyJson({ bare })).toStrictEqual({ bare: { a: 1 } });
  });

  it('copies own keys only, even when Object.prototype carries an enumerable one', () => {
    const polluted = Object.prototype as Record<string, unknown>;
    polluted['injected'] = 'from the prototype';
    try {
      const copy = copyJson({ a: { b: 1 } }) as Record<string, Record<string, unknown>>;
      expect(Object.keys(copy)).toEqual(['a']);
      expect(Object.hasOwn(copy['a']!, 'injected')).toBe(false);
    } finally {
      delete polluted['injected'];
    }
  });
});

describe('setDataKey', () => {
  it('makes an own data property of every key, as JSON.parse does, without running a setter', () => {
    const target: Record<string, unknown> = { own: 1 };
    setDataKey(target, 'own', 2);
    setDataKey(target, 'plain', 3);
    setDataKey(target, '__proto__', { admin: true });
    setDataKey(target, 'constructor', 'data');
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(Object.keys(target)).toEqual(['own', 'plain', '__proto__', 'constructor']);
    expect(target).toStrictEqual(
      JSON.parse('{"own":2,"plain":3,"__proto__":{"admin":true},"constructor":"data"}'),
    );

    // A target without a prototype: every key is its own, __proto__ included.
    const bare = Object.create(null) as Record<string, unknown>;
    setDataKey(bare, '__proto__', 1);
    setDataKey(bare, 'a', 2);
    expect(Object.getPrototypeOf(bare)).toBeNull();
    expect(Object.keys(bare)).toEqual(['__proto__', 'a']);
    expect(bare['__proto__']).toBe(1);

    // A prototype polluted with an accessor: the key is defined on the target, the setter
    // never runs.
    let setterRan = false;
    Object.defineProperty(Object.prototype, 'pollutedKey', {
      configurable: true,
      get: () => 'from the prototype',
      set: () => {
        setterRan = true;
      },
    });
    try {
      const fresh: Record<string, unknown> = {};
      setDataKey(fresh, 'pollutedKey', 'data');
      expect(setterRan).toBe(false);
      expect(Object.getOwnPropertyDescriptor(fresh, 'pollutedKey')).toEqual({
        value: 'data',
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } finally {
      delete (Object.prototype as Record<string, unknown>)['pollutedKey'];
    }
  });
});
