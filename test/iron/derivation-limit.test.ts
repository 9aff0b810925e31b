/**
 * The engine's cap on asynchronous derivations of unverified tokens' MAC keys: past it a
 * token is refused at once with ERR_DERIVATION_LIMIT (never queued), the count follows
 * derivations as they settle, joining a running derivation is free, and nothing else
 * (sealing, cached keys, keys of verified tokens) is limited. Synchronous derivations
 * (iron's default of one iteration) have a budget per turn of the event loop instead: the
 * tokens past it wait for the next turns, up to a bound past which they are refused.
 *
 * Derivations are held by a gate over the real backends, so each test decides when they
 * settle and observes the count exactly.
 */
import { describe, expect, it, vi } from 'vitest';
import { isSessionError, type SessionErrorCode } from '../../src/errors.js';
import { SYNC_PBKDF2_MAX_ITERATIONS, nodeBackend } from '../../src/iron/backend/node.js';
import type { BackendKey, CryptoBackend } from '../../src/iron/backend/types.js';
import { webBackend } from '../../src/iron/backend/web.js';
import { createIron, defaultLimits, type Iron } from '../../src/iron/create-iron.js';
import { setDerivationLimit, unseal } from '../../src/iron/index.js';
import type { SealOptionsInput } from '../../src/iron/options.js';
import { OTHER_PASSWORD, PASSWORD, backends, expectCode, fields, hapi } from './helpers.js';

/** Enough iterations for every backend to derive asynchronously (node: its thread pool). */
const ITERATIONS = SYNC_PBKDF2_MAX_ITERATIONS + 1;
const OPTIONS: SealOptionsInput = {
  encryption: { iterations: ITERATIONS },
  integrity: { iterations: ITERATIONS },
};

interface Gate {
  readonly backend: CryptoBackend;
  /** Asynchronous derivations the engine asked for, MAC and encryption keys alike. */
  readonly started: () => number;
  /** Derivations started and not yet let through. */
  readonly held: () => number;
  /** Lets the oldest held derivation settle with its real result. */
  release(): Promise<void>;
  /** Makes the oldest held derivation fail. */
  fail(): Promise<void>;
}

