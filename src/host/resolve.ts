/**
 * From whatever a session function was given to the engine's view of the request: this
 * package's own events, h3 1.x events (vinxi, Nitro, Nuxt), h3 2.x events, objects that
 * carry an h3 event under vinxi's `$HTTPEvent` symbol, and no event at all (the request of
 * the current scope, see request-scope.ts).
 */
import { SessionError } from '../errors.js';
import { createRequestContext, type RequestContext } from '../session/request-state.js';
import { kRequest, type AnyHTTPEvent, type H3EventLike, type H3V2EventLike } from './event.js';
import { frameworkEvent, noRequestInScope, scopedRequest } from './request-scope.js';
import { headersTransport, nodeTransport } from './transports.js';
import type { MutableHeadersLike } from './host-types.js';

// Shapes are probed loosely (any level may be missing): the value may be anything.
interface Probe {
  req?: { headers?: { get?: unknown } };
  res?: { headers?: { getSetCookie?: unknown }; errHeaders?: unknown };
  node?: { req?: unknown; res?: { setHeader?: unknown } };
  context?: unknown;
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

/** The event's `context` object, where h3 keeps `sessions`, if it has one. */
function contextOf(event: object): Record<string, unknown> | undefined {
  const context = (event as Probe).context;
  return typeof context === 'object' && context !== null
    ? (context as Record<string, unknown>)
    : undefined;
}

/**
 * vinxi (and SolidStart's request events) hand out objects that carry the h3 event under
 * `Symbol("$HTTPEvent")`, a symbol that is not registered: it is found by its description.
 */
function unwrapEvent(value: object): object {
  for (const symbol of Object.getOwnPropertySymbols(value)) {
    if (symbol.description === '$HTTPEvent') {
      const inner: unknown = (value as Record<symbol, unknown>)[symbol];
      if (typeof inner === 'object' && inner !== null) return inner;
    }
  }
  return value;
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
  const target = isH3V1(input) || isH3V2(input) ? input : unwrapEvent(input);
  if (target !== input) return requestContextOf(target as AnyHTTPEvent);
  let context: RequestContext;
  if (isH3V2(input)) {
    // h3 2.x drops `event.res` once it has built the Response (a later read makes a new
    // one): a different `res` means the headers went out, so a write must fail, not vanish.
    const res = input.res;
    const headersSent = (): boolean => input.res !== res;
    // An error response carries `res.errHeaders` instead of `res.headers`: session cookies
    // go to both, so a sign-in or sign-out made before an HTTPError still reaches the browser.
    const errHeaders = (res as Probe['res'] & object).errHeaders as MutableHeadersLike | undefined;
    context = createRequestContext(
      headersTransport(input.req.headers, res.headers, headersSent, errHeaders),
      contextOf(input),
    );
  } else if (isH3V1(input)) {
    context = createRequestContext(nodeTransport(input.node.req, input.node.res), contextOf(input));
  } else {
    throw unsupported();
  }
  // Kept on the event itself (a symbol key, invisible to JSON and key listings), so every
  // session call of the request shares it.
  (input as { [kRequest]?: RequestContext })[kRequest] = context;
  return context;
}

/**
 * The request of a call made without an event: the current scope's (this package's
 * adapters and middleware), else the current Nitro or vinxi request's.
 *
 * @throws SessionError `ERR_EVENT_MISSING` outside any request
 */
export function currentRequestContext(): RequestContext {
  const scoped = scopedRequest();
  if (scoped !== undefined) return scoped;
  const event = frameworkEvent();
  if (typeof event === 'object' && event !== null) return requestContextOf(event as AnyHTTPEvent);
  throw noRequestInScope();
}

function unsupported(): SessionError {
  return new SessionError(
    'ERR_EVENT_UNSUPPORTED',
    'Expected an event from sealed-session, h3 1.x or h3 2.x',
  );
}
