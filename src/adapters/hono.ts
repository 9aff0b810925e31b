/**
 * `sealed-session/hono`: Hono middleware; handlers read the session with `c.get('session')`.
 */
import type { MiddlewareHandler } from 'hono';
import { mergeSetCookies } from '../cookie/set-cookie.js';
import { runInRequestScope } from '../host/request-scope.js';
import { collectingTransport, putSetCookies } from '../host/transports.js';
import { createRequestContext } from '../session/request-state.js';
import { sessionEngine } from '../session/session-engine.js';
import type {
  SessionConfig,
  SessionDataT,
  SessionManager,
  SessionMiddlewareOptions,
} from '../session/types.js';

/** The context variables the middleware sets, for `new Hono<SessionEnv<MyData>>()`. */
export interface SessionEnv<T extends SessionDataT = SessionDataT> {
  Variables: { session: SessionManager<T> };
}

/**
 * Middleware that loads the session (creating and writing a new one if needed) and sets
 * `c.get('session')`. Cookies written during the request are applied to the response once
 * the handler is done: one Set-Cookie per cookie, however many updates.
 *
 * @param config - the session configuration
 * @param options - `saveUninitialized` (see {@link SessionMiddlewareOptions})
 */
export function sessionMiddleware<T extends SessionDataT = SessionDataT>(
  config: SessionConfig,
  options: SessionMiddlewareOptions = {},
): MiddlewareHandler<SessionEnv<T>> {
  const saveUninitialized = options.saveUninitialized ?? true;
  const asyncContext = options.asyncContext === true;
  return async (c, next) => {
    const collected = collectingTransport((name) => c.req.header(name));
    const request = createRequestContext(collected.transport);
    c.set('session', await sessionEngine.useSession<T>(request, config, saveUninitialized));
    // With asyncContext, the handler runs in the request's scope: session calls without
    // the event find it.
    await (asyncContext ? runInRequestScope(request, next) : next());
    const cookies = collected.take();
    if (cookies.length === 0) return;
    // A cookie the handler set itself wins over the session's for the same cookie, as on
    // the node and fetch adapters.
    const merged = mergeSetCookies(cookies, c.res.headers.getSetCookie());
    try {
      putSetCookies(c.res.headers, merged);
    } catch {
      // A Response from fetch() has immutable headers: answer with a copy that takes them.
      c.res = new Response(c.res.body, c.res);
      putSetCookies(c.res.headers, merged);
    }
  };
}
