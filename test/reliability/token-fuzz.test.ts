/**
 * Token fuzzing through the public API. Valid tokens of every kind (string passwords, a
 * rotation map and its old id, a password object, ttl, aes-128-ctr, byte passwords,
 * purpose-bound and unbound session tokens, a session with maxAge, h3 2.x's own
 * 8192-iteration tokens, and an h3 2.x session split into chunks and joined again) are
 * mutated many thousand times (token-mutations.ts), and each mutant goes through `unseal`
 * (sealed-session/iron) or `unsealSession` (sealed-session). None may open; each must fail
 * with a coded SessionError whose message names neither the token, nor a password, nor
 * the data.
 *
 * Each mutant also goes through a second engine, `createIron` over the node backend with
 * every deriveKey and importKey counted: a token the grammar refuses (by the oracle of
 * token-mutations.ts, written apart from the code under test) must cost no key at all,
 * since anyone can send such tokens by the million. Both engines must refuse alike.
 *
 * Replayable: every token is sealed at a fixed instant with salts and IV drawn from the
 * seed, so a seed gives the same cases on any day. The seed is printed; TOKEN_FUZZ_SEED=<n>
 * replays a run, TOKEN_FUZZ_CASE=<i> checks its case #i alone (the number a failure
 * names), TOKEN_FUZZ_MUTATIONS=<n> sets its size (tools/fuzz.mjs runs a million).
 */
import { Buffer } from 'node:buffer';
import { inspect } from 'node:util';
import { H3, useSession as h3UseSession } from 'h3-v2';
import { describe, expect, it, vi } from 'vitest';
import { SessionError, isSessionError, type SessionErrorCode } from '../../src/errors.js';
import { unsealSession, type SessionConfig } from '../../src/index.js';
import { nodeBackend } from '../../src/iron/backend/node.js';
import type { CryptoBackend } from '../../src/iron/backend/types.js';
import { createIron, type Iron } from '../../src/iron/create-iron.js';
import {
  seal,
  unseal,
  type PasswordInput,
  type PasswordMap,
  type SealOptionsInput,
} from '../../src/iron/index.js';
import { createSessionEngine, type SessionEngine } from '../../src/session/session-engine.js';
import { MAX_TOKEN_LENGTH } from '../../src/session/token-codec.js';
import {
  Draw,
  OPERATOR_NAMES,
  cbcAligned,
  countFrom,
  grammarAccepts,
  indexFrom,
  mutate,
  preview,
  seedFrom,
} from './token-mutations.js';

const SEED = seedFrom('TOKEN_FUZZ_SEED');
const MUTATIONS = countFrom('TOKEN_FUZZ_MUTATIONS', 12_000);
/** TOKEN_FUZZ_CASE=<n>: of the seed's cases, check case #n alone (a failure's number). */
const ONLY = indexFrom('TOKEN_FUZZ_CASE');
/**
 * Cases checked at once, each lane with its own counting engine: while one waits for an
 * 8192-iteration derivation on the thread pool, another runs. The cases and their verdicts
 * do not depend on the interleaving: no mutant verifies (but those of the known issue
 * below, which can only spare a later grammatical case a derivation), so no cache changes.
 */
const LANES = 3;
/**
 * One mutant's error in this many is inspected in full (every own field, nested): the
 * message, stack and cause of every one are checked anyway.
 */
const INSPECT_EVERY = MUTATIONS > 50_000 ? 100 : 10;

console.info(
  `[token-fuzz] seed ${SEED}, ${MUTATIONS} mutations ` +
    `(replay with TOKEN_FUZZ_SEED=${SEED} TOKEN_FUZZ_MUTATIONS=${MUTATIONS})`,
);

/** In the sealed data: no error may ever show it. */
const MARKER = 'fuzz-data-marker-5ec2e7a9';
const DATA = { user: 'fuzz-user', marker: MARKER, text: 'ünïcödé 😀', n: 42 };

