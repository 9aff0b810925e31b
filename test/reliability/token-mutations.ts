/**
 * The seeded token mutator of the reliability suites (token-fuzz.test.ts, http-bad-input.test.ts
 * and the long run of tools/fuzz.mjs): a small PRNG, mutations of Fe26.2 tokens (characters,
 * fields, separators, lengths, base64 edges, huge fields, unicode, chunks, other tokens'
 * parts), and an oracle for the token grammar written from its description, not from
 * src/iron/format.ts, so a suite can tell which tokens the grammar must refuse before any
 * key work without trusting the code under test.
 *
 * Everything random comes from one {@link Draw}: the same seed gives the same mutations,
 * which is what makes a failing case replayable.
 */

/** A seed from `variable` when set (to replay a run), else a random one. */
export function seedFrom(variable: string): number {
  const given = process.env[variable];
  if (given === undefined || given === '') return Math.floor(Math.random() * 0x7fffffff);
  const seed = Number(given);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`${variable} must be a non-negative integer, got ${JSON.stringify(given)}`);
  }
  return seed;
}

/** A positive count from `variable` when set, else `fallback`. */
export function countFrom(variable: string, fallback: number): number {
  const given = process.env[variable];
  if (given === undefined || given === '') return fallback;
  const count = Number(given);
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new Error(`${variable} must be a positive integer, got ${JSON.stringify(given)}`);
  }
  return count;
}

/** A non-negative integer from `variable` when set, else undefined. */
export function indexFrom(variable: string): number | undefined {
  const given = process.env[variable];
  if (given === undefined || given === '') return undefined;
  const index = Number(given);
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new Error(`${variable} must be a non-negative integer, got ${JSON.stringify(given)}`);
  }
  return index;
}

/** Seeded random draws (mulberry32: tiny, fast, and good enough to spread test cases). */
export class Draw {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  /**
   * `count` characters of `alphabet` for bulk: a random block repeated, so a huge value
   * costs little to make (what it holds past the first kilobyte does not matter).
   */
  filler(alphabet: string, count: number): string {
    const block = this.chars(alphabet, Math.min(count, 1021));
    return block.length === 0 ? '' : block.repeat(Math.ceil(count / block.length)).slice(0, count);
  }

  /** `count` characters of `alphabet`. */
  chars(alphabet: string, count: number): string {
    let out = '';
    for (let i = 0; i < count; i++) out += alphabet.charAt(this.int(alphabet.length));
    return out;
  }
}

export const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const HEX = '0123456789abcdef';
const HEX_ANY_CASE = '0123456789abcdefABCDEF';
const DIGITS = '0123456789';
const WORD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_';

/** The eight fields of a token, in order. */
export const FIELDS = [
  'prefix',
  'passwordId',
  'encryptionSalt',
  'iv',
  'ciphertext',
  'expiration',
  'hmacSalt',
  'hmac',
] as const;

/** What each field is written in, so a mutation can stay inside a field's alphabet. */
const FIELD_ALPHABETS: readonly string[] = [
  'Fe26.2',
  WORD,
  HEX,
  BASE64URL,
  BASE64URL,
  DIGITS,
  HEX,
  BASE64URL,
];

/** ASCII that means something to a parser somewhere: separators, padding, escapes, quotes. */
const EDGE = [
  '*',
  '**',
  '.',
  '+',
  '/',
  '=',
  '==',
  '%',
  '%2A',
  '%3D',
  ' ',
  '\t',
  '"',
  "'",
  ';',
  ',',
  '\\',
  '\u007f',
] as const;
const CONTROL = ['\u0000', '\n', '\r', '\r\n', '\u0001', '\u001b', '\b'] as const;
/**
 * Non-ASCII a regex or a decoder could take for ASCII: letters that case-fold to ASCII
 * (Kelvin sign, long s, dotted I), digits of other scripts, invisible and bidi marks, lone
 * surrogates, astral characters, a combining accent.
 */
