/**
 * `sealed-session/hono`: Hono middleware; handlers read the session with `c.get('session')`.
 */
import type { MiddlewareHandler } from 'hono';
import { mergeSetCookies } from '../cookie/set-cookie.js';
import { httpStatusOf } from '../errors.js';
import { statusText } from '../handler/handler.js';
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
 * `c.get('session')`. When the session store is unavailable the response is a 503. Cookies written during the request are applied to the response once
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
    let session: SessionManager<T>;
    try {
      session = await sessionEngine.useSession<T>(request, config, saveUninitialized);
    } catch (error) {
      // The session store is down: the request cannot know who is asking.
      if (httpStatusOf(error) !== 503) throw error;
      c.res = new Response('Service Unavailable', {
        status: 503,
        headers: { 'content-type': 'text/plain; charset=UTF-8' },
      });
      return;
    }
    c.set('session', session);
    // With asyncContext, the handler runs in the request's scope: session calls without
    // the event find it.
    await (asyncContext ? runInRequestScope(request, next) : next());
    // Hono's default error handler answers 500 for any error; a session error that is not
    // a server fault (a store outage, a session revoked meanwhile) has a status of its own.
    const status = c.error === undefined ? 500 : httpStatusOf(c.error);
    if (status !== 500 && c.res.status === 500) {
      c.res = new Response(statusText(status), {
        status,
        headers: { 'content-type': 'text/plain; charset=UTF-8' },
      });
    }
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
