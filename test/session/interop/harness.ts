/**
 * Small HTTP helpers shared by the session suites that talk to real servers on 127.0.0.1:
 * start a node:http server on a free port, read the Set-Cookie headers of a response.
 */
import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server listening on 127.0.0.1. */
export interface RunningServer {
  readonly server: Server;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Starts `listener` on 127.0.0.1 with a free port.
 *
 * @param options - node:http server options (e.g. a larger `maxHeaderSize`)
 */
export async function listen(
  listener: RequestListener,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const server = createServer(options, listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
      }),
  };
}

/** One parsed Set-Cookie header: name, value and lower-cased attributes. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  /** Attribute names lower-cased; flags map to ''. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly raw: string;
}

/** Parses a Set-Cookie header loosely (tests only: the servers under test wrote it). */
export function parseSetCookie(raw: string): SetCookie {
  const [pair = '', ...rest] = raw.split(';');
  const eq = pair.indexOf('=');
  const attributes: Record<string, string> = {};
  for (const part of rest) {
    const at = part.indexOf('=');
    const key = (at < 0 ? part : part.slice(0, at)).trim().toLowerCase();
    attributes[key] = at < 0 ? '' : part.slice(at + 1).trim();
  }
  return {
    name: pair.slice(0, eq).trim(),
    value: decodeURIComponent(pair.slice(eq + 1).trim()),
    attributes,
    raw,
  };
}

/** Every Set-Cookie of `response` for cookie `name`, in order. */
export function setCookiesOf(response: Response, name: string): SetCookie[] {
  return response.headers
    .getSetCookie()
    .map(parseSetCookie)
    .filter((cookie) => cookie.name === name);
}

/** The one Set-Cookie of `response` for `name`; fails when there is none or several. */
export function onlySetCookie(response: Response, name: string): SetCookie {
  const cookies = setCookiesOf(response, name);
  if (cookies.length !== 1) {
    throw new Error(
      `expected exactly one Set-Cookie for "${name}", got ${cookies.length}: ${JSON.stringify(
        response.headers.getSetCookie(),
      )}`,
    );
  }
  return cookies[0]!;
}

/** A session as the test handlers return it. */
export interface SessionView {
  readonly id: string | undefined;
  readonly createdAt: number | undefined;
  readonly data: Record<string, unknown>;
}

/** What the test routes answer: a session view, or `{ token }` from a sealing route. */
export type RouteAnswer = SessionView & { readonly token?: string };

/** GETs `url` with optional headers and returns the response and its JSON body; non-200 throws. */
export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ response: Response; body: RouteAnswer }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  }
  return { response, body: JSON.parse(text) as RouteAnswer };
}