/** `base`, with each asynchronous derivation held until the test lets it settle. */
function gate(base: CryptoBackend): Gate {
  const queue: { settle: (ok: boolean) => void }[] = [];
  let started = 0;
  const backend: CryptoBackend = {
    ...base,
    deriveKey(...args) {
      const made = base.deriveKey(...args);
      if (!(made instanceof Promise)) return made;
      started++;
      return new Promise<BackendKey>((resolve, reject) => {
        queue.push({
          settle: (ok) => {
            made.then((key) => {
              if (ok) resolve(key);
              else reject(new Error('derivation failed'));
            }, reject);
          },
        });
      });
    },
  };
  const settleOldest = async (ok: boolean): Promise<void> => {
    const next = queue.shift();
    if (next === undefined) throw new Error('no derivation is held');
    next.settle(ok);
    // Let the real derivation finish and the engine's settle handlers run.
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  return {
    backend,
    started: () => started,
    held: () => queue.length,
    release: () => settleOldest(true),
    fail: () => settleOldest(false),
  };
}

function engine(backend: CryptoBackend, limit: number): Iron {
  return createIron(backend, { ...defaultLimits, unverifiedDerivations: limit });
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const HEX = '0123456789abcdef';

function random(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out += alphabet.charAt(Math.floor(Math.random() * alphabet.length));
  }
  return out;
}

/** A well-formed token with fresh salts and a random MAC: what an attacker sends. */
function forged(): string {
  return `Fe26.2**${random(HEX, 64)}*${random(ALPHABET, 22)}*${random(ALPHABET, 64)}**${random(HEX, 64)}*${random(ALPHABET, 43)}`;
}

/** The code of the SessionError `run` throws synchronously. */
function thrownCode(run: () => unknown): SessionErrorCode | undefined {
  try {
    run();
  } catch (error) {
    expect(isSessionError(error)).toBe(true);
    return (error as { code: SessionErrorCode }).code;
  }
  return undefined;
}

/** Starts an unseal that must end in `code`; returns the check to await later. */
function pending(iron: Iron, token: string, code: SessionErrorCode): Promise<void> {
  return expectCode(iron.unseal(token, PASSWORD, OPTIONS), code);
}

/** Resolves on the next turn of the event loop, after anything already settled. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe.each(backends)('derivation limit (%s backend)', (_name, base) => {
  it('past the limit a token is refused at once, without starting a derivation', async () => {
    const g = gate(base);
    const iron = engine(g.backend, 2);
    const running = [
      pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'),
      pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'),
    ];
    expect(g.started()).toBe(2);

    // Synchronously from unsealEager, before the next loop turn from unseal.
    expect(thrownCode(() => iron.unsealEager(forged(), PASSWORD, OPTIONS))).toBe(
      'ERR_DERIVATION_LIMIT',
    );
    let refusal: unknown;
    iron.unseal(forged(), PASSWORD, OPTIONS).catch((error: unknown) => {
      refusal = error;
    });
    await nextTurn();
    expect(refusal).toMatchObject({ name: 'SessionError', code: 'ERR_DERIVATION_LIMIT' });
    expect((refusal as Error).message).not.toMatch(/Fe26/);
    expect(g.started()).toBe(2);

    await g.release();
    await g.release();
    await Promise.all(running);
  });

  it('the count goes down as derivations settle, whether they succeed or fail', async () => {
    const g = gate(base);
    const iron = engine(g.backend, 2);
    const valid = await hapi.seal({ ok: 1 }, PASSWORD, OPTIONS);
    const first = expectCode(iron.unseal(forged(), PASSWORD, OPTIONS), 'ERR_CRYPTO');
    const second = iron.unseal(valid, PASSWORD, OPTIONS);
    await expectCode(iron.unseal(forged(), PASSWORD, OPTIONS), 'ERR_DERIVATION_LIMIT');

    // A failed derivation frees its place.
    await g.fail();
    await first;
    const third = pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED');
    await expectCode(iron.unseal(forged(), PASSWORD, OPTIONS), 'ERR_DERIVATION_LIMIT');

    // So does a successful one (the valid token's MAC key; its encryption key follows).
    await g.release();
    expect(g.held()).toBe(2);
    const fourth = pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED');
    await expectCode(iron.unseal(forged(), PASSWORD, OPTIONS), 'ERR_DERIVATION_LIMIT');

    while (g.held() > 0) await g.release();
    await expect(second).resolves.toEqual({ ok: 1 });
    await Promise.all([third, fourth]);
    // All settled: the whole limit is free again.
    const again = [
      pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'),
      pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'),
    ];
    while (g.held() > 0) await g.release();
    await Promise.all(again);
  });

  it('unseals joining a running derivation of the same token do not count again', async () => {
    const g = gate(base);
    const iron = engine(g.backend, 1);
    const token = await hapi.seal({ shared: true }, PASSWORD, OPTIONS);
    const unseals = [1, 2, 3].map(() => iron.unseal(token, PASSWORD, OPTIONS));
    expect(g.started()).toBe(1);
    // The one place is taken: another token is refused, the same token still joins.
    await expectCode(iron.unseal(forged(), PASSWORD, OPTIONS), 'ERR_DERIVATION_LIMIT');
    unseals.push(iron.unseal(token, PASSWORD, OPTIONS));
    expect(g.started()).toBe(1);
    while (g.held() > 0 || g.started() < 2) await g.release();
    for (const result of await Promise.all(unseals)) expect(result).toEqual({ shared: true });
  });

  it('a valid token still opens, and sealing still works, while the limit is reached', async () => {
    const g = gate(base);
    const iron = engine(g.backend, 1);
    // Sealed here before the flood: its keys are cached and it is a verified token.
    const sealing = iron.seal({ own: 1 }, PASSWORD, OPTIONS);
    while (g.held() > 0) await g.release();
    const own = await sealing;

    const blocker = pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED');
    await expectCode(iron.unseal(forged(), PASSWORD, OPTIONS), 'ERR_DERIVATION_LIMIT');
    await expect(iron.unseal(own, PASSWORD, OPTIONS)).resolves.toEqual({ own: 1 });
    const again = await iron.seal({ own: 2 }, PASSWORD, OPTIONS);
    await expect(iron.unseal(again, PASSWORD, OPTIONS)).resolves.toEqual({ own: 2 });
    // A seal needing new keys (another password: new salts) derives them, unlimited.
    const started = g.started();
    const other = iron.seal({ own: 3 }, OTHER_PASSWORD, OPTIONS);
    expect(g.started()).toBe(started + 2);
    while (g.held() > 0) await g.release();
    await expect(iron.unseal(await other, OTHER_PASSWORD, OPTIONS)).resolves.toEqual({ own: 3 });
    await blocker;
  });

  it('the encryption key of a verified token is derived even while the limit is reached', async () => {
    const g = gate(base);
    const iron = engine(g.backend, 1);
    // Two tokens from elsewhere sharing an integrity salt, each with its own encryption salt.
    const integritySalt = 'ab'.repeat(32);
    const options: SealOptionsInput = {
      ...OPTIONS,
      integrity: { iterations: ITERATIONS, salt: integritySalt },
    };
    const a = await hapi.seal({ n: 'a' }, PASSWORD, options);
    const b = await hapi.seal({ n: 'b' }, PASSWORD, options);
    expect(fields(a)[2]).not.toBe(fields(b)[2]);
    const first = iron.unseal(a, PASSWORD, OPTIONS);
    while (g.held() > 0 || g.started() < 2) await g.release();
    await expect(first).resolves.toEqual({ n: 'a' });

    const blocker = pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED');
    // b's MAC key is cached (same integrity salt); its new encryption key is not limited.
    const second = iron.unseal(b, PASSWORD, OPTIONS);
    while (g.held() > 0) await g.release();
    await expect(second).resolves.toEqual({ n: 'b' });
    await blocker;
  });
});

describe('derivation limit: what is not limited', () => {
  it('synchronous derivations (node, at most SYNC_PBKDF2_MAX_ITERATIONS) are not counted', async () => {
    const g = gate(nodeBackend);
    const iron = engine(g.backend, 1);
    const blocker = pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED');
    const sync = { integrity: { iterations: SYNC_PBKDF2_MAX_ITERATIONS } };
    // As many as one turn's budget for them (below): all at once, none refused.
    for (let i = 0; i < defaultLimits.unverifiedDerivationsPerTurn; i++) {
      expect(thrownCode(() => iron.unsealEager(forged(), PASSWORD, sync))).toBe(
        'ERR_SEAL_UNSEAL_FAILED',
      );
    }
    const valid = await hapi.seal({ fresh: 1 }, PASSWORD);
    // A turn of its own: the loop above used this turn's budget (see below).
    await nextTurn();
    expect(iron.unsealEager(valid, PASSWORD)).toEqual({ fresh: 1 });
    await g.release();
    await blocker;
  });

  it('byte passwords need no derivation and are not counted', async () => {
    const g = gate(webBackend);
    const iron = engine(g.backend, 1);
    const key = new Uint8Array(32).fill(7);
    const blocker = pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED');
    const token = await hapi.seal({ bytes: 1 }, key, OPTIONS);
    await expect(iron.unseal(token, key, OPTIONS)).resolves.toEqual({ bytes: 1 });
    await g.release();
    await blocker;
  });
});

describe('synchronous derivations: a budget per turn of the event loop', () => {
  /** The node backend, counting the keys it derives. */
  function counting(): { backend: CryptoBackend; derived: () => number } {
    let derived = 0;
    return {
      backend: {
        ...nodeBackend,
        deriveKey(...args) {
          derived++;
          return nodeBackend.deriveKey(...args);
        },
      },
      derived: () => derived,
    };
  }
  const budgeted = (backend: CryptoBackend, perTurn: number, waiting: number): Iron =>
    createIron(backend, {
      ...defaultLimits,
      unverifiedDerivationsPerTurn: perTurn,
      unverifiedDerivationsWaiting: waiting,
    });
  /** unsealEager's answer: a value, a thrown code, or a promise still to settle. */
  function eager(iron: Iron, token: string): unknown {
    try {
      return iron.unsealEager(token, PASSWORD);
    } catch (error) {
      return (error as { code: SessionErrorCode }).code;
    }
  }

  it('past the budget, tokens wait for later turns in order, and each is still checked', async () => {
    const { backend, derived } = counting();
    const iron = budgeted(backend, 2, 10);
    expect(eager(iron, forged())).toBe('ERR_SEAL_UNSEAL_FAILED');
    expect(eager(iron, forged())).toBe('ERR_SEAL_UNSEAL_FAILED');
    expect(derived()).toBe(2);
    const settled: number[] = [];
    const waiting = [0, 1, 2].map((i) => {
      const answer = eager(iron, forged());
      expect(answer).toBeInstanceOf(Promise);
      return expectCode(answer as Promise<unknown>, 'ERR_SEAL_UNSEAL_FAILED').then(() => {
        settled.push(i);
      });
    });
    // Nothing more is derived in this turn.
    await Promise.resolve();
    expect(derived()).toBe(2);
    await nextTurn();
    expect(derived()).toBe(4);
    expect(settled).toEqual([0, 1]);
    await nextTurn();
    expect(derived()).toBe(5);
    await Promise.all(waiting);
    expect(settled).toEqual([0, 1, 2]);
  });

  it('a token with known keys is answered at once while others wait', async () => {
    const iron = budgeted(nodeBackend, 1, 10);
    const own = await iron.seal({ own: 1 }, PASSWORD);
    await nextTurn();
    expect(eager(iron, forged())).toBe('ERR_SEAL_UNSEAL_FAILED');
    const waiting = eager(iron, forged());
    expect(waiting).toBeInstanceOf(Promise);
    // Verified before: no derivation, no wait.
    expect(eager(iron, own)).toEqual({ own: 1 });
    // Sealed here, not yet seen as a token by this engine, but its salts' keys are cached.
    const sealedNow = await iron.seal({ own: 2 }, PASSWORD);
    expect(eager(iron, sealedNow)).toEqual({ own: 2 });
    await expectCode(waiting as Promise<unknown>, 'ERR_SEAL_UNSEAL_FAILED');
  });

  it('a valid token from elsewhere waits its turn and then opens (no fresh session for it)', async () => {
    const iron = budgeted(nodeBackend, 1, 10);
    const fromPeer = await hapi.seal({ peer: true }, PASSWORD);
    await nextTurn();
    expect(eager(iron, forged())).toBe('ERR_SEAL_UNSEAL_FAILED');
    const answer = eager(iron, fromPeer);
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).resolves.toEqual({ peer: true });
  });

  it('past the waiting bound a token is checked at once, as without the budget: none is refused', async () => {
    const { backend, derived } = counting();
    const iron = budgeted(backend, 1, 2);
    const fromPeer = await hapi.seal({ peer: 2 }, PASSWORD);
    await nextTurn();
    // All in one turn from here on.
    expect(eager(iron, forged())).toBe('ERR_SEAL_UNSEAL_FAILED');
    const waiting = [eager(iron, forged()), eager(iron, forged())];
    expect(waiting.every((answer) => answer instanceof Promise)).toBe(true);
    expect(derived()).toBe(1);
    // The queue is full: the next ones are checked now, a forged one refused by its MAC and
    // a valid one from a peer opened.
    expect(eager(iron, forged())).toBe('ERR_SEAL_UNSEAL_FAILED');
    expect(eager(iron, fromPeer)).toEqual({ peer: 2 });
    expect(derived()).toBe(4);
    for (const answer of waiting) {
      await expectCode(answer as Promise<unknown>, 'ERR_SEAL_UNSEAL_FAILED');
    }
  });

  it('thousands of never-seen valid tokens at once all open (none refused, none lost)', async () => {
    const iron = budgeted(nodeBackend, 8, 1024);
    const tokens = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => hapi.seal({ i }, PASSWORD)),
    );
    const results = await Promise.allSettled(tokens.map((token) => iron.unseal(token, PASSWORD)));
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expect(results.map((result) => (result as PromiseFulfilledResult<unknown>).value)).toEqual(
      tokens.map((_, i) => ({ i })),
    );
  });

  it("a test's fake timers do not stall the tokens waiting for a turn", async () => {
    vi.useFakeTimers();
    try {
      const iron = budgeted(nodeBackend, 1, 10);
      const answers = Array.from({ length: 5 }, () => iron.unseal(forged(), PASSWORD));
      for (const answer of answers) await expectCode(answer, 'ERR_SEAL_UNSEAL_FAILED');
    } finally {
      vi.useRealTimers();
    }
  });

  it('the WebCrypto backend (workerd, browsers) has no budget: nothing waits', () => {
    const iron = budgeted(webBackend, 1, 10);
    for (let i = 0; i < 5; i++) expect(eager(iron, forged())).toBe('ERR_SEAL_UNSEAL_FAILED');
  });

  it('byte passwords derive nothing and never wait', async () => {
    const iron = budgeted(nodeBackend, 1, 1);
    const key = new Uint8Array(32).fill(9);
    // A token for a byte password has no salts.
    const forgedForBytes = (): string =>
      `Fe26.2***${random(ALPHABET, 22)}*${random(ALPHABET, 64)}***${random(ALPHABET, 43)}`;
    for (let i = 0; i < 5; i++) {
      let code: unknown;
      try {
        iron.unsealEager(forgedForBytes(), key);
      } catch (error) {
        code = (error as { code: SessionErrorCode }).code;
      }
      expect(code).toBe('ERR_SEAL_UNSEAL_FAILED');
    }
    const token = await hapi.seal({ bytes: 1 }, key);
    expect(iron.unsealEager(token, key)).toEqual({ bytes: 1 });
  });

  it('defaults to 4 a turn and 1024 waiting', () => {
    expect(defaultLimits.unverifiedDerivationsPerTurn).toBe(4);
    expect(defaultLimits.unverifiedDerivationsWaiting).toBe(1024);
  });
});

