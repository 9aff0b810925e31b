/**
 * The engine's limit on asynchronous derivations of unverified tokens' MAC keys: at most so
 * many run at once, the count follows derivations as they settle, joining a running
 * derivation is free, and nothing else (sealing, cached keys, keys of verified tokens) is
 * limited. Past the limit, on the node backend (which has a clock) a token waits its turn,
 * in order, and the derivations are held to a share of time; past the waiting bound, and at
 * once on the WebCrypto backend (no clock), it is refused with ERR_DERIVATION_LIMIT.
 * Synchronous derivations (iron's default of one iteration) have a budget per turn of the
 * event loop instead: the tokens past it wait for the next turns, and none is refused.
 *
 * Derivations are held by a gate over the real backends, so each test decides when they
 * settle and observes the count exactly.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { isSessionError, type SessionErrorCode } from '../../src/errors.js';
import { SYNC_PBKDF2_MAX_ITERATIONS, nodeBackend } from '../../src/iron/backend/node.js';
import type { BackendKey, CryptoBackend } from '../../src/iron/backend/types.js';
import { webBackend } from '../../src/iron/backend/web.js';
import { createIron, defaultLimits, type Iron } from '../../src/iron/create-iron.js';
import { setDerivationLimit, unseal } from '../../src/iron/index.js';
import type { SealOptionsInput } from '../../src/iron/options.js';
import { manualClock } from '../internal/manual-clock.js';
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
  /** The salts of the asynchronous derivations, in the order they started. */
  readonly salts: () => string[];
  /** Lets the oldest held derivation settle with its real result. */
  release(): Promise<void>;
  /** Makes the oldest held derivation fail. */
  fail(): Promise<void>;
}

/** `base`, with each asynchronous derivation held until the test lets it settle. */
function gate(base: CryptoBackend): Gate {
  const queue: { settle: (ok: boolean) => Promise<unknown> }[] = [];
  const salts: string[] = [];
  let started = 0;
  const backend: CryptoBackend = {
    ...base,
    deriveKey(...args) {
      const made = base.deriveKey(...args);
      if (!(made instanceof Promise)) return made;
      started++;
      salts.push(args[1]);
      return new Promise<BackendKey>((resolve, reject) => {
        queue.push({
          settle: (ok) =>
            made.then((key) => {
              if (ok) resolve(key);
              else reject(new Error('derivation failed'));
            }, reject),
        });
      });
    },
  };
  const settleOldest = async (ok: boolean): Promise<void> => {
    const next = queue.shift();
    if (next === undefined) throw new Error('no derivation is held');
    // The real derivation's end (however long a loaded pool takes), then a few milliseconds
    // for the engine's handlers and the next derivations it starts.
    await next.settle(ok);
    await sleep(5);
  };
  return {
    backend,
    started: () => started,
    held: () => queue.length,
    salts: () => [...salts],
    release: () => settleOldest(true),
    fail: () => settleOldest(false),
  };
}

/**
 * An engine with `limit` derivations at once. Its share of time never runs out (the gate's
 * derivations take real time, and a loaded machine could spend a real budget): only the
 * share's own tests below spend it, on a clock of their own.
 */
