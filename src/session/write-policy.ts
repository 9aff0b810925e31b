/**
 * When a session is written without being changed: the decision `useSession` and
 * `getSession` take after loading. One function, so the reasons to write sit side by side
 * instead of spread over the operations.
 */
import type { ResolvedConfig } from './config.js';
import type { SessionState } from './request-state.js';

/** Why a loaded, unchanged session is written, or false for no write. */
export type AutoWrite = 'new-session' | 'rotated-password' | 'legacy-seal' | 'idle-renewal' | false;

/**
 * Decides whether a session just loaded is written now.
 *
 * - A session that came from the session header is never written into the cookie (nor,
 *   with a store, touched: the header's token carries its own idle window).
 * - A new session is written so its id holds from the next request on, when the caller
 *   saves new sessions (`useSession`, not `getSession`), but not over a token that was
 *   left unchecked: the browser's cookie may still be good.
 * - A session sealed under a password id that no longer seals is resealed with the current
 *   one, so old passwords can leave the map; one that verified only at 1 iteration is
 *   resealed with the configured iterations.
 * - With `idleTimeout`, a cookie session is resealed (its `lastSeenAt` moved to now) once
 *   more than half of the idle window has passed, as h3 2.x does: an active user stays
 *   signed in, and an unchanged session is not rewritten on every request.
 */
export function shouldWrite(
  state: SessionState,
  config: ResolvedConfig,
  saveNew: boolean,
  now: number,
): AutoWrite {
  if (state.headerBound) return false;
  if (!state.persisted) return saveNew && !state.tokenUnchecked ? 'new-session' : false;
  if (state.sealedWithOldPassword) return 'rotated-password';
  if (state.legacySeal) return 'legacy-seal';
  return idleRenewalDue(state, config, now) ? 'idle-renewal' : false;
}

/** More than half of the idle window has passed since the session was last seen. */
function idleRenewalDue(state: SessionState, config: ResolvedConfig, now: number): boolean {
  const session = state.session;
  if (config.idleTimeoutMs === 0 || session === undefined) return false;
  return now - (session.lastSeenAt ?? session.createdAt) > config.idleTimeoutMs / 2;
}