// One password per kind, so no kind's token opens under another kind's reader by accident
// (the suite still works out which do, below, and skips those as mutants).
const P = {
  string: 'fuzz_string_password_of_at_least_32_chars_A1',
  rotationOld: 'fuzz_rotation_old_password_at_least_32_chars_B2',
  rotationNew: 'fuzz_rotation_new_password_at_least_32_chars_C3',
  object: 'fuzz_object_password_of_at_least_32_chars_D4',
  ttl: 'fuzz_ttl_password_of_at_least_32_characters_E5',
  ctr: 'fuzz_ctr_password_of_at_least_32_characters_F6',
  session: 'fuzz_session_password_at_least_32_characters_G7',
  maxAge: 'fuzz_maxage_password_at_least_32_characters_H8',
  h3v2: 'fuzz_h3v2_password_of_at_least_32_characters_I9',
  chunked: 'fuzz_chunked_password_at_least_32_characters_J0',
} as const;
const BYTES = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 7) & 0xff);
const BYTES_ENC = Uint8Array.from({ length: 32 }, (_, i) => (i * 31 + 11) & 0xff);
const BYTES_MAC = Uint8Array.from({ length: 48 }, (_, i) => (i * 37 + 13) & 0xff);

/** Every text a message must not contain: passwords (and byte keys as text), the data. */
const SECRETS: readonly string[] = [
  ...Object.values(P),
  ...[BYTES, BYTES_ENC, BYTES_MAC].flatMap((bytes) => [
    Buffer.from(bytes).toString('hex'),
    Buffer.from(bytes).toString('base64url'),
  ]),
  MARKER,
  'fuzz-user',
  'ünïcödé',
];

/** h3 2.x's seal options (its own defaults): 8192 PBKDF2 iterations per key. */
const H3V2_SEAL: SealOptionsInput = {
  encryption: { iterations: 8192 },
  integrity: { iterations: 8192 },
};

const IRON_CODES = new Set<SessionErrorCode>([
  'ERR_SEAL_INVALID',
  'ERR_SEAL_UNSEAL_FAILED',
  'ERR_PASSWORD_NOT_FOUND',
]);
const SESSION_CODES = new Set<SessionErrorCode>([
  ...IRON_CODES,
  'ERR_COOKIE_TOO_LARGE',
  'ERR_PURPOSE_MISMATCH',
  'ERR_PURPOSE_MISSING',
]);

/**
 * An engine of its own over the node backend, with every key it makes counted: the iron
 * API and a session engine on it. Each lane of a run has one, so a count is one case's.
 */
interface Counting {
  readonly iron: Iron;
  readonly sessions: SessionEngine;
  /** Keys derived or imported so far. */
  readonly keys: () => number;
}

function countingEngine(): Counting {
  let keys = 0;
  const backend: CryptoBackend = {
    ...nodeBackend,
    deriveKey(password, salt, iterations, algorithm) {
      keys++;
      return nodeBackend.deriveKey(password, salt, iterations, algorithm);
    },
    importKey(raw, algorithm) {
      keys++;
      return nodeBackend.importKey(raw, algorithm);
    },
  };
  const iron = createIron(backend);
  return { iron, sessions: createSessionEngine({ iron, now: () => Date.now() }), keys: () => keys };
}

interface Kind {
  readonly name: string;
  readonly token: string;
  readonly api: 'iron' | 'session';
  /** Opens through the public API. */
  readonly open: (token: string) => Promise<unknown>;
  /** Opens through a counting engine, with the same password and options. */
  readonly openCounted: (counting: Counting, token: string) => Promise<unknown>;
  /** Ciphertext must be whole blocks (aes-256-cbc). */
  readonly cbc: boolean;
  /** The MAC key is bytes: the MAC-salt field feeds no key (see the known issue below). */
  readonly byteIntegrity: boolean;
  /** Tokens this kind's reader opens (its own, and any other kind's it legitimately opens). */
  valid: Set<string>;
}

function ironKind(
  name: string,
  token: string,
  password: PasswordInput,
  options: SealOptionsInput | undefined,
  byteIntegrity = false,
): Kind {
  return {
    name,
    token,
    api: 'iron',
    open: (value) => unseal(value, password, options),
    openCounted: (counting, value) => counting.iron.unseal(value, password, options),
    cbc: options?.encryption?.algorithm !== 'aes-128-ctr',
    byteIntegrity,
    valid: new Set([token]),
  };
}

function sessionKind(name: string, token: string, config: SessionConfig): Kind {
  return {
    name,
    token,
    api: 'session',
    open: (value) => unsealSession(config, value),
    openCounted: (counting, value) => counting.sessions.unsealSession(config, value),
    cbc: true,
    byteIntegrity: false,
    valid: new Set([token]),
  };
}