export const UNICODE = [
  'é',
  'ß',
  'İ',
  'ı',
  '\u212a',
  '\u017f',
  '１',
  '٣',
  '߀',
  '\u00a0',
  '\u200b',
  '\u200d',
  '\ufeff',
  '\u202e',
  '\u2028',
  '\ud800',
  '\udfff',
  '😀',
  '𝔉',
  'e\u0301',
  '\uffff',
  '\ufffd',
  '＊',
] as const;
/** Look-alikes of token characters: fullwidth and Greek/Cyrillic letters, other asterisks. */
const LOOKALIKES: Readonly<Record<string, string>> = {
  '*': '＊',
  '.': '．',
  '0': '０',
  '1': '１',
  '2': '２',
  '6': '６',
  A: 'Α',
  B: 'В',
  E: 'Е',
  F: 'Ϝ',
  a: 'а',
  c: 'с',
  e: 'е',
  o: 'о',
  '-': '‐',
  _: '＿',
};

/** Where mutations may take parts from: valid tokens of every kind. */
export interface MutationContext {
  readonly donors: readonly string[];
}

/** One mutation: the operators applied, and the result. */
export interface Mutation {
  readonly op: string;
  readonly value: string;
}

type Operator = (token: string, draw: Draw, context: MutationContext) => string;

const splitFields = (token: string): string[] => token.split('*');

/** Index of the field (0 to 7, or more for extra fields) holding character `index`. */
function fieldAt(token: string, index: number): number {
  let field = 0;
  for (let i = 0; i < index && i < token.length; i++) if (token[i] === '*') field++;
  return field;
}

function alphabetOf(field: number): string {
  return FIELD_ALPHABETS[field] ?? BASE64URL;
}

/** A replacement character: mostly from the field's own alphabet, sometimes anything odd. */
function someChar(draw: Draw, alphabet: string): string {
  const roll = draw.next();
  if (roll < 0.55) return draw.chars(alphabet, 1);
  if (roll < 0.7) return draw.chars(BASE64URL, 1);
  if (roll < 0.8) return draw.pick(EDGE);
  if (roll < 0.92) return draw.pick(UNICODE);
  return draw.pick(CONTROL);
}

function someChars(draw: Draw, alphabet: string, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += someChar(draw, alphabet);
  return out;
}

/** Applies `change` to one field (an existing one, the first eight mostly). */
function withField(
  token: string,
  draw: Draw,
  change: (value: string, field: number) => string,
  only?: readonly number[],
): string {
  const fields = splitFields(token);
  const field = only === undefined ? draw.int(fields.length) : draw.pick(only);
  if (field >= fields.length) return token;
  fields[field] = change(fields[field]!, field);
  return fields.join('*');
}

/** Edge lengths each field's rule has a boundary at. */
const EDGE_LENGTHS: readonly (readonly number[])[] = [
  [0, 5, 7],
  [0, 1, 64, 300],
  [0, 1, 63, 64, 65, 255, 256, 257, 512],
  [0, 20, 21, 23, 24, 32],
  [1, 2, 3, 5, 21, 22, 23, 43, 64],
  [0, 1, 15, 16, 17, 20],
  [0, 1, 63, 64, 65, 255, 256, 257, 512],
  [0, 42, 44, 45, 64, 86],
];

/** `value` made `length` long: cut, or padded with its field's alphabet. */
function resize(value: string, length: number, draw: Draw, alphabet: string): string {
  if (length <= value.length) return value.slice(0, length);
  return value + draw.filler(alphabet, length - value.length);
}

/** Huge sizes, small ones drawn far more often: big values cost the suites real time. */
function hugeSize(draw: Draw): number {
  const roll = draw.next();
  if (roll < 0.45) return draw.between(257, 1_024);
  if (roll < 0.75) return draw.between(1_025, 8_192);
  if (roll < 0.93) return draw.between(8_193, 32_768);
  return draw.between(32_769, 70_000);
}

const EXPIRATIONS = [
  '',
  '0',
  '00',
  '01',
  '-1',
  '+1',
  '1.5',
  '1e13',
  '0x1f',
  ' 1',
  '1 ',
  'NaN',
  'Infinity',
  '9'.repeat(16),
  '9'.repeat(17),
  `1${'0'.repeat(15)}`,
  `1${'0'.repeat(16)}`,
  '１７００００００００００００',
  '٣',
] as const;

