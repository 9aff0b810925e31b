/**
 * A session too large for one cookie, in a real browser: Debian's Chromium driven by
 * playwright-core against a tiny node:http app (toNodeListener + useSession, from the
 * sources) on 127.0.0.1. A 9 KB value submitted in a form comes back as chunked cookies in
 * h3's format (`h3=__chunked__N`, `h3.1` ... `h3.N`), which the browser keeps and sends
 * back whole, so the next page shows the value unchanged. Shrinking the session drops the
 * chunks, and signing out (clearSession) leaves no session cookie or chunk in the jar.
 */
import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNodeListener } from '../../src/adapters/node.js';
import {
  clearSession,
  eventHandler,
  useSession,
  type HTTPEvent,
  type SessionConfig,
} from '../../src/index.js';
import { launchChromium } from './chromium.js';

// Plain HTTP on 127.0.0.1, so no Secure flag; the rest are the defaults.
const config: SessionConfig = {
  password: 'chunked_browser_test_password_0123456789abcdef',
  cookie: { secure: false },
};
const NAME = 'h3';
/** The value that does not fit one cookie: 9 KB of random base64, which nothing shrinks. */
const LARGE_LENGTH = 9 * 1024;

let browser: Browser | undefined;
let server: Server | undefined;
let base = '';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A field of the request's urlencoded form body, read from node:http's request. */
async function formField(event: HTTPEvent, field: string): Promise<string> {
  const req: unknown = event.node?.req;
  if (!(req instanceof IncomingMessage)) throw new Error('not a node:http request');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get(field) ?? '';
}

function page(body: string): Response {
  return new Response(`<!doctype html><meta charset="utf-8"><title>chunked</title>${body}`, {
    headers: { 'content-type': 'text/html; charset=utf-8' },
  });
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}

const app = eventHandler(async (event: HTTPEvent) => {
  const path = event.path.split('?')[0];
  if (event.method === 'POST' && path === '/save') {
    const value = await formField(event, 'value');
    const session = await useSession(event, config);
    await session.update({ value });
    return redirect('/');
  }
  if (event.method === 'POST' && path === '/sign-out') {
    // Without the event, as vinxi allows: the listener runs handlers in the request's scope.
    await clearSession(config);
    return redirect('/signed-out');
  }
  if (path === '/signed-out') {
    // Touches no session, so nothing here sets a cookie again.
    return page('<p id="signed-out">Signed out</p>');
  }
  if (path === '/') {
    const session = await useSession<{ value?: string }>(event, config);
    return page(
      `<p id="session-id">${session.id ?? ''}</p>` +
        `<pre id="value">${escapeHtml(session.data.value ?? '')}</pre>` +
        '<form method="post" action="/save"><textarea id="input" name="value"></textarea>' +
        '<button id="save">Save</button></form>' +
        '<form method="post" action="/sign-out"><button id="sign-out">Sign out</button></form>',
    );
  }
  return new Response('not found', { status: 404 });
});

beforeAll(async () => {
  browser = await launchChromium();
  // asyncContext: the sign-out handler calls clearSession without the event.
  server = createServer(toNodeListener(app, { asyncContext: true }));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  // Either may be missing when beforeAll failed; its error is the one to report.
  await browser?.close();
  await new Promise<void>((resolve) => {
    if (server === undefined) resolve();
    else
      server.close(() => {
        resolve();
      });
  });
});

async function withPage(body: (page: Page, context: BrowserContext) => Promise<void>) {
  if (browser === undefined) throw new Error('the browser did not start (see beforeAll)');
  const context = await browser.newContext();
  try {
    await body(await context.newPage(), context);
  } finally {
    await context.close();
  }
}

/** The session cookie and its chunks (`h3`, `h3.1`, ...) the browser holds, by name. */
async function sessionCookies(context: BrowserContext): Promise<Map<string, Cookie>> {
  const all = await context.cookies();
  return new Map(
    all
      .filter((cookie) => cookie.name === NAME || cookie.name.startsWith(`${NAME}.`))
      .map((cookie) => [cookie.name, cookie]),
  );
}

/** Types `value` into the form and submits it; resolves on the page after the redirect. */
async function save(page: Page, value: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('#input', value);
  await Promise.all([page.waitForEvent('load'), page.click('#save')]);
}

function largeValue(): string {
  return randomBytes(LARGE_LENGTH).toString('base64').slice(0, LARGE_LENGTH);
}

describe('a chunked session in Chromium', () => {
  it('keeps a 9 KB session as h3=__chunked__N and h3.1..N and reads it back on the next page', async () => {
    await withPage(async (page, context) => {
      await page.goto(`${base}/`);
      const id = await page.locator('#session-id').textContent();
      const value = largeValue();
      await save(page, value);

      const cookies = await sessionCookies(context);
      const main = cookies.get(NAME);
      expect(main?.value).toMatch(/^__chunked__\d+$/);
      const count = Number(main?.value.slice('__chunked__'.length));
      // ~12.5 KB of token in chunks of at most 4000 characters.
      expect(count).toBeGreaterThanOrEqual(3);
      expect([...cookies.keys()].sort()).toEqual(
        [NAME, ...Array.from({ length: count }, (_, i) => `${NAME}.${i + 1}`)].sort(),
      );
      for (const cookie of cookies.values()) {
        expect(cookie).toMatchObject({ path: '/', httpOnly: true, sameSite: 'Lax' });
        expect(cookie.value.length).toBeLessThanOrEqual(4000);
      }
      const token = Array.from(
        { length: count },
        (_, i) => cookies.get(`${NAME}.${i + 1}`)?.value ?? '',
      ).join('');
      expect(token).toMatch(/^Fe26\.2\*/);
      expect(token.length).toBeGreaterThan(LARGE_LENGTH);

      // The next navigation sends every chunk back and the page shows the value whole.
      await page.goto(`${base}/`);
      expect(await page.locator('#value').textContent()).toBe(value);
      expect(await page.locator('#session-id').textContent()).toBe(id);
    });
  });

  it('drops the chunks when the session shrinks back into one cookie', async () => {
    await withPage(async (page, context) => {
      await save(page, largeValue());
      expect((await sessionCookies(context)).size).toBeGreaterThan(1);
      await save(page, 'small');
      const cookies = await sessionCookies(context);
      expect([...cookies.keys()]).toEqual([NAME]);
      expect(cookies.get(NAME)?.value).toMatch(/^Fe26\.2\*/);
      expect(await page.locator('#value').textContent()).toBe('small');
    });
  });

  it('leaves no session cookie or chunk in the jar after sign-out', async () => {
    await withPage(async (page, context) => {
      await save(page, largeValue());
      const before = await sessionCookies(context);
      expect(before.size).toBeGreaterThan(3);
      await Promise.all([page.waitForURL(`${base}/signed-out`), page.click('#sign-out')]);
      expect(await page.locator('#signed-out').count()).toBe(1);
      expect([...(await sessionCookies(context)).keys()]).toEqual([]);
      // A new visit starts an empty session.
      await page.goto(`${base}/`);
      expect(await page.locator('#value').textContent()).toBe('');
    });
  });
});