/** When every token of a run is sealed: a fixed past instant, so a seed replays exactly. */
const SEALED_AT = Date.UTC(2025, 0, 1);
/**
 * A lifetime no run outlives (from {@link SEALED_AT}, until 2035), for the kinds whose
 * tokens expire; within what a session config allows for maxAge.
 */
const DECADE_S = 10 * 365 * 24 * 3600;

/** Fixed salts and IV drawn from the seed: a replay seals the very same tokens. */
function fixedMaterial(draw: Draw) {
  const hex = (): string => draw.chars('0123456789abcdef', 64);
  return {
    encryptionSalt: hex(),
    integritySalt: hex(),
    iv: Uint8Array.from({ length: 16 }, () => draw.int(256)),
  };
}

/** `options` with the fixed salts and IV of `draw`. */
function fixedOptions(draw: Draw, options: SealOptionsInput = {}): SealOptionsInput {
  const { encryptionSalt, integritySalt, iv } = fixedMaterial(draw);
  return {
    ...options,
    encryption: { ...options.encryption, salt: encryptionSalt, iv },
    integrity: { ...options.integrity, salt: integritySalt },
  };
}

/**
 * A session cookie h3 2.x itself wrote for `data` (8192 iterations, its defaults, with
 * fixed salts, IV and id), chunks joined as h3 2.x reads them.
 */
async function h3V2Token(draw: Draw, password: string, name: string, data: object) {
  const { encryptionSalt, integritySalt, iv } = fixedMaterial(draw);
  const sub = { saltBits: 256, iterations: 8192, minPasswordlength: 32 } as const;
  const config = {
    password,
    name,
    generateId: () => `${name}-session-id`,
    seal: {
      ttl: 0,
      timestampSkewSec: 60,
      localtimeOffsetMsec: 0,
      encryption: { ...sub, algorithm: 'aes-256-cbc', salt: encryptionSalt, iv },
      integrity: { ...sub, algorithm: 'sha256', salt: integritySalt },
    },
  } as const;
  const app = new H3();
  app.all('/**', async (event) => {
    const session = await h3UseSession(event, config);
    await session.update(data);
    return 'ok';
  });
  const response = await app.fetch(new Request('http://127.0.0.1/'));
  const cookies = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';')[0]!;
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at), decodeURIComponent(pair.slice(at + 1)));
  }
  const main = cookies.get(name) ?? '';
  if (!main.startsWith('__chunked__')) return { token: main, chunks: 1 };
  const count = Number(main.slice('__chunked__'.length));
  let token = '';
  for (let i = 1; i <= count; i++) token += cookies.get(`${name}.${i}`) ?? '';
  return { token, chunks: count };
}

/**
 * Every kind, its token sealed at {@link SEALED_AT} with salts and IV from the seed, so the
 * same seed gives the same tokens, hence the same mutants, on any day.
 */
