/**
 * `sealed-session/express`: Express (4 and 5) and Connect middleware that puts the session
 * manager on `req.session`.
 */
import { SessionError } from '../errors.js';
import type { NodeRequestLike, NodeResponseLike } from '../host/host-types.js';
import { runInRequestScope } from '../host/request-scope.js';
import { nodeTransport } from '../host/transports.js';
import { createRequestContext } from '../session/request-state.js';
import { sessionEngine } from '../session/session-engine.js';
import type {
  SessionConfig,
  SessionDataT,
  SessionManager,
  SessionMiddlewareOptions,
} from '../session/types.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express types requests through this global namespace
  namespace Express {
    interface Request {
      /** The session, set by sealed-session's `sessionMiddleware`. */
      session: SessionManager;
    }
  }
}

/** A request that went through {@link sessionMiddleware}, with typed session data. */
export type RequestWithSession<T extends SessionDataT = SessionDataT> = NodeRequestLike & {
  session: SessionManager<T>;
};

/**
 * Middleware that loads the session (creating and writing a new one if needed) and puts
 * its manager on `req.session`. Handlers then use `req.session.data`,
 * `await req.session.update(...)`, `await req.session.clear()`.
 *
 * @param config - the session configuration
 * @param options - `saveUninitialized` (see {@link SessionMiddlewareOptions})
 * @throws (via `next(error)`) SessionError for a bad configuration; a bad cookie never errors
 */
export function sessionMiddleware(
  config: SessionConfig,
  options: SessionMiddlewareOptions = {},
): (req: NodeRequestLike, res: NodeResponseLike, next: (error?: unknown) => void) => void {
  const saveUninitialized = options.saveUninitialized ?? true;
  const asyncContext = options.asyncContext === true;
  return (req, res, next) => {
    const request = createRequestContext(nodeTransport(req, res));
    sessionEngine.useSession(request, config, saveUninitialized).then((manager) => {
      (req as RequestWithSession).session = manager;
      // With asyncContext, the rest of the chain runs in the request's scope: session calls
      // without the event (useSession(config), with any config) find this request.
      if (asyncContext) runInRequestScope(request, next);
      else next();
    }, next);
  };
}

/**
 * The typed session of a request that went through {@link sessionMiddleware}.
 *
 * @throws SessionError `ERR_EVENT_UNSUPPORTED` when the middleware did not run
 */
export function sessionOf<T extends SessionDataT = SessionDataT>(
  req: NodeRequestLike,
): SessionManager<T> {
  const session = (req as Partial<RequestWithSession<T>>).session;
  if (session === undefined) {
    throw new SessionError(
      'ERR_EVENT_UNSUPPORTED',
      'sessionMiddleware did not run for this request',
    );
  }
  return session;
}