function engine(backend: CryptoBackend, limit: number): Iron {
  return createIron(backend, {
    ...defaultLimits,
    unverifiedDerivations: limit,
    unverifiedDerivationBurstMs: 1e12,
  });
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

/** What a forged token past the limit ends in: checked later (a clock), or refused at once. */
const pastLimit = (backend: CryptoBackend): SessionErrorCode =>
  backend.clock === undefined ? 'ERR_DERIVATION_LIMIT' : 'ERR_SEAL_UNSEAL_FAILED';

describe.each(backends)('derivation limit (%s backend)', (_name, base) => {
  it('unseals joining a running derivation of the same token do not count again', async () => {
    const g = gate(base);
    const iron = engine(g.backend, 1);
    const token = await hapi.seal({ shared: true }, PASSWORD, OPTIONS);
    const unseals = [1, 2, 3].map(() => iron.unseal(token, PASSWORD, OPTIONS));
    expect(g.started()).toBe(1);
    // The one place is taken: another token starts nothing, the same token still joins.
    const other = pending(iron, forged(), pastLimit(base));
    unseals.push(iron.unseal(token, PASSWORD, OPTIONS));
    await nextTurn();
    expect(g.started()).toBe(1);
    while (g.held() > 0 || g.started() < 2) await g.release();
    for (const result of await Promise.all(unseals)) expect(result).toEqual({ shared: true });
    while (g.held() > 0) await g.release();
    await other;
  });

  it('a valid token still opens, and sealing still works, while the limit is reached', async () => {
    const g = gate(base);
    const iron = engine(g.backend, 1);
    // Sealed here before the flood: its keys are cached and it is a verified token.
    const sealing = iron.seal({ own: 1 }, PASSWORD, OPTIONS);
    while (g.held() > 0) await g.release();
    const own = await sealing;

    const blocker = pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED');
    const behind = pending(iron, forged(), pastLimit(base));
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
    while (g.held() > 0) await g.release();
    await behind;
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

describe('derivation limit without a clock (WebCrypto: workerd, browsers): refused at once', () => {
  it('has no clock', () => {
    expect(webBackend.clock).toBeUndefined();
  });

  it('past the limit a token is refused at once, without starting a derivation', async () => {
    const g = gate(webBackend);
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
    const g = gate(webBackend);
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

  it('takes a new limit for the next derivation; running ones go on', async () => {
    const g = gate(webBackend);
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
});

describe('derivation limit with a clock (node): past the limit tokens wait their turn', () => {
  it('has a clock', () => {
    expect(nodeBackend.clock).toBeDefined();
  });

  it('past the limit a token waits, starting no derivation, and starts when a place frees, oldest first', async () => {
    const g = gate(nodeBackend);
    const iron = engine(g.backend, 2);
    const tokens = [forged(), forged(), forged(), forged()];
    const failing = expectCode(iron.unseal(tokens[0]!, PASSWORD, OPTIONS), 'ERR_CRYPTO');
    const checked = tokens
      .slice(1, 3)
      .map((token) => pending(iron, token, 'ERR_SEAL_UNSEAL_FAILED'));
    // Synchronously too: unsealEager hands back the wait, it does not refuse.
    const eager = iron.unsealEager(tokens[3]!, PASSWORD, OPTIONS);
    expect(eager).toBeInstanceOf(Promise);
    checked.push(expectCode(eager as Promise<unknown>, 'ERR_SEAL_UNSEAL_FAILED'));
    await nextTurn();
    expect(g.started()).toBe(2);

    // Each place freed, by a failed derivation or a finished one, goes to the oldest waiting.
    await g.fail();
    await failing;
    expect(g.started()).toBe(3);
    await g.release();
    expect(g.started()).toBe(4);
    while (g.held() > 0) await g.release();
    await Promise.all(checked);
    expect(g.salts()).toEqual(tokens.map((token) => fields(token)[6]));
  });

  it('a valid token from elsewhere waiting behind forged ones opens when its turn comes', async () => {
    const g = gate(nodeBackend);
    const iron = engine(g.backend, 1);
    const valid = await hapi.seal({ from: 'a peer' }, PASSWORD, OPTIONS);
    const forgedFirst = [1, 2].map(() => pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'));
    const opened = iron.unseal(valid, PASSWORD, OPTIONS);
    while (g.held() > 0 || g.started() < 4) await g.release();
    while (g.held() > 0) await g.release();
    await expect(opened).resolves.toEqual({ from: 'a peer' });
    await Promise.all(forgedFirst);
  });

  it('requests joining a waiting derivation take no place in the queue and are not refused', async () => {
    const g = gate(nodeBackend);
    const iron = createIron(g.backend, {
      ...defaultLimits,
      unverifiedDerivations: 1,
      unverifiedDerivationsWaiting: 1,
      unverifiedDerivationBurstMs: 1e12,
    });
    const valid = await hapi.seal({ page: 1 }, PASSWORD, OPTIONS);
    const blocker = pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED');
    // The one place in the queue goes to the valid token; its parallel requests join it.
    const opened = [1, 2, 3].map(() => iron.unseal(valid, PASSWORD, OPTIONS));
    await expectCode(iron.unseal(forged(), PASSWORD, OPTIONS), 'ERR_DERIVATION_LIMIT');
    while (g.held() > 0 || g.started() < 3) await g.release();
    for (const result of await Promise.all(opened)) expect(result).toEqual({ page: 1 });
    await blocker;
    // One derivation of its MAC key for the three requests (and one of its encryption key).
    expect(g.salts().filter((salt) => salt === fields(valid)[6])).toHaveLength(1);
  });

  it("a flood waiting does not stop a page's parallel requests from sharing one derivation", async () => {
    const g = gate(nodeBackend);
    const iron = engine(g.backend, 1);
    // More waiting than the derivations shared per secret where there is no clock (64).
    const flood = Array.from({ length: defaultLimits.sharedDerivations + 6 }, () =>
      pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'),
    );
    const valid = await hapi.seal({ page: 2 }, PASSWORD, OPTIONS);
    const opened = [1, 2, 3].map(() => iron.unseal(valid, PASSWORD, OPTIONS));
    while (g.held() > 0) await g.release();
    for (const result of await Promise.all(opened)) expect(result).toEqual({ page: 2 });
    await Promise.all(flood);
    expect(g.salts().filter((salt) => salt === fields(valid)[6])).toHaveLength(1);
  });

  it("a test's fake timers do not stall the tokens waiting for the share to refill", async () => {
    const g = gate(nodeBackend);
    const iron = createIron(g.backend, {
      ...defaultLimits,
      unverifiedDerivations: 1,
      unverifiedDerivationBurstMs: 1,
    });
    vi.useFakeTimers();
    try {
      const unseals = [1, 2, 3].map(() => pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'));
      // Each held 20 ms of real time: the next waits about 40 ms for its share, on a timer
      // the fake timers do not own.
      while (g.started() < 3 || g.held() > 0) {
        if (g.held() > 0) await g.release();
        else await sleep(10);
      }
      await Promise.all(unseals);
    } finally {
      vi.useRealTimers();
    }
  });

  it('past the waiting bound a token is refused at once', async () => {
    const g = gate(nodeBackend);
    const iron = createIron(g.backend, {
      ...defaultLimits,
      unverifiedDerivations: 1,
      unverifiedDerivationsWaiting: 2,
    });
    const accepted = [1, 2, 3].map(() => pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'));
    expect(thrownCode(() => iron.unsealEager(forged(), PASSWORD, OPTIONS))).toBe(
      'ERR_DERIVATION_LIMIT',
    );
    await expectCode(iron.unseal(forged(), PASSWORD, OPTIONS), 'ERR_DERIVATION_LIMIT');
    expect(g.started()).toBe(1);
    while (g.held() > 0 || g.started() < 3) await g.release();
    await Promise.all(accepted);
  });

  it('the derivations are held to their share of time: past it, the next waits for the share to refill', async () => {
    const g = gate(nodeBackend);
    const clock = manualClock();
    const iron = createIron(
      { ...g.backend, clock },
      {
        ...defaultLimits,
        unverifiedDerivations: 4,
        unverifiedDerivationShare: 0.5,
        unverifiedDerivationBurstMs: 10,
      },
    );
    const first = pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED');
    // The first derivation takes 30 ms of the 10 held, while 15 refill: 5 overdrawn.
    await clock.advance(30);
    await g.release();
    await first;
    const second = pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED');
    await nextTurn();
    expect(g.started()).toBe(1);
    // Half of wall time: 10 ms repay the 5, and the timer set for it fires a ms later.
    await clock.advance(10);
    await nextTurn();
    expect(g.started()).toBe(1);
    await clock.advance(1);
    await nextTurn();
    expect(g.started()).toBe(2);
    await g.release();
    await second;
  });

  it('takes a new limit for the next derivation; running ones go on, waiting ones start', async () => {
    const g = gate(nodeBackend);
    const iron = engine(g.backend, 2);
    const unseals = [1, 2, 3].map(() => pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'));
    expect(g.started()).toBe(2);
    iron.setDerivationLimit(1);
    await g.release();
    // One still runs: with a limit of 1, the third waits.
    expect(g.started()).toBe(2);
    iron.setDerivationLimit(3);
    expect(g.started()).toBe(3);
    unseals.push(pending(iron, forged(), 'ERR_SEAL_UNSEAL_FAILED'));
    expect(g.started()).toBe(4);
    while (g.held() > 0) await g.release();
    await Promise.all(unseals);
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

  it('the public setter limits the process-wide engine', async () => {
    const options = { integrity: { iterations: 8190 } };
    const derive = nodeBackend.deriveKey.bind(nodeBackend);
    let started = 0;
    const spy = vi.spyOn(nodeBackend, 'deriveKey').mockImplementation((...args) => {
      const made = derive(...args);
      if (made instanceof Promise) started++;
      return made;
    });
    try {
      setDerivationLimit(1);
      const first = unseal(forged(), PASSWORD, options);
      const second = unseal(forged(), PASSWORD, options);
      // Before the event loop could hear of the first one's end: the second waits for it.
      expect(started).toBe(1);
      await expectCode(first, 'ERR_SEAL_UNSEAL_FAILED');
      await expectCode(second, 'ERR_SEAL_UNSEAL_FAILED');
      expect(started).toBe(2);
    } finally {
      spy.mockRestore();
      setDerivationLimit(defaultLimits.unverifiedDerivations);
    }
  });

  it('defaults to 16, half a thread of time, and a burst of 250 ms', () => {
    expect(defaultLimits.unverifiedDerivations).toBe(16);
    expect(defaultLimits.unverifiedDerivationShare).toBe(0.5);
    expect(defaultLimits.unverifiedDerivationBurstMs).toBe(250);
  });
});
