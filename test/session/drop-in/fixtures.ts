/**
 * Shared pieces of the drop-in suites: configurations that record what `onInvalidToken`
 * reported, the session a route reaches the host's own way, Set-Cookie parsing, and the
 * Cookie header a browser would send back.
 */
import { parseSetCookie } from 'cookie';
import { it } from 'vitest';
import {
  isSessionError,
  useSession,
  type SessionConfig,
  type SessionManager,
  type SessionRejection,
} from '../../../src/index.js';
import type { DropInResponse, Exchange } from './hosts.js';

/** A configuration whose `onInvalidToken` reports into `rejections`. */
export interface Recorded {
  readonly config: SessionConfig;
  readonly rejections: SessionRejection[];
}

export function recorded(config: Omit<SessionConfig, 'onInvalidToken'>): Recorded {
  const rejections: SessionRejection[] = [];
  return {
    config: { ...config, onInvalidToken: (rejection) => rejections.push(rejection) },
    rejections,
  };
}

/** `[source, code]` of each rejection, for compact assertions. */
export function rejectionCodes(rejections: readonly SessionRejection[]): [string, string][] {
  return rejections.map((rejection) => [rejection.source, rejection.error.code]);
}

/**
 * The request's session the way an application on the host reaches it: `useSession(event,
 * config)` where there is an event, the middleware's manager under Express and Hono (which
 * the middleware made with the host's configuration).
 */
export function hostSession(exchange: Exchange, config: SessionConfig): Promise<SessionManager> {
  if (exchange.event !== undefined) return useSession(exchange.event, config);
  if (exchange.manager !== undefined) return Promise.resolve(exchange.manager);
  return Promise.reject(new Error('the exchange has neither an event nor a manager'));
}

/** The code of a SessionError (also one h3 wrapped as `cause`), else a description. */
export function codeOf(error: unknown): string {
  if (isSessionError(error)) return error.code;
  if (typeof error === 'object' && error !== null && 'cause' in error) return codeOf(error.cause);
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** What a call did: its value, or the code and message of what it rejected with. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly threw: boolean;
    };

/**
 * Runs `call` and reports how it ended; `threw` is true when it threw at the call instead
 * of returning a promise that rejects.
 */
export async function outcomeOf<T>(call: () => Promise<T>): Promise<Outcome<T>> {
  let promise: Promise<T>;
  try {
    promise = call();
  } catch (error) {
    return { ok: false, code: codeOf(error), message: messageOf(error), threw: true };
  }
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, code: codeOf(error), message: messageOf(error), threw: false };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One parsed Set-Cookie header. */
export interface SetCookieView {
  readonly name: string;
  readonly value: string;
  readonly maxAge: number | undefined;
  readonly expires: Date | undefined;
  readonly raw: string;
}

export function setCookiesOf(response: DropInResponse): SetCookieView[] {
  return response.setCookies.map((raw) => {
    const parsed = parseSetCookie(raw);
    return {
      name: parsed.name,
      value: parsed.value ?? '',
      maxAge: parsed.maxAge,
      expires: parsed.expires,
      raw,
    };
  });
}

/** The Set-Cookie headers of `response` for cookie `name`. */
export function cookiesNamed(response: DropInResponse, name: string): SetCookieView[] {
  return setCookiesOf(response).filter((cookie) => cookie.name === name);
}

/** The one Set-Cookie for `name`; fails with the full list when there is not exactly one. */
export function onlyCookie(response: DropInResponse, name: string): SetCookieView {
  const cookies = cookiesNamed(response, name);
  if (cookies.length !== 1) {
    throw new Error(
      `expected one Set-Cookie for ${name}, got ${cookies.length}: ${response.setCookies.join(' | ')}`,
    );
  }
  return cookies[0]!;
}

/** A Set-Cookie that deletes its cookie: empty and `Max-Age=0`. */
export function isDeletion(cookie: SetCookieView): boolean {
  return cookie.value === '' && cookie.maxAge === 0;
}

/** Names of the cookies `response` deletes, in order. */
export function deletedNames(response: DropInResponse): string[] {
  return setCookiesOf(response)
    .filter(isDeletion)
    .map((cookie) => cookie.name);
}

/** The cookies `response` leaves in a browser, by name (deletions dropped). */
export function jarAfter(
  response: DropInResponse,
  previous: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const jar: Record<string, string> = { ...previous };
  for (const cookie of setCookiesOf(response)) {
    if (isDeletion(cookie)) Reflect.deleteProperty(jar, cookie.name);
    else jar[cookie.name] = cookie.value;
  }
  return jar;
}

/** A Cookie request header from cookies by name. */
export function cookieHeader(cookies: Readonly<Record<string, string>>): Record<string, string> {
  return {
    cookie: Object.entries(cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; '),
  };
}

/** Resolves after `ms` milliseconds. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `it` where a case applies to the host, nothing where it does not: the suites list what
 * each host supports instead of reporting skipped tests.
 */
export function itWhen(applies: boolean): typeof it {
  return applies ? it : ((() => undefined) as unknown as typeof it);
}
