/**
 * When a session is written without being changed: the decision `useSession` (and the
 * middleware) takes after loading. One function, so the reasons to write sit side by side
 * and new ones (idle renewal) join them here instead of in the operations.
 */
import type { SessionState } from './request-state.js';

/** Why a loaded, unchanged session is written, or false for no write. */
export type AutoWrite = 'new-session' | 'rotated-password' | false;

/**
 * Decides whether `useSession` writes the session it loaded.
 *
 * - A new session is written so its id holds from the next request on (unless the caller
 *   saves only changed sessions), but not over a token that was left unchecked: the
 *   browser's cookie may still be good.
 * - A session sealed under a password id that no longer seals is resealed with the current
 *   one, so old passwords can leave the map.
 * - A session that came from the session header is never written into the cookie.
 */
export function shouldWrite(state: SessionState, saveUninitialized: boolean): AutoWrite {
  if (state.headerBound) return false;
  if (!state.persisted) {
    return saveUninitialized && !state.tokenUnchecked ? 'new-session' : false;
  }
  return state.sealedWithOldPassword ? 'rotated-password' : false;
}
