/**
 * The small handler framework behind `toNodeListener` and `toWebHandler`: `eventHandler`,
 * and how a handler's return value becomes a response, as in h3. Express and Hono bring
 * their own.
 */
import type { HTTPEvent } from '../host/event.js';

/**
 * A request handler: receives the event, returns (or resolves to) the response value: a
 * string (HTML), bytes, a `Response`, nothing (204), or any other value (JSON).
 */
export type EventHandler<T = unknown> = ((event: HTTPEvent) => T | Promise<T>) & {
  readonly __is_handler__?: true;
};

/**
 * Defines a handler, as h3's `eventHandler`. It returns the function itself (marked as a
 * handler), so it also works where h3 expects one.
 *
 * @param handler - receives the {@link HTTPEvent}; may return a string (HTML), a value
 *   (JSON), a `Response`, bytes, or nothing (204)
 */
export function eventHandler<T>(handler: (event: HTTPEvent) => T | Promise<T>): EventHandler<T> {
  return Object.assign(handler, { __is_handler__: true as const });
}

/** Alias of {@link eventHandler}, as in h3. */
export const defineEventHandler: typeof eventHandler = eventHandler;

/** A handler's result reduced to what a host writes. */
export interface ResponseParts {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string | Uint8Array | null;
}

/** The plain-text body of an error response of `status`. */
export function statusText(status: number): string {
  if (status === 503) return 'Service Unavailable';
  if (status === 409) return 'Conflict';
  return 'Internal Server Error';
}

/**
 * Converts a handler's return value (anything but a Response) the way h3 does: strings are
 * HTML, bytes are octet-stream, nothing is 204, everything else is JSON.
 */
export function toResponseParts(value: unknown, status: number | undefined): ResponseParts {
  if (value === undefined || value === null) {
    return { status: status ?? 204, contentType: undefined, body: null };
  }
  if (typeof value === 'string') {
    return { status: status ?? 200, contentType: 'text/html; charset=utf-8', body: value };
  }
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) {
    const body = value instanceof Uint8Array ? value : new Uint8Array(value);
    return { status: status ?? 200, contentType: 'application/octet-stream', body };
  }
  return { status: status ?? 200, contentType: 'application/json', body: JSON.stringify(value) };
}
