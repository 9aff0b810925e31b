/**
 * readCookieValues walks the Cookie header once instead of splitting it: on any header it
 * must find what splitting on ";" and trimming each part finds (the rule every server
 * parser follows), in the same order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCookieMap, readCookieValues } from '../../src/cookie/session-cookie.js';

/** The obvious reading, kept here as the reference. */
function bySplitting(header: string, name: string): string[] {
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals < 0 || pair.slice(0, equals).trim() !== name) continue;
    values.push(pair.slice(equals + 1).trim());
  }
  return values;
}

const piece = fc.constantFrom(
  'h3',
  'h3=',
  ' h3 = ',
  'h3x',
  'xh3',
  'a',
  '=',
  ';',
  '; ',
  ' ',
  '\t',
  '"',
  'v',
  '%20',
  '%zz',
  'Fe26.2*x',
);

describe('readCookieValues', () => {
  it('finds what splitting the header finds, in order', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        const header = parts.join('');
        const expected = bySplitting(header, 'h3').map((value) => {
          try {
            return value.includes('%') ? decodeURIComponent(value) : value;
          } catch {
            return value;
          }
        });
        expect(readCookieValues(header, 'h3')).toEqual(expected);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('readCookieMap', () => {
  it('keeps the first value of each name, decoded, and skips pairs without "="', () => {
    const map = readCookieMap('flag; h3.0=a%20b; =x; h3.1 = c ;h3.0=later; other');
    expect([...map]).toEqual([
      ['h3.0', 'a b'],
      ['', 'x'],
      ['h3.1', 'c'],
    ]);
  });
});