const PREFIXES = [
  'Fe26.1',
  'Fe26.3',
  'fe26.2',
  'FE26.2',
  'Fe26.2 ',
  ' Fe26.2',
  'Fe26',
  'Fe26.',
  'Fe27.2',
  '',
  'Fe26.2.0',
  'Fe26.２',
  'Fe26\u00b72',
  'Fe26.2\u0000',
] as const;

const PASSWORD_IDS = [
  '',
  '0',
  '1',
  '2',
  '3',
  '01',
  '7',
  'default',
  'k1',
  'k2',
  'b1',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'é',
  'a-b',
  'a b',
  'a.b',
  '\u212a',
  '_',
  'x'.repeat(300),
] as const;

const WRAPPERS = [' ', '\t', '\n', '"', "'", '\r\n', '\u00a0', '\ufeff', '\u0000', '%20'] as const;

/** Splits a long token as a chunked cookie would (h3 2.x: 4000 characters a chunk). */
function chunksOf(token: string, draw: Draw): string[] {
  const size =
    token.length > 4000
      ? draw.pick([4000, 4000, 1000, 3999])
      : Math.max(1, Math.ceil(token.length / 3));
  const chunks: string[] = [];
  for (let at = 0; at < token.length; at += size) chunks.push(token.slice(at, at + size));
  return chunks.length > 0 ? chunks : [''];
}

function otherDonor(token: string, draw: Draw, context: MutationContext): string {
  const others = context.donors.filter((donor) => donor !== token);
  return others.length > 0 ? draw.pick(others) : token;
}

