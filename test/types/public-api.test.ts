/**
 * Type tests of the public API: `npm run typecheck` (tsc over test/) fails when a public
 * type regresses, since `expectTypeOf` and `@ts-expect-error` are checked there; the `it`
 * blocks also run, so the file counts as a suite. Both call forms of every session
 * function (with the event, and without it as vinxi allows) are covered.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  clearSession,
  getSession,
  regenerateSession,
  sealSession,
  setFlash,
  takeFlash,
  unsealSession,
  updateSession,
  useSession,
  type AnyHTTPEvent,
  type Session,
  type SessionConfig,
  type SessionErrorCode,
  type SessionManager,
} from '../../src/index.js';
import { inspectToken, setDerivationLimit } from '../../src/iron/index.js';

interface Data {
  user?: string;
  count?: number;
}

interface Flash {
  notice: string;
}

const event = {} as AnyHTTPEvent;
const config = {} as SessionConfig;

/**
 * Holds assertions that call the API: they are checked by the compiler, never run (a call
 * would start a real session operation on a fake event).
 */
function typeOnly(assertions: () => void): void {
  expectTypeOf(assertions).toBeFunction();
}

describe('public types', () => {
  it('useSession: both forms give a typed manager', () => {
    typeOnly(() => {
      expectTypeOf(useSession<Data>(event, config)).resolves.toEqualTypeOf<SessionManager<Data>>();
      expectTypeOf(useSession<Data>(config)).resolves.toEqualTypeOf<SessionManager<Data>>();
      expectTypeOf(useSession<Data>(config)).resolves.toHaveProperty('data').toEqualTypeOf<Data>();
      expectTypeOf(useSession<Data>(config))
        .resolves.toHaveProperty('id')
        .toEqualTypeOf<string | undefined>();
      // @ts-expect-error -- a config is required
      void useSession(event);
    });
  });

  it('getSession, regenerateSession: both forms give a Session', () => {
    typeOnly(() => {
      expectTypeOf(getSession<Data>(event, config)).resolves.toEqualTypeOf<Session<Data>>();
      expectTypeOf(getSession<Data>(config)).resolves.toEqualTypeOf<Session<Data>>();
      expectTypeOf(regenerateSession<Data>(config)).resolves.toEqualTypeOf<Session<Data>>();
      expectTypeOf(regenerateSession<Data>(event, config)).resolves.toEqualTypeOf<Session<Data>>();
    });
  });

  it('updateSession: an object or a function update, with or without the event', () => {
    typeOnly(() => {
      expectTypeOf(updateSession<Data>(config, { user: 'ada' })).resolves.toEqualTypeOf<
        Session<Data>
      >();
      expectTypeOf(
        updateSession<Data>(event, config, (data) => ({ count: (data.count ?? 0) + 1 })),
      ).resolves.toEqualTypeOf<Session<Data>>();
      expectTypeOf(updateSession<Data>(event, config)).resolves.toEqualTypeOf<Session<Data>>();
      // @ts-expect-error -- `count` is a number in Data
      void updateSession<Data>(config, { count: 'one' });
    });
  });

  it('clearSession takes a full SessionConfig in both forms', () => {
    typeOnly(() => {
      expectTypeOf(clearSession(config)).toEqualTypeOf<Promise<void>>();
      expectTypeOf(clearSession(event, config)).toEqualTypeOf<Promise<void>>();
      // @ts-expect-error -- a partial config is not a SessionConfig
      void clearSession(event, { name: 'h3' });
    });
  });

  it('sealSession and unsealSession: both forms', () => {
    typeOnly(() => {
      expectTypeOf(sealSession(config)).toEqualTypeOf<Promise<string>>();
      expectTypeOf(sealSession(event, config)).toEqualTypeOf<Promise<string>>();
      expectTypeOf(unsealSession(config, 'token')).toEqualTypeOf<Promise<Session>>();
      expectTypeOf(unsealSession(event, config, 'token')).toEqualTypeOf<Promise<Session>>();
      expectTypeOf(unsealSession(undefined, config, 'token')).toEqualTypeOf<Promise<Session>>();
      // @ts-expect-error -- the token is a string
      void unsealSession(config, 42);
    });
  });

  it('flash values are typed through the manager', () => {
    typeOnly(() => {
      expectTypeOf<SessionManager<Data, Flash>['takeFlash']>()
        .parameter(0)
        .toEqualTypeOf<'notice'>();
      expectTypeOf<ReturnType<SessionManager<Data, Flash>['takeFlash']>>().toEqualTypeOf<
        Promise<string | undefined>
      >();
      expectTypeOf(takeFlash<string>(config, 'notice')).toEqualTypeOf<
        Promise<string | undefined>
      >();
      expectTypeOf(setFlash(event, config, 'notice', 'saved')).toEqualTypeOf<Promise<void>>();
      const manager = {} as SessionManager<Data, Flash>;
      // @ts-expect-error -- `notice` holds a string
      void manager.flash('notice', 1);
    });
  });

  it('error codes are a closed union', () => {
    typeOnly(() => {
      expectTypeOf<'ERR_EVENT_MISSING'>().toExtend<SessionErrorCode>();
      expectTypeOf<'ERR_PURPOSE_MISMATCH'>().toExtend<SessionErrorCode>();
      expectTypeOf<'ERR_NOT_A_CODE'>().not.toExtend<SessionErrorCode>();
    });
  });

  it('sealed-session/iron: setDerivationLimit and inspectToken', () => {
    typeOnly(() => {
      expectTypeOf(setDerivationLimit).toEqualTypeOf<(limit: number) => void>();
      expectTypeOf(inspectToken).parameter(0).toEqualTypeOf<string>();
    });
  });
});
