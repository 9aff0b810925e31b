/**
 * The event types: the event this package's adapters hand to handlers (`HTTPEvent`), and
 * the shapes of h3 1.x and h3 2.x events the session functions accept.
 */
import type { RequestContext } from '../session/request-state.js';
import type { NodeRequestLike, NodeResponseLike } from './host-types.js';

/**
 * Where an event keeps the session engine's context of its request: set by our adapters
 * when they make the event, and by `requestContextOf` on h3 events at first use.
 */
// Registered, so two copies of the package on one h3 event share one request state (one
// write queue, one generation): one copy's clear then stops the other copy's writes too.
export const kRequest: unique symbol = Symbol.for('sealed-session.request');

/**
 * The event a handler receives from sealed-session's adapters (`toNodeListener`,
 * `toWebHandler`): the request, a per-request `context`, and the response head.
 */
export interface HTTPEvent {
  /** Request method, upper-case. */
  readonly method: string;
  /** Request path with query string. */
  readonly path: string;
  /** Per-request storage for your own values. */
  readonly context: Record<string, unknown>;
  /** Response status; defaults to 200 (204 when the handler returns nothing). */
  status: number | undefined;
  /** A request header by name (case-insensitive), or undefined. */
  getRequestHeader(name: string): string | undefined;
  /** Sets a response header (use the session functions for the session cookie). */
  setResponseHeader(name: string, value: string): void;
  /** Node's request and response, on `sealed-session/node`. */
  readonly node: { readonly req: NodeRequestLike; readonly res: NodeResponseLike } | undefined;
  /** The fetch Request, on `sealed-session/fetch`. */
  readonly request: Request | undefined;
  /** @internal */
  readonly [kRequest]: RequestContext;
}

/** An h3 1.x event (vinxi, Nitro, Nuxt): what sealed-session reads from it. */
export interface H3EventLike {
  readonly node: { readonly req: NodeRequestLike; readonly res: NodeResponseLike };
  readonly context: object;
}

/** An h3 2.x event: what sealed-session reads from it. */
export interface H3V2EventLike {
  readonly req: { readonly headers: { get(name: string): string | null } };
  readonly res: {
    readonly headers: {
      get(name: string): string | null;
      getSetCookie(): string[];
      append(name: string, value: string): void;
      delete(name: string): void;
    };
  };
  readonly context: object;
}

/** Any event the session functions accept. */
export type AnyHTTPEvent = HTTPEvent | H3EventLike | H3V2EventLike;