describe('setting the limit', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '4', undefined])(
    'refuses %s with ERR_OPTIONS_INVALID naming the rule',
    (limit) => {
      for (const set of [
        (value: unknown) => {
          engine(nodeBackend, 1).setDerivationLimit(value as number);
        },
        (value: unknown) => {
          setDerivationLimit(value as number);
        },
        (value: unknown) => engine(nodeBackend, value as number),
      ]) {
        let caught: unknown;
        try {
          set(limit);
        } catch (error) {
          caught = error;
        }
        expect(caught).toMatchObject({
          name: 'SessionError',
          code: 'ERR_OPTIONS_INVALID',
          message: expect.stringMatching(/derivation limit must be a positive integer/) as unknown,
        });
      }
    },
  );

  it('takes effect for the next derivation; running ones go on', async () => {
    const g = gate(nodeBackend);
    const iron = engine(g.backend, 2);
    const running = [
      pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'),
      pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'),
    ];
    iron.setDerivationLimit(1);
    await g.release();
    // One still runs: with a limit of 1, nothing more starts.
    await expectCode(iron.unseal(forged(), PASSWORD, OPTIONS), 'ERR_DERIVATION_LIMIT');
    iron.setDerivationLimit(3);
    const more = [
      pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'),
      pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'),
    ];
    await expectCode(iron.unseal(forged(), PASSWORD, OPTIONS), 'ERR_DERIVATION_LIMIT');
    while (g.held() > 0) await g.release();
    await Promise.all([...running, ...more]);
  });

  it('the public setter limits the process-wide engine', async () => {
    const options = { integrity: { iterations: 8190 } };
    try {
      setDerivationLimit(1);
      const first = unseal(forged(), PASSWORD, options);
      await expectCode(unseal(forged(), PASSWORD, options), 'ERR_DERIVATION_LIMIT');
      await expectCode(first, 'ERR_SEAL_UNSEAL_FAILED');
    } finally {
      setDerivationLimit(defaultLimits.unverifiedDerivations);
    }
  });

  it('defaults to 16', () => {
    expect(defaultLimits.unverifiedDerivations).toBe(16);
  });
});
