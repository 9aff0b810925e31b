/**
 * Fixtures of the session matrix: one set of configurations per host (own passwords, own
 * rejection logs, so nothing leaks between hosts), tokens made with our iron, and
 * Set-Cookie parsing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseSetCookie, type SetCookie } from 'cookie';
import { expect } from 'vitest';
import { seal } from '../../../src/iron/index.js';
import type { SealOptionsInput } from '../../../src/iron/options.js';
import type { PasswordInput } from '../../../src/iron/password.js';
import type { SessionConfig, SessionDataT, SessionRejection } from '../../../src/index.js';
import type { HostResponse } from './hosts.js';

/** A fresh 48-character secret. */
export function secret(): string {
  return randomBytes(24).toString('hex');
}

export interface Scenario {
  readonly config: SessionConfig;
  /** What `onInvalidToken` reported, in order. */
  readonly rejections: SessionRejection[];
  /** The password a valid token of this scenario is sealed with. */
  readonly sealWith: PasswordInput;
}

function scenario(
  config: Omit<SessionConfig, 'onInvalidToken'>,
  sealWith: PasswordInput = config.password,
): Scenario {
  const rejections: SessionRejection[] = [];
  return {
    config: { ...config, onInvalidToken: (rejection) => rejections.push(rejection) },
    rejections,
    sealWith,
  };
}

export const MAX_AGE = 3600;

/** The configurations every host is started with, fresh per host. */
export function makeScenarios(): {
  defaults: Scenario;
  named: Scenario;
  noCookie: Scenario;
  customHeader: Scenario;
  noHeader: Scenario;
  maxAge: Scenario;
  rotation: Scenario & { readonly oldSecret: string; readonly newSecret: string };
} {
  const oldSecret = secret();
  const newSecret = secret();
  return {
    defaults: scenario({ password: secret() }),
    named: scenario({
      password: secret(),
      name: 'SID',
      cookie: {
        path: '/app',
        domain: 'example.test',
        sameSite: 'strict',
        secure: false,
        httpOnly: false,
      },
    }),
    noCookie: scenario({ password: secret(), cookie: false }),
    customHeader: scenario({ password: secret(), sessionHeader: 'X-Auth-Token' }),
    noHeader: scenario({ password: secret(), sessionHeader: false }),
    maxAge: scenario({ password: secret(), maxAge: MAX_AGE }),
    rotation: {
      ...scenario({ password: { '1': oldSecret, '2': newSecret } }, { id: '2', secret: newSecret }),
      oldSecret,
      newSecret,
    },
  };
}

export interface SessionShape {
  readonly id: string;
  readonly createdAt: number;
  readonly data: SessionDataT;
}

/** A session with a random id, created now, with `data`. */
export function aSession(data: SessionDataT = {}, createdAt = Date.now()): SessionShape {
  return { id: randomUUID(), createdAt, data };
}

/** Seals a session exactly as h3 and sealed-session do: `{ id, createdAt, data }`. */
export function sealSessionToken(
  password: PasswordInput,
  session: SessionShape,
  options?: SealOptionsInput,
): Promise<string> {
  return seal(
    { id: session.id, createdAt: session.createdAt, data: session.data },
    password,
    options,
  );
}

/** The token with one character of its ciphertext changed: its MAC no longer verifies. */
export function tamper(token: string): string {
  const parts = token.split('*');
  const ciphertext = parts[4]!;
  const at = Math.floor(ciphertext.length / 2);
  const swapped = ciphertext[at] === 'A' ? 'B' : 'A';
  parts[4] = ciphertext.slice(0, at) + swapped + ciphertext.slice(at + 1);
  return parts.join('*');
}

/** The fields of an Fe26.2 token. */
export function tokenFields(token: string): string[] {
  return token.split('*');
}

/** Every Set-Cookie of the response for cookie `name`, parsed. */
export function cookiesNamed(response: HostResponse, name: string): SetCookie[] {
  return response.setCookies.map((header) => parseSetCookie(header)).filter((c) => c.name === name);
}

/** The one Set-Cookie for `name` (fails unless there is exactly one). */
export function oneCookie(response: HostResponse, name = 'h3'): SetCookie & { value: string } {
  const cookies = cookiesNamed(response, name);
  expect(cookies, `Set-Cookie for ${name}: ${response.setCookies.join(' | ')}`).toHaveLength(1);
  const cookie = cookies[0]!;
  return { ...cookie, value: cookie.value ?? '' };
}

/** The raw Set-Cookie header for `name` (exactly one). */
export function rawCookie(response: HostResponse, name = 'h3'): string {
  const headers = response.setCookies.filter((header) => parseSetCookie(header).name === name);
  expect(headers).toHaveLength(1);
  return headers[0]!;
}

/** Attribute names of a raw Set-Cookie header, lower-cased (`path`, `secure`, ...). */
export function attributeNames(header: string): string[] {
  return header
    .split(';')
    .slice(1)
    .map((part) => part.split('=')[0]!.trim().toLowerCase());
}

/** A Cookie request header. */
export function cookieHeader(name: string, value: string): Record<string, string> {
  return { cookie: `${name}=${value}` };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Waits until `check` holds (it polls, for work done after a response went out). */
export async function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