async function buildKinds(): Promise<Kind[]> {
  const rotation: PasswordMap = { '1': P.rotationOld, '2': P.rotationNew };
  const object = { id: 'k1', secret: P.object };
  const bytesSpecific = { id: 'b1', encryption: BYTES_ENC, integrity: BYTES_MAC };
  const ttl: SealOptionsInput = { ttl: DECADE_S * 1000 };
  const ctr: SealOptionsInput = { encryption: { algorithm: 'aes-128-ctr' } };

  const bound: SessionConfig = { password: P.session, name: 'h3', acceptUnboundTokens: false };
  // Same password, another name (so another purpose), unbound tokens accepted: the bound
  // token meets ERR_PURPOSE_MISMATCH here, the unbound one ERR_PURPOSE_MISSING above.
  const unbound: SessionConfig = { password: P.session, name: 'app' };
  const maxAge: SessionConfig = { password: P.maxAge, name: 'aged', maxAge: DECADE_S };
  const h3v2: SessionConfig = { password: P.h3v2, name: 'h3v2', seal: H3V2_SEAL };
  const chunked: SessionConfig = { password: P.chunked, name: 'big', seal: H3V2_SEAL };

  const material = new Draw(SEED ^ 0x5eed);
  const sealFixed = (data: unknown, password: PasswordInput, options?: SealOptionsInput) =>
    seal(data, password, fixedOptions(material, options));
  // What the session codec seals: h3's { id, createdAt, data }, then the purpose (the
  // session name). Sealed here with fixed salts, which a session config refuses.
  const session = (purpose?: string) => ({
    id: `fuzz-session-${purpose ?? 'unbound'}`,
    createdAt: SEALED_AT,
    data: { ...DATA },
    ...(purpose === undefined ? {} : { purpose }),
  });

  vi.useFakeTimers({ toFake: ['Date'], now: SEALED_AT });
  try {
    const small = await h3V2Token(material, P.h3v2, 'h3v2', DATA);
    // About 10 KB of data: h3 2.x writes it as three 4000-character chunks.
    const big = await h3V2Token(material, P.chunked, 'big', {
      ...DATA,
      filler: 'x'.repeat(7_000),
      list: Array.from({ length: 300 }, (_, i) => i),
    });
    expect(small.chunks).toBe(1);
    expect(big.chunks).toBeGreaterThan(1);
    return [
      ironKind('string', await sealFixed(DATA, P.string), P.string, undefined),
      ironKind('rotation-current', await sealFixed(DATA, rotation), rotation, undefined),
      ironKind(
        'rotation-old',
        await sealFixed(DATA, { id: '1', secret: P.rotationOld }),
        rotation,
        undefined,
      ),
      ironKind('password-object', await sealFixed(DATA, object), object, undefined),
      ironKind('ttl', await sealFixed(DATA, P.ttl, ttl), P.ttl, ttl),
      ironKind('aes-128-ctr', await sealFixed(DATA, P.ctr, ctr), P.ctr, ctr),
      ironKind('bytes', await sealFixed(DATA, BYTES), BYTES, undefined, true),
      ironKind(
        'bytes-specific',
        await sealFixed(DATA, bytesSpecific),
        bytesSpecific,
        undefined,
        true,
      ),
      sessionKind('session-bound', await sealFixed(session('h3'), P.session), bound),
      sessionKind('session-unbound', await sealFixed(session(), P.session), unbound),
      // The token expires with the session, as the codec seals it.
      sessionKind(
        'session-maxage',
        await sealFixed(session('aged'), P.maxAge, { ttl: DECADE_S * 1000 }),
        maxAge,
      ),
      sessionKind('session-h3v2-8192', small.token, h3v2),
      sessionKind(`session-h3v2-${big.chunks}-chunks`, big.token, chunked),
    ];
  } finally {
    vi.useRealTimers();
  }
}

type Outcome = { readonly opened: true; readonly value: unknown } | { readonly error: unknown };

async function outcome(promise: Promise<unknown>): Promise<Outcome> {
  try {
    return { opened: true, value: await promise };
  } catch (error) {
    return { error };
  }
}

/** Fields of the valid tokens long enough that finding one in a message means a leak. */
function leakNeedles(kinds: readonly Kind[]): string[] {
  const needles = new Set<string>(SECRETS);
  for (const kind of kinds) {
    for (const field of kind.token.split('*')) if (field.length >= 8) needles.add(field);
  }
  return [...needles];
}

function count<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** One case: a reader and the string it is given. */
interface Case {
  readonly index: number;
  readonly kind: Kind;
  readonly op: string;
  readonly value: string;
}

/**
 * The cases of a run, `total` in all: first fixed ones every seed has (each kind's token
 * under every reader that does not open it, which reaches the purpose checks, and one
 * oversized token per kind), then seeded mutants. A mutant equal to a token its reader
 * rightly opens proves nothing: it is drawn again, and counted in `skipped`.
 */
function* casesOf(
  kinds: readonly Kind[],
  draw: Draw,
  total: number,
  skipped: { count: number },
): Generator<Case> {
  const fixed: Case[] = [];
  for (const kind of kinds) {
    for (const other of kinds) {
      if (!kind.valid.has(other.token)) {
        fixed.push({ index: fixed.length, kind, op: 'other-token', value: other.token });
      }
    }
    const huge = kind.token + 'A'.repeat(MAX_TOKEN_LENGTH);
    fixed.push({ index: fixed.length, kind, op: 'huge', value: huge });
  }
  yield* fixed.slice(0, total);
  const context = { donors: kinds.map((kind) => kind.token) };
  for (let index = fixed.length; index < total; index++) {
    const kind = kinds[index % kinds.length]!;
    let mutation = mutate(kind.token, draw, context);
    while (kind.valid.has(mutation.value)) {
      skipped.count++;
      mutation = mutate(kind.token, draw, context);
    }
    yield { index, kind, ...mutation };
  }
}

