/**
 * `sealed-session/fetch`: run an event handler as `(request) => Promise<Response>`, for Bun,
 * Deno, Cloudflare Workers, and any fetch-style server.
 */
import { mergeSetCookies } from '../cookie/set-cookie.js';
import { httpStatusOf } from '../errors.js';
import { kRequest, type HTTPEvent } from '../host/event.js';
import { createRequestContext, type RequestContext } from '../session/request-state.js';
import { statusText, toResponseParts, type EventHandler } from '../handler/handler.js';
import { runInRequestScope } from '../host/request-scope.js';
import { headersTransport, putSetCookies } from '../host/transports.js';

class FetchEvent implements HTTPEvent {
  readonly context: Record<string, unknown> = {};
  status: number | undefined = undefined;
  readonly node: undefined = undefined;
  readonly request: Request;
  /** Headers the adapter puts on the response, Set-Cookie included. */
  readonly responseHeaders: Headers = new Headers();
  /** Set once the response is built: a later session write is an error, not a lost cookie. */
  responded = false;
  readonly [kRequest]: RequestContext;

  constructor(request: Request) {
    this.request = request;
    this[kRequest] = createRequestContext(
      headersTransport(request.headers, this.responseHeaders, () => this.responded),
      this.context,
    );
  }

  get method(): string {
    return this.request.method;
  }

  get path(): string {
    const url = this.request.url;
    // The path starts at the first "/" after "scheme://host".
    const start = url.indexOf('/', url.indexOf('//') + 2);
    return start < 0 ? '/' : url.slice(start);
  }

  getRequestHeader(name: string): string | undefined {
    return this.request.headers.get(name) ?? undefined;
  }

  setResponseHeader(name: string, value: string): void {
    this.responseHeaders.set(name, value);
  }
}

function withHeaders(response: Response, headers: Headers): Response {
  if (headers.keys().next().done === true) return response;
  // Responses from fetch() have immutable headers; a copy always accepts ours.
  const copy = new Response(response.body, response);
  for (const [name, value] of headers) {
    if (name !== 'set-cookie') copy.headers.set(name, value);
  }
  // A cookie the handler's Response sets itself wins over the session's for the same cookie.
  putSetCookies(
    copy.headers,
    mergeSetCookies(headers.getSetCookie(), response.headers.getSetCookie()),
  );
  return copy;
}

/** Options of {@link toWebHandler}. */
export interface WebHandlerOptions {
  /**
   * Called with an error a handler threw; the response is a 500, or the error's own
   * `status` (503 when the session store is unavailable). @default console.error
   */
  readonly onError?: ((error: unknown, event: HTTPEvent) => void) | undefined;
  /**
   * Run each handler in an AsyncLocalStorage scope of its request, so the session functions
   * also work without the event (`useSession(config)`, as vinxi allows). Off by default, as
   * in vinxi and Nitro: on Node 20 and 22 an active AsyncLocalStorage slows every promise of
   * the process (see README, "Calls without the event").
   * @default false
   */
  readonly asyncContext?: boolean | undefined;
}

/**
 * Turns an event handler into a fetch handler.
 *
 * @param handler - from {@link eventHandler}
 * @param options - error reporting
 * @returns `(request) => Promise<Response>`
 */
export function toWebHandler(
  handler: EventHandler,
  options: WebHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const onError =
    options.onError ??
    ((error: unknown) => {
      console.error(error);
    });
  const asyncContext = options.asyncContext === true;
  return async (request) => {
    const event = new FetchEvent(request);
    let value: unknown;
    try {
      value = await (asyncContext
        ? runInRequestScope(event[kRequest], () => handler(event))
        : handler(event));
    } catch (error) {
      event.responded = true;
      onError(error, event);
      // Session cookies already written stay, as on the node adapter and in h3: a session
      // cleared before the failure must still be deleted in the browser.
      const headers = new Headers({ 'content-type': 'text/plain; charset=utf-8' });
      putSetCookies(headers, event.responseHeaders.getSetCookie());
      const status = httpStatusOf(error);
      return new Response(statusText(status), { status, headers });
    }
    event.responded = true;
    if (value instanceof Response) return withHeaders(value, event.responseHeaders);
    const parts = toResponseParts(value, event.status);
    const headers = event.responseHeaders;
    if (parts.contentType !== undefined && !headers.has('content-type')) {
      headers.set('content-type', parts.contentType);
    }
    return new Response(parts.body as BodyInit | null, { status: parts.status, headers });
  };
}

export type { HTTPEvent } from '../host/event.js';
export { eventHandler, defineEventHandler, type EventHandler } from '../handler/handler.js';
