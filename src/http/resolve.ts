import { SessionError } from '../errors.js';
import { createRequestContext, type RequestContext } from '../session/request-state.js';
import { kRequest, type AnyHTTPEvent, type H3EventLike, type H3V2EventLike } from './event.js';
import { headersTransport, nodeTransport } from './transports.js';

// Shapes are probed loosely (any level may be missing): the value may be anything.
interface Probe {
  req?: { headers?: { get?: unknown } };
  res?: { headers?: { getSetCookie?: unknown } };
  node?: { req?: unknown; res?: { setHeader?: unknown } };
}

function isH3V2(event: object): event is H3V2EventLike {
  const candidate = event as Probe;
  return (
    typeof candidate.req?.headers?.get === 'function' &&
    typeof candidate.res?.headers?.getSetCookie === 'function'
  );
}

function isH3V1(event: object): event is H3EventLike {
  const candidate = event as Probe;
  return (
    typeof candidate.node?.res?.setHeader === 'function' &&
    typeof candidate.node.req === 'object' &&
    candidate.node.req !== null
  );
}

/**
 * The engine's view of a request, from any supported event: sealed-session's own, an h3
 * 1.x event (Node req/res underneath) or an h3 2.x event (fetch Request and response
 * headers). One per event, so every session call of a request shares its state.
 *
 * @throws SessionError `ERR_EVENT_UNSUPPORTED`
 */
export function requestContextOf(event: AnyHTTPEvent): RequestContext {
  const input: unknown = event;
  if (typeof input !== 'object' || input === null) throw unsupported();
  const own = (input as { [kRequest]?: RequestContext })[kRequest];
  if (own !== undefined) return own;
  let context: RequestContext;
  if (isH3V2(input)) {
    // h3 2.x drops `event.res` once it has built the Response (a later read makes a new
    // one): a different `res` means the headers went out, so a write must fail, not vanish.
    const res = input.res;
    const headersSent = (): boolean => input.res !== res;
    context = createRequestContext(headersTransport(input.req.headers, res.headers, headersSent));
  } else if (isH3V1(input)) {
    context = createRequestContext(nodeTransport(input.node.req, input.node.res));
  } else {
    throw unsupported();
  }
  // Kept on the event itself (a symbol key, invisible to JSON and key listings), so every
  // session call of the request shares it.
  (input as { [kRequest]?: RequestContext })[kRequest] = context;
  return context;
}

function unsupported(): SessionError {
  return new SessionError(
    'ERR_EVENT_UNSUPPORTED',
    'Expected an event from sealed-session, h3 1.x or h3 2.x',
  );
}