/** Every byte of `char`'s UTF-8 as %XX; a lone surrogate (no UTF-8) stays as it is. */
function percentEncoded(char: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(char);
  } catch {
    return char;
  }
  return encoded.replace(
    /[^%]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** Every operator, by name. Each returns a changed token (rarely, by chance, the same). */
const OPERATORS: readonly (readonly [name: string, weight: number, run: Operator])[] = [
  [
    'flip',
    3,
    (t, d) => {
      if (t.length === 0) return someChar(d, BASE64URL);
      const i = d.int(t.length);
      return t.slice(0, i) + someChar(d, alphabetOf(fieldAt(t, i))) + t.slice(i + 1);
    },
  ],
  [
    'bit',
    2,
    (t, d) => {
      if (t.length === 0) return t;
      const i = d.int(t.length);
      return (
        t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ (1 << d.int(8))) + t.slice(i + 1)
      );
    },
  ],
  [
    'insert',
    2,
    (t, d) => {
      const i = d.int(t.length + 1);
      return t.slice(0, i) + someChars(d, alphabetOf(fieldAt(t, i)), d.between(1, 8)) + t.slice(i);
    },
  ],
  [
    'delete',
    2,
    (t, d) => {
      if (t.length === 0) return t;
      const i = d.int(t.length);
      return t.slice(0, i) + t.slice(i + d.between(1, 8));
    },
  ],
  [
    'truncate',
    2,
    (t, d) => {
      const cut = d.int(Math.max(1, t.length));
      const roll = d.int(3);
      if (roll === 0) return t.slice(0, cut);
      if (roll === 1) return t.slice(cut + 1);
      return t.slice(0, cut) + t.slice(cut + d.between(1, Math.max(1, t.length - cut)));
    },
  ],
  [
    'separator',
    2,
    (t, d) => {
      const stars: number[] = [];
      for (let i = 0; i < t.length; i++) if (t[i] === '*') stars.push(i);
      const roll = d.int(6);
      if (roll === 0 || stars.length === 0) {
        const i = d.int(t.length + 1);
        return `${t.slice(0, i)}*${t.slice(i)}`;
      }
      const at = d.pick(stars);
      if (roll === 1) return `${t.slice(0, at)}${d.pick(['**', '***'])}${t.slice(at + 1)}`;
      if (roll === 2) return t.slice(0, at) + t.slice(at + 1);
      if (roll === 3) return d.chance(0.5) ? `*${t}` : `${t}*`;
      if (roll === 4) {
        const replacement = d.pick(['.', ':', '%2A', '＊', '∗', '|', ' ', '']);
        return t.slice(0, at) + replacement + t.slice(at + 1);
      }
      // An extra field, or one field fewer.
      const fields = splitFields(t);
      if (d.chance(0.5)) fields.splice(d.int(fields.length + 1), 0, d.chars(BASE64URL, d.int(30)));
      else fields.splice(d.int(fields.length), 1);
      return fields.join('*');
    },
  ],
  [
    'swap-fields',
    2,
    (t, d) => {
      const fields = splitFields(t);
      if (fields.length < 2) return t;
      const i = d.int(fields.length);
      const j = (i + 1 + d.int(fields.length - 1)) % fields.length;
      [fields[i], fields[j]] = [fields[j]!, fields[i]!];
      return fields.join('*');
    },
  ],
  [
    'reorder',
    1,
    (t, d) => {
      const fields = splitFields(t);
      const roll = d.int(3);
      if (roll === 0) return fields.reverse().join('*');
      if (roll === 1) return [...fields.slice(1), fields[0]!].join('*');
      for (let i = fields.length - 1; i > 0; i--) {
        const j = d.int(i + 1);
        [fields[i], fields[j]] = [fields[j]!, fields[i]!];
      }
      return fields.join('*');
    },
  ],
  [
    'transplant',
    3,
    (t, d, c) => {
      const donor = splitFields(otherDonor(t, d, c));
      const fields = splitFields(t);
      const i = d.int(Math.min(fields.length, 8));
      const from = d.chance(0.75) ? i : d.int(donor.length);
      fields[i] = donor[from] ?? '';
      return fields.join('*');
    },
  ],
  [
    'field-length',
    3,
    (t, d) =>
      withField(t, d, (value, field) => {
        const alphabet = alphabetOf(field);
        const roll = d.int(4);
        if (roll === 0) return value + d.chars(alphabet, d.between(1, 6));
        if (roll === 1) return value.slice(0, Math.max(0, value.length - d.between(1, 6)));
        if (roll === 2) return resize(value, d.pick(EDGE_LENGTHS[field] ?? [0, 1]), d, alphabet);
        // Base64 of n bytes is never 4k+1 long; a block of AES is 16 bytes (about 22 characters).
        const lengths = [value.length + 22, Math.max(0, value.length - 22), value.length + 1];
        const target = d.pick(lengths);
        return resize(value, target + (target % 4 === 1 ? 0 : d.int(4)), d, alphabet);
      }),
  ],
  [
    'base64-edge',
    3,
    (t, d) =>
      withField(
        t,
        d,
        (value) => {
          const roll = d.int(6);
          if (roll === 0) return value + d.pick(['=', '==', '===']);
          if (roll === 1 && value.length > 0) {
            const i = d.int(value.length);
            return value.slice(0, i) + d.pick(['+', '/', '=']) + value.slice(i + 1);
          }
          if (roll === 2) return value.replaceAll('-', '+').replaceAll('_', '/');
          if (roll === 3 && value.length > 0) {
            // Bits past the end of the data in the last character: a non-canonical encoding.
            const last = BASE64URL.indexOf(value.charAt(value.length - 1));
            const changed = BASE64URL.charAt(((last < 0 ? 0 : last) ^ d.between(1, 15)) & 63);
            return value.slice(0, -1) + changed;
          }
          if (roll === 4 && value.length > 0) {
            const i = d.int(value.length);
            const char = value.charAt(i);
            const swapped = char === char.toUpperCase() ? char.toLowerCase() : char.toUpperCase();
            return value.slice(0, i) + swapped + value.slice(i + 1);
          }
          return d.pick(['-', '_', '--', '__']) + value.slice(1);
        },
        [3, 4, 7],
      ),
  ],
  [
    'huge',
    1,
    (t, d) => {
      const size = hugeSize(d);
      const roll = d.int(4);
      if (roll === 0) {
        return withField(t, d, (value, field) => resize(value, size, d, alphabetOf(field)));
      }
      if (roll === 1) return t + d.filler(BASE64URL, size);
      if (roll === 2) return t.repeat(Math.max(2, Math.ceil(size / Math.max(1, t.length))));
      return `${t.slice(0, d.int(t.length + 1))}${'*'.repeat(Math.min(size, 4096))}`;
    },
  ],
  [
    'unicode',
    2,
    (t, d) => {
      const roll = d.int(3);
      if (roll === 0) {
        const i = d.int(t.length + 1);
        return t.slice(0, i) + d.pick(UNICODE) + t.slice(i);
      }
      if (roll === 1) {
        const positions: number[] = [];
        for (let i = 0; i < t.length; i++) if (LOOKALIKES[t[i]!] !== undefined) positions.push(i);
        if (positions.length === 0) return `${t}${d.pick(UNICODE)}`;
        const i = d.pick(positions);
        return t.slice(0, i) + LOOKALIKES[t[i]!]! + t.slice(i + 1);
      }
      const i = d.int(t.length);
      return t.slice(0, i) + d.pick(UNICODE) + t.slice(i + 1);
    },
  ],
  [
    'case',
    1,
    (t, d) => {
      const roll = d.int(3);
      if (roll === 0) return t.toUpperCase();
      if (roll === 1) return t.toLowerCase();
      return withField(t, d, (value) =>
        d.chance(0.5) ? value.toUpperCase() : value.toLowerCase(),
      );
    },
  ],
  [
    'expiration',
    2,
    (t, d) =>
      withField(
        t,
        d,
        () => {
          if (d.chance(0.6)) return d.pick(EXPIRATIONS);
          const now = Date.now();
          return String(d.chance(0.5) ? now - d.int(1e9) : now + d.int(1e12));
        },
        [5],
      ),
  ],
  ['prefix', 1, (t, d) => withField(t, d, () => d.pick(PREFIXES), [0])],
  ['password-id', 2, (t, d) => withField(t, d, () => d.pick(PASSWORD_IDS), [1])],
  [
    'salt',
    2,
    (t, d) =>
      withField(
        t,
        d,
        (value) => {
          const roll = d.int(4);
          // Another salt of the same size keeps the token grammatical: it costs a derivation.
          if (roll === 0) return d.chars(HEX, value.length);
          if (roll === 1) return d.chars(HEX_ANY_CASE, d.between(0, 256));
          if (roll === 2) return value.toUpperCase();
          return value === '' ? d.chars(HEX, d.between(1, 64)) : '';
        },
        [2, 6],
      ),
  ],
  [
    'wrap',
    1,
    (t, d) => {
      const wrapper = d.pick(WRAPPERS);
      const roll = d.int(3);
      if (roll === 0) return wrapper + t;
      if (roll === 1) return t + wrapper;
      return wrapper + t + wrapper;
    },
  ],
  [
    'chunks',
    2,
    (t, d, c) => {
      const chunks = chunksOf(t, d);
      const i = d.int(chunks.length);
      const roll = d.int(7);
      if (roll === 0 && chunks.length > 1) chunks.splice(i, 1);
      else if (roll === 1) chunks.splice(i, 0, chunks[i]!);
      else if (roll === 2 && chunks.length > 1) {
        const j = (i + 1) % chunks.length;
        [chunks[i], chunks[j]] = [chunks[j]!, chunks[i]!];
      } else if (roll === 3) chunks.reverse();
      else if (roll === 4) chunks[chunks.length - 1] = chunks[chunks.length - 1]!.slice(0, -1);
      else if (roll === 5) {
        const donor = chunksOf(otherDonor(t, d, c), d);
        chunks[i] = donor[i] ?? donor[0]!;
      } else return chunks.join(d.pick([',', ';', '; ', ' ', '\n']));
      return chunks.join('');
    },
  ],
  [
    'splice',
    2,
    (t, d, c) => {
      const donor = otherDonor(t, d, c);
      const cut = d.int(t.length + 1);
      const from = d.chance(0.5) ? cut : d.int(donor.length + 1);
      return t.slice(0, cut) + donor.slice(from);
    },
  ],
  [
    'concat',
    1,
    (t, d, c) => {
      const donor = otherDonor(t, d, c);
      const separator = d.pick(['', '*', ';', ',', ' ', '; ']);
      return d.chance(0.5) ? t + separator + donor : donor + separator + t;
    },
  ],
  ['other-token', 1, (t, d, c) => otherDonor(t, d, c)],
  [
    'percent',
    1,
    (t, d) => {
      let out = '';
      const rate = d.pick([0.02, 0.1, 0.5, 1]);
      for (const char of t) {
        out += d.chance(rate) ? percentEncoded(char) : char;
      }
      return out;
    },
  ],
];

