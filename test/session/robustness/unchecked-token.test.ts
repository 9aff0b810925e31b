/**
 * A cookie whose token could not be checked (ERR_DERIVATION_LIMIT: too many unverified tokens
 * waiting for a key derivation, or on WebCrypto too many running) is not a bad token: it may
 * be the user's valid session, sealed by a peer or before a restart. The request goes on
 * with a fresh session, `onInvalidToken` hears why, and the browser's cookie is left as it
 * is unless the handler changes the session: a read must not sign the user out.
 *
 * The limit is reached on the WebCrypto backend (no clock: past the limit a token is refused
 * at once) with a limit of one and the one derivation held by the test.
 */
import { describe, expect, it } from 'vitest';
import type { BackendKey, CryptoBackend } from '../../../src/iron/backend/types.js';
import { webBackend } from '../../../src/iron/backend/web.js';
import { createIron, defaultLimits } from '../../../src/iron/create-iron.js';
import { createSessionEngine, type SessionEngine } from '../../../src/session/session-engine.js';
import type { SessionConfig, SessionRejection } from '../../../src/session/types.js';
import { memoryRequest } from '../../reliability/race-harness.js';

const PASSWORD = 'unchecked-token-test-password-0123456789';
/** Above WebCrypto's 32 iterations derived in JS: these derivations are asynchronous. */
const SEAL = { encryption: { iterations: 64 }, integrity: { iterations: 64 } };

/**
 * The WebCrypto backend with its first asynchronous derivation held until `release`; the
 * others (the keys a seal derives for its new salts) go on.
 */
function heldBackend(): { backend: CryptoBackend; release: () => void } {
  let held: (() => void) | undefined;
  let holding = true;
  return {
    backend: {
      ...webBackend,
      deriveKey(...args) {
        const made = webBackend.deriveKey(...args);
        if (!(made instanceof Promise) || !holding) return made;
        holding = false;
        return new Promise<BackendKey>((resolve, reject) => {
          held = () => {
            made.then(resolve, reject);
          };
        });
      },
    },
    release: () => {
      held?.();
    },
  };
}

const forged = (salt: string): string =>
  `h3=Fe26.2**${salt.repeat(64)}*${'A'.repeat(22)}*${'B'.repeat(64)}**${salt.repeat(64)}*${'C'.repeat(43)}`;

/** An engine whose derivation limit (one) the held backend keeps reached, and its reports. */
function limitedEngine(): {
  engine: SessionEngine;
  config: SessionConfig;
  rejections: SessionRejection[];
  release: () => void;
} {
  const { backend, release } = heldBackend();
  const iron = createIron(backend, { ...defaultLimits, unverifiedDerivations: 1 });
  const rejections: SessionRejection[] = [];
  return {
    engine: createSessionEngine({ iron, now: () => Date.now() }),
    config: {
      password: PASSWORD,
      name: 'h3',
      seal: SEAL,
      onInvalidToken: (rejection) => {
        rejections.push(rejection);
      },
    },
    rejections,
    release,
  };
}

describe('a cookie left unchecked at the derivation limit', () => {
  it('gives a fresh session for the request and leaves the cookie alone, unless the session changes', async () => {
    const { engine, config, rejections, release } = limitedEngine();

    // The one derivation place, taken by a token the test holds.
    const blocker = memoryRequest(forged('a'));
    const blocked = engine.useSession(blocker.request, config);

    // A read: a fresh session, told why, and no Set-Cookie over the browser's cookie.
    const read = memoryRequest(forged('b'));
    const readSession = await engine.useSession(read.request, config);
    expect(readSession.data).toEqual({});
    expect(rejections.map(({ error }) => error.code)).toEqual(['ERR_DERIVATION_LIMIT']);
    expect(read.setCookies()).toEqual([]);

    // A write: the handler changed the session, so its cookie is written.
    const write = memoryRequest(forged('c'));
    const writeSession = await engine.useSession(write.request, config);
    await writeSession.update({ signedIn: true });
    expect(write.setCookies()).toHaveLength(1);
    expect(write.setCookies()[0]).toMatch(/^h3=Fe26\.2\*/);

    // The held token is checked once let go: a forged one, refused by its MAC, and replaced.
    release();
    const blockerSession = await blocked;
    expect(blockerSession.data).toEqual({});
    expect(rejections.map(({ error }) => error.code)).toEqual([
      'ERR_DERIVATION_LIMIT',
      'ERR_DERIVATION_LIMIT',
      'ERR_SEAL_UNSEAL_FAILED',
    ]);
    expect(blocker.setCookies()).toHaveLength(1);
  });

  it('a session header token left unchecked protects no cookie: the fresh session is written', async () => {
    const { engine, config, rejections, release } = limitedEngine();
    const blocked = engine.useSession(memoryRequest(forged('a')).request, config);
    const header = memoryRequest(undefined, forged('d').slice('h3='.length));
    const session = await engine.useSession(header.request, config);
    expect(session.data).toEqual({});
    expect(rejections.map(({ error, source }) => [error.code, source])).toEqual([
      ['ERR_DERIVATION_LIMIT', 'header'],
    ]);
    expect(header.setCookies()).toHaveLength(1);
    release();
    await blocked;
  });
});
