/**
 * `sealed-session/node`: run an event handler on node:http (or anything that calls
 * `(req, res)`: Connect, Vite middleware, ...).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Buffer } from 'node:buffer';
import { httpStatusOf } from '../errors.js';
import { mergeSetCookies } from '../cookie/set-cookie.js';
import { kRequest, type HTTPEvent } from '../host/event.js';
import { createRequestContext, type RequestContext } from '../session/request-state.js';
import type { EventHandler } from '../handler/handler.js';
import { statusText, toResponseParts } from '../handler/handler.js';
import { runInRequestScope } from '../host/request-scope.js';
import { nodeTransport, setCookiesOf } from '../host/transports.js';

class NodeEvent implements HTTPEvent {
  readonly context: Record<string, unknown> = {};
  status: number | undefined = undefined;
  readonly node: { readonly req: IncomingMessage; readonly res: ServerResponse };
  readonly request: undefined = undefined;
  readonly [kRequest]: RequestContext;

  constructor(req: IncomingMessage, res: ServerResponse) {
    this.node = { req, res };
    this[kRequest] = createRequestContext(nodeTransport(req, res), this.context);
  }

  get method(): string {
    return this.node.req.method ?? 'GET';
  }

  get path(): string {
    return this.node.req.url ?? '/';
  }

  getRequestHeader(name: string): string | undefined {
    return this[kRequest].transport.getRequestHeader(name.toLowerCase());
  }

  setResponseHeader(name: string, value: string): void {
    this.node.res.setHeader(name, value);
  }
}

/** Options of {@link toNodeListener}. */
export interface NodeListenerOptions {
  /**
   * Called with an error a handler threw; the response, when nothing was sent yet, is a 500,
   * or the error's own `status` (503 when the session store is unavailable).
   * @default console.error
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

/** Writes a handler's value; only a `Response` needs a promise (its body is read). */
function send(event: NodeEvent, value: unknown): Promise<void> | undefined {
  const { res } = event.node;
  if (res.writableEnded) return undefined;
  if (value instanceof Response) return sendResponse(res, value);
  const parts = toResponseParts(value, event.status);
  res.statusCode = parts.status;
  if (parts.contentType !== undefined && !res.hasHeader('content-type')) {
    res.setHeader('content-type', parts.contentType);
  }
  res.end(parts.body ?? undefined);
  return undefined;
}

async function sendResponse(res: ServerResponse, value: Response): Promise<void> {
  res.statusCode = value.status;
  for (const [name, headerValue] of value.headers) {
    if (name === 'set-cookie') continue;
    res.setHeader(name, headerValue);
  }
  const cookies = value.headers.getSetCookie();
  if (cookies.length > 0) {
    // A cookie the handler's Response sets itself wins over the session's for the same cookie.
    res.setHeader('set-cookie', mergeSetCookies(setCookiesOf(res), cookies));
  }
  res.end(value.body === null ? undefined : Buffer.from(await value.arrayBuffer()));
}

/**
 * Turns an event handler into a node:http request listener.
 *
 * @param handler - from {@link eventHandler}
 * @param options - error reporting
 * @returns `(req, res) => void` for `http.createServer`
 */
export function toNodeListener(
  handler: EventHandler,
  options: NodeListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const onError =
    options.onError ??
    ((error: unknown) => {
      console.error(error);
    });
  const asyncContext = options.asyncContext === true;
  return (req, res) => {
    const event = new NodeEvent(req, res);
    const fail = (error: unknown): void => {
      onError(error, event);
      if (!res.headersSent) {
        const status = httpStatusOf(error);
        res.statusCode = status;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(statusText(status));
      } else if (!res.writableEnded) {
        res.end();
      }
    };
    try {
      const result = asyncContext
        ? runInRequestScope(event[kRequest], () => handler(event))
        : handler(event);
      if (result instanceof Promise) {
        result.then((value) => send(event, value)).catch(fail);
      } else {
        send(event, result)?.catch(fail);
      }
    } catch (error) {
      fail(error);
    }
  };
}

export type { HTTPEvent } from '../host/event.js';
export { eventHandler, defineEventHandler, type EventHandler } from '../handler/handler.js';