const TOTAL_WEIGHT = OPERATORS.reduce((sum, [, weight]) => sum + weight, 0);

/** The operators' names, for coverage checks and reports. */
export const OPERATOR_NAMES: readonly string[] = OPERATORS.map(([name]) => name);

function pickOperator(draw: Draw): (typeof OPERATORS)[number] {
  let roll = draw.next() * TOTAL_WEIGHT;
  for (const operator of OPERATORS) {
    roll -= operator[1];
    if (roll < 0) return operator;
  }
  return OPERATORS[OPERATORS.length - 1]!;
}

/**
 * Mutates `token` with one operator, or now and then two or three in a row. The result may,
 * by chance, equal a valid token: callers skip those (they prove nothing).
 */
export function mutate(token: string, draw: Draw, context: MutationContext): Mutation {
  const steps = draw.chance(0.75) ? 1 : draw.between(2, 3);
  let value = token;
  const names: string[] = [];
  for (let i = 0; i < steps; i++) {
    const [name, , run] = pickOperator(draw);
    value = run(value, draw, context);
    names.push(name);
  }
  return { op: names.join('+'), value };
}

// The grammar, one rule per field, in explicit character classes (no \w, no flags).
const ID_RULE = /^[A-Za-z0-9_]*$/;
const SALT_RULE = /^[0-9A-Fa-f]{0,256}$/;
const IV_RULE = /^[A-Za-z0-9_-]{22}$/;
const CIPHERTEXT_RULE = /^[A-Za-z0-9_-]+$/;
const EXPIRATION_RULE = /^(?:[1-9][0-9]{0,15})?$/;
const HMAC_RULE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Whether `token` follows the Fe26.2 grammar: eight `*`-separated fields; the prefix
 * `Fe26.2`; a password id of letters, digits and `_` (or none); salts of at most 256 hex
 * digits (the bound the library puts on attacker-chosen salts); a 16-byte IV as 22
 * base64url characters; base64url ciphertext of a length base64 can have (never 4k+1); an
 * expiration of up to 16 decimal digits without a leading zero (or none); a 43-character
 * base64url HMAC-SHA256.
 */
export function grammarAccepts(token: string): boolean {
  const fields = token.split('*');
  if (fields.length !== 8) return false;
  const [prefix, id, encryptionSalt, iv, ciphertext, expiration, hmacSalt, hmac] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return (
    prefix === 'Fe26.2' &&
    ID_RULE.test(id) &&
    SALT_RULE.test(encryptionSalt) &&
    IV_RULE.test(iv) &&
    CIPHERTEXT_RULE.test(ciphertext) &&
    ciphertext.length % 4 !== 1 &&
    EXPIRATION_RULE.test(expiration) &&
    SALT_RULE.test(hmacSalt) &&
    HMAC_RULE.test(hmac)
  );
}

/** Whether a grammatical token's ciphertext is whole AES blocks (what AES-256-CBC needs). */
export function cbcAligned(token: string): boolean {
  const ciphertext = token.split('*')[4] ?? '';
  return Math.floor((ciphertext.length * 3) / 4) % 16 === 0;
}

/** A short, printable form of a case for failure messages (JSON escapes, long ones cut). */
export function preview(value: string, max = 160): string {
  return value.length <= max
    ? JSON.stringify(value)
    : `${JSON.stringify(value.slice(0, max))}…(${value.length} chars)`;
}