describe(`token fuzzing (seed ${SEED})`, () => {
  it(
    `${MUTATIONS} mutants of every kind of token: none opens, coded errors only, no leaks, no key work for malformed ones`,
    async () => {
      const kinds = await buildKinds();

      // Every valid token opens under its own reader, on both engines (this also caches
      // their keys, so a mutant keeping the salts costs no derivation). Then which
      // readers open which other tokens: those are valid there, not mutants.
      const lanes = Array.from({ length: LANES }, countingEngine);
      for (const kind of kinds) {
        await expect(kind.open(kind.token), kind.name).resolves.toBeDefined();
        for (const lane of lanes) {
          await expect(kind.openCounted(lane, kind.token), kind.name).resolves.toBeDefined();
        }
      }
      for (const reader of kinds) {
        for (const other of kinds) {
          if (other === reader) continue;
          if ('opened' in (await outcome(reader.open(other.token)))) reader.valid.add(other.token);
        }
      }
      const needles = leakNeedles(kinds);
      const authentic = new Set(kinds.map((kind) => kind.token));

      const failures: string[] = [];
      const fail = (text: string): void => {
        if (failures.length < 50) failures.push(text);
      };
      const codes = new Map<string, number>();
      const codesByKind = new Map<string, Map<string, number>>();
      const ops = new Map<string, number>();
      const skipped = { count: 0 };
      let grammatical = 0;
      let malformed = 0;
      let keyWork = 0;
      let checked = 0;

      /** Checks one case on `lane`; records failures and figures. */
      async function check(lane: Counting, { index, kind, op, value }: Case): Promise<void> {
        checked++;
        for (const name of op.split('+')) count(ops, name);
        const where = (): string =>
          `#${index} ${kind.name} [${op}] ${preview(value)} (seed ${SEED})`;

        const wellFormed = grammarAccepts(value);
        const tooLarge = kind.api === 'session' && value.length > MAX_TOKEN_LENGTH;
        if (wellFormed) grammatical++;
        else malformed++;

        // Both engines at once: an 8192-iteration derivation of each runs on its own
        // thread. Only the lane's engine counts, and the lane runs one case at a time.
        const before = lane.keys();
        const [result, counted] = await Promise.all([
          outcome(kind.open(value)),
          outcome(kind.openCounted(lane, value)),
        ]);
        const cost = lane.keys() - before;
        if (wellFormed) keyWork += cost;

        if ('opened' in result || 'opened' in counted) {
          fail(
            `${where()}: OPENED (public: ${'opened' in result}, counting: ${'opened' in counted})`,
          );
          return;
        }
        const error = result.error;
        if (!(error instanceof SessionError) || !isSessionError(error)) {
          fail(`${where()}: not a SessionError: ${inspect(error)}`);
          return;
        }
        const code = error.code;
        count(codes, code);
        let byKind = codesByKind.get(kind.name);
        if (byKind === undefined) codesByKind.set(kind.name, (byKind = new Map<string, number>()));
        count(byKind, code);
        if (!/^ERR_[A-Z_]+$/.test(code)) fail(`${where()}: a SessionError coded ${inspect(code)}`);
        if (!(kind.api === 'iron' ? IRON_CODES : SESSION_CODES).has(code)) {
          fail(`${where()}: unexpected code ${code}: ${error.message}`);
        }
        const countedCode = isSessionError(counted.error) ? counted.error.code : 'no SessionError';
        if (countedCode !== code)
          fail(`${where()}: public ${code}, counting engine ${countedCode}`);

        // No leaks: message, stack and cause always; every own field, nested, sampled.
        if (error.cause !== undefined) fail(`${where()}: ${code} carries a cause`);
        const texts = [error.message, error.stack ?? ''];
        if (index % INSPECT_EVERY === 0) texts.push(inspect(error, { depth: 4 }));
        for (const text of texts) {
          if (value.length >= 12 && text.includes(value)) fail(`${where()}: the error shows it`);
          const needle = needles.find((candidate) => text.includes(candidate));
          if (needle !== undefined) fail(`${where()}: the error shows ${preview(needle, 40)}`);
        }

        // Malformed tokens are ERR_SEAL_INVALID (or, for a session, too long to look at)
        // and cost no key. Grammatical ones are refused for another reason, unless their
        // ciphertext cannot be CBC (a check also made before any key work).
        if (tooLarge) {
          if (code !== 'ERR_COOKIE_TOO_LARGE') fail(`${where()}: ${code} for an oversized token`);
          if (cost !== 0) fail(`${where()}: an oversized token cost ${cost} key(s)`);
        } else if (!wellFormed) {
          if (code !== 'ERR_SEAL_INVALID') fail(`${where()}: ${code} for a malformed token`);
          if (cost !== 0) fail(`${where()}: a malformed token cost ${cost} key(s)`);
        } else if (kind.cbc && !cbcAligned(value)) {
          // Another kind's aes-128-ctr token, verified before, is answered from the
          // verified-token cache, which looks its password id up first.
          const cached = authentic.has(value) && code === 'ERR_PASSWORD_NOT_FOUND';
          if (code !== 'ERR_SEAL_INVALID' && !cached) {
            fail(`${where()}: ${code} for a ciphertext of no whole blocks`);
          }
          if (cost !== 0) fail(`${where()}: a ciphertext of no whole blocks cost ${cost} key(s)`);
        } else if (code === 'ERR_SEAL_INVALID') {
          fail(`${where()}: ERR_SEAL_INVALID for a token the grammar allows`);
        }
      }

      const started = performance.now();
      const cases = casesOf(kinds, new Draw(SEED), MUTATIONS, skipped);
      await Promise.all(
        lanes.map(async (lane) => {
          for (let next = cases.next(); next.done !== true; next = cases.next()) {
            if (ONLY === undefined || next.value.index === ONLY) await check(lane, next.value);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;

      const sorted = (map: Map<string, number>): string =>
        JSON.stringify(Object.fromEntries([...map].sort((a, b) => b[1] - a[1])));
      console.info(
        `[token-fuzz] seed ${SEED}: ${MUTATIONS} cases (${kinds.length} kinds, 2 engines each) ` +
          `in ${seconds.toFixed(1)} s = ${Math.round(MUTATIONS / seconds)} cases/s; ` +
          `${malformed} malformed (0 keys), ${grammatical} grammatical (${keyWork} keys made); ` +
          `${skipped.count} draws equal to a valid token skipped; codes ${sorted(codes)}`,
      );
      console.info(
        `[token-fuzz] codes by kind ${JSON.stringify(
          Object.fromEntries(
            [...codesByKind].map(([name, map]) => [name, Object.fromEntries(map)]),
          ),
        )}`,
      );
      console.info(`[token-fuzz] operators ${sorted(ops)}`);

      expect(failures).toEqual([]);
      if (ONLY !== undefined) return;
      expect(checked).toBe(MUTATIONS);
      // The run reached every operator, and every stage that refuses a mutant.
      expect([...ops.keys()].sort()).toEqual([...OPERATOR_NAMES].sort());
      expect([...codes.keys()]).toEqual(
        expect.arrayContaining([
          'ERR_SEAL_INVALID',
          'ERR_SEAL_UNSEAL_FAILED',
          'ERR_PASSWORD_NOT_FOUND',
          'ERR_COOKIE_TOO_LARGE',
          'ERR_PURPOSE_MISMATCH',
          'ERR_PURPOSE_MISSING',
        ]),
      );
      expect(grammatical).toBeGreaterThan(MUTATIONS / 20);
    },
    Math.max(120_000, MUTATIONS * 2),
  );

  // A byte password is the key itself, so no key depends on the MAC-salt field, and that
  // field is not under the MAC either: a salt there must be refused, or one session would
  // have as many tokens as there are salts (defeating a list of revoked tokens, each
  // variant taking cache entries). Every iron sealer writes an empty salt for byte
  // passwords, so refusing a non-empty one breaks no token in use.
  it('a byte-password token does not open with other hex in its MAC-salt field', async () => {
    const token = await seal(DATA, BYTES);
    const fields = token.split('*');
    expect(fields[6]).toBe('');
    fields[6] = 'deadbeef';
    await expect(unseal(fields.join('*'), BYTES)).rejects.toMatchObject({
      code: 'ERR_SEAL_UNSEAL_FAILED',
    });
  });
});
