/**
 * The demo app in a real browser: Debian's Chromium driven by playwright-core, against the
 * demo servers started in-process on free ports, over HTTP as `npm start` serves it on
 * PORT and over HTTPS (a self-signed certificate) as it serves it on HTTPS_PORT. Each test
 * gets its own browser context (its own cookie jar), so tests are independent and may run
 * in any order.
 */
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoServer } from '../../demo/app.mjs';
import { createSelfSignedCertificate, type KeyAndCertificate } from '../../demo/certificate.mjs';
import { launchChromium } from './chromium.js';

// The demo imports the package by its own name, which resolves to dist/ (npm test builds it).
const DIST = new URL('../../dist/index.js', import.meta.url);
if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` first');
const { HTTPS_COOKIE_NAME, MAX_AGE, createDemoServer } = await import('../../demo/app.mjs');

const PASSWORD = 'browser_test_password_that_is_long_enough_0123';
const COOKIE_NAME = 'h3';

let browser: Browser | undefined;
let demo: DemoServer | undefined;
let httpsDemo: DemoServer | undefined;
let tls: KeyAndCertificate | undefined;
let base: string;
let httpsBase: string;

beforeAll(async () => {
  [tls, browser] = await Promise.all([
    createSelfSignedCertificate(['localhost', '127.0.0.1']),
    launchChromium(),
  ]);
  if (tls === undefined) throw new Error('the openssl command is missing: apt-get install openssl');
  // HTTPS first, so the HTTP demo links to it as `npm start` does.
  httpsDemo = await createDemoServer({ password: PASSWORD, port: 0, tls });
  demo = await createDemoServer({
    password: PASSWORD,
    port: 0,
    host: '127.0.0.1',
    httpsUrl: httpsDemo.url,
  });
  // localhost, not 127.0.0.1: the host name people type, and the one browsers special-case.
  base = `http://localhost:${demo.port}`;
  httpsBase = `https://localhost:${httpsDemo.port}`;
});

afterAll(async () => {
  // Any may be missing when beforeAll failed; its error is the one to report.
  await browser?.close();
  await demo?.close();
  await httpsDemo?.close();
});

/**
 * Runs `body` with a fresh browser context (an empty cookie jar) and one page. Contexts
 * accept the self-signed certificate of the HTTPS demo, as a person does at the browser's
 * warning; plain-HTTP pages are unaffected.
 */
async function withPage(body: (page: Page, context: BrowserContext) => Promise<void>) {
  if (browser === undefined) throw new Error('the browser did not start (see beforeAll)');
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    await body(await context.newPage(), context);
  } finally {
    await context.close();
  }
}

async function sessionCookie(
  context: BrowserContext,
  origin = base,
  name = COOKIE_NAME,
): Promise<Cookie | undefined> {
  return (await context.cookies(origin)).find((cookie) => cookie.name === name);
}

async function sessionId(page: Page): Promise<string> {
  await page.goto(`${base}/session`);
  return (await page.locator('#session-id').textContent()) ?? '';
}

/**
 * Clicks a form button and waits for the page it leads to. The forms post and redirect back
 * to the same URL, so `waitForURL` would return at once (the URL already matches) and the
 * next step could race the navigation; the next `load` event is the page after the redirect.
 */
async function submit(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForEvent('load'), page.click(selector)]);
}

async function signIn(page: Page, name: string, origin = base): Promise<void> {
  await page.goto(`${origin}/`);
  await page.fill('#name', name);
  await Promise.all([page.waitForURL(/\/session/), page.click('#signin')]);
}

async function sessionData(page: Page): Promise<Record<string, unknown>> {
  return JSON.parse((await page.locator('#session-data').textContent()) ?? '') as Record<
    string,
    unknown
  >;
}

describe('demo app in Chromium', () => {
  it('signs in and shows the name, escaped, on every page', async () => {
    await withPage(async (page) => {
      await signIn(page, 'Ada <b>Lovelace</b>');
      expect(await page.locator('#signed-in-as').textContent()).toBe('Ada <b>Lovelace</b>');
      expect((await sessionData(page)).name).toBe('Ada <b>Lovelace</b>');
      await page.goto(`${base}/`);
      expect(await page.locator('#user-name').textContent()).toBe('Ada <b>Lovelace</b>');
      // Escaped, so no element was injected.
      expect(await page.locator('#user-name b').count()).toBe(0);
    });
  });

  it('regenerates the session id on sign-in and keeps the data', async () => {
    await withPage(async (page) => {
      await page.goto(`${base}/counter`);
      await submit(page, '#increment');
      const before = await sessionId(page);
      expect(before).toMatch(/^[0-9a-f-]{36}$/);
      await signIn(page, 'Grace');
      const after = (await page.locator('#session-id').textContent()) ?? '';
      expect(after).toMatch(/^[0-9a-f-]{36}$/);
      expect(after).not.toBe(before);
      await expect(page.locator('.notice.info').textContent()).resolves.toContain(before);
      const data = await sessionData(page);
      expect(data.name).toBe('Grace');
      expect(data.count).toBe(1);
    });
  });

  it('keeps the counter across reloads and in a new tab of the same context', async () => {
    await withPage(async (page, context) => {
      await page.goto(`${base}/counter`);
      expect(await page.locator('#count').textContent()).toBe('0');
      for (let i = 0; i < 3; i++) {
        await submit(page, '#increment');
      }
      expect(await page.locator('#count').textContent()).toBe('3');
      await page.reload();
      expect(await page.locator('#count').textContent()).toBe('3');

      const tab = await context.newPage();
      await tab.goto(`${base}/counter`);
      expect(await tab.locator('#count').textContent()).toBe('3');
      await submit(tab, '#increment');
      await page.reload();
      expect(await page.locator('#count').textContent()).toBe('4');
    });
  });

  it('adds items to the cart and removes them', async () => {
    await withPage(async (page) => {
      await page.goto(`${base}/cart`);
      await expect(page.locator('#cart-empty').count()).resolves.toBe(1);
      await submit(page, '#add-apple');
      await submit(page, '#add-apple');
      await submit(page, '#add-tea');
      expect(await page.locator('#qty-apple').textContent()).toBe('2');
      expect(await page.locator('#qty-tea').textContent()).toBe('1');
      await submit(page, '#remove-tea');
      await page.reload();
      expect(await page.locator('#qty-apple').textContent()).toBe('2');
      expect(await page.locator('#qty-tea').count()).toBe(0);
    });
  });

  it('stores the cookie with HttpOnly, SameSite=Lax, Path=/ and an Expires maxAge ahead', async () => {
    await withPage(async (page, context) => {
      const start = Date.now() / 1000;
      const response = await page.goto(`${base}/session`);
      expect(response?.status()).toBe(200);
      const cookie = await sessionCookie(context);
      expect(cookie).toBeDefined();
      expect(cookie?.value).toMatch(/^Fe26\.2\*/);
      expect(cookie?.httpOnly).toBe(true);
      expect(cookie?.sameSite).toBe('Lax');
      expect(cookie?.path).toBe('/');
      expect(cookie?.domain).toBe('localhost');
      // Plain HTTP: the demo sets Secure only for HTTPS requests (Safari drops Secure
      // cookies on http://localhost).
      expect(cookie?.secure).toBe(false);
      expect(cookie?.expires).toBeGreaterThan(start + MAX_AGE - 60);
      expect(cookie?.expires).toBeLessThan(start + MAX_AGE + 60);
      // HttpOnly: invisible to the page's scripts.
      expect(await page.evaluate(() => document.cookie)).not.toContain(`${COOKIE_NAME}=`);
    });
  });

  it('shows the raw Cookie header and its public fields on /cookie', async () => {
    await withPage(async (page, context) => {
      await signIn(page, 'Linus');
      const cookie = await sessionCookie(context);
      await page.goto(`${base}/cookie`);
      expect(await page.locator('#raw-cookie').textContent()).toBe(
        `${COOKIE_NAME}=${cookie?.value ?? ''}`,
      );
      expect(await page.locator('#cookie-status').textContent()).toContain('opened it');
      expect(await page.locator('#password-id').textContent()).toContain('none');
      const expiry = Date.parse(
        (await page.locator('#token-expires-at').getAttribute('datetime')) ?? '',
      );
      expect(expiry).not.toBeNaN();
      expect(Math.abs(expiry - (Date.now() + MAX_AGE * 1000))).toBeLessThan(60_000);
      // The data is encrypted: the name appears nowhere in the cookie.
      expect(cookie?.value).not.toContain('Linus');
    });
  });

  it('signs out: the cookie is removed and the old session is gone', async () => {
    await withPage(async (page, context) => {
      await signIn(page, 'Margaret');
      const id = (await page.locator('#session-id').textContent()) ?? '';
      const old = await sessionCookie(context);
      expect(old).toBeDefined();

      await Promise.all([page.waitForURL(/\/\?signed-out$/), page.click('#signout')]);
      expect(await page.locator('.notice.info').textContent()).toContain('signed out');
      expect(await page.locator('#signin').count()).toBe(1);
      // Home only reads the session, so no new cookie replaced the deleted one.
      expect(await sessionCookie(context)).toBeUndefined();

      const newId = await sessionId(page);
      expect(newId).not.toBe(id);
      expect(await sessionData(page)).toEqual({});
      expect(await page.locator('#signed-in-as').count()).toBe(0);
    });
  });

  it('answers a hand-edited cookie with a fresh session page (200), not an error', async () => {
    await withPage(async (page, context) => {
      await signIn(page, 'Alan');
      const id = (await page.locator('#session-id').textContent()) ?? '';
      const cookie = await sessionCookie(context);
      expect(cookie).toBeDefined();
      if (cookie === undefined) return;

      // Flip one character in the middle of the ciphertext (the 5th field).
      const fields = cookie.value.split('*');
      const ciphertext = fields[4] ?? '';
      const at = Math.floor(ciphertext.length / 2);
      fields[4] =
        ciphertext.slice(0, at) + (ciphertext[at] === 'A' ? 'B' : 'A') + ciphertext.slice(at + 1);
      await context.addCookies([{ ...cookie, value: fields.join('*') }]);

      const response = await page.goto(`${base}/session`);
      expect(response?.status()).toBe(200);
      expect(await page.locator('.rejection-code').textContent()).toBe('ERR_SEAL_UNSEAL_FAILED');
      const newId = (await page.locator('#session-id').textContent()) ?? '';
      expect(newId).toMatch(/^[0-9a-f-]{36}$/);
      expect(newId).not.toBe(id);
      expect(await sessionData(page)).toEqual({});

      // The fresh session's cookie replaced the edited one: the next page has no notice.
      await page.reload();
      expect(await page.locator('.rejection-code').count()).toBe(0);
      expect(await page.locator('#session-id').textContent()).toBe(newId);

      // Not even token-shaped: still a friendly page.
      await context.addCookies([{ ...cookie, value: 'not-a-token' }]);
      const home = await page.goto(`${base}/`);
      expect(home?.status()).toBe(200);
      expect(await page.locator('.rejection-code').textContent()).toBe('ERR_SEAL_INVALID');
    });
  });

  it('keeps a Secure cookie on http://localhost in Chromium when forced', async () => {
    // What the README says about Chromium: http://localhost is a secure context, so a
    // Secure cookie set over plain HTTP is kept there (Safari drops it).
    const forced = await createDemoServer({ password: PASSWORD, port: 0, cookieSecure: true });
    try {
      await withPage(async (page, context) => {
        await page.goto(`http://localhost:${forced.port}/counter`);
        await submit(page, '#increment');
        expect(await page.locator('#count').textContent()).toBe('1');
        const cookies = await context.cookies(`http://localhost:${forced.port}`);
        expect(cookies.find((cookie) => cookie.name === COOKIE_NAME)?.secure).toBe(true);
      });
    } finally {
      await forced.close();
    }
  });
});

describe('the cookie name: __Host- over HTTPS, a plain name over HTTP', () => {
  it('says on the HTTP pages why the cookie is not __Host-, and links to the HTTPS demo', async () => {
    await withPage(async (page) => {
      await page.goto(`${base}/session`);
      expect(await page.locator('#cookie-name').textContent()).toBe(COOKIE_NAME);
      const note = (await page.locator('#cookie-prefix').textContent()) ?? '';
      expect(note).toContain('__Host-');
      expect(note).toContain('Secure');
      await Promise.all([page.waitForURL(`${httpsBase}/cookie`), page.click('#https-demo')]);
      expect(await page.locator('#cookie-prefix').textContent()).toContain(
        'The name starts with __Host-',
      );
    });
  });

  it('serves HTTPS with a __Host- cookie: Secure, Path=/, no Domain', async () => {
    await withPage(async (page, context) => {
      const response = await page.goto(`${httpsBase}/session`);
      expect(response?.status()).toBe(200);
      // The header as the server wrote it: the browser's jar cannot show a refused Domain.
      const header = (await response?.headerValue('set-cookie')) ?? '';
      expect(header).toMatch(/^__Host-h3=Fe26\.2\*[^;]+;/);
      const attributes = header.split(';').map((part) => part.trim().toLowerCase());
      expect(attributes).toContain('secure');
      expect(attributes).toContain('path=/');
      expect(attributes.some((attribute) => attribute.startsWith('domain='))).toBe(false);

      expect(HTTPS_COOKIE_NAME).toBe('__Host-h3');
      const cookie = await sessionCookie(context, httpsBase, HTTPS_COOKIE_NAME);
      expect(cookie).toMatchObject({
        // Host-only: no leading dot, so no other host is sent it.
        domain: 'localhost',
        path: '/',
        secure: true,
        httpOnly: true,
        sameSite: 'Lax',
      });
      // The plain name is not used on this server.
      expect(await sessionCookie(context, httpsBase)).toBeUndefined();
      expect(await page.locator('#cookie-name').textContent()).toBe(HTTPS_COOKIE_NAME);
      expect(await page.locator('#cookie-prefix').textContent()).toContain('no Domain');
    });
  });

  it('keeps the session over HTTPS, and signing out deletes the __Host- cookie', async () => {
    await withPage(async (page, context) => {
      await signIn(page, 'Barbara', httpsBase);
      expect(await page.locator('#signed-in-as').textContent()).toBe('Barbara');
      await page.goto(`${httpsBase}/counter`);
      await submit(page, '#increment');
      await submit(page, '#increment');
      expect(await page.locator('#count').textContent()).toBe('2');
      expect(await page.locator('#signed-in-as').textContent()).toBe('Barbara');

      // The deletion must carry Secure and Path=/ too, or the browser keeps the cookie.
      await Promise.all([page.waitForURL(/\/\?signed-out$/), page.click('#signout')]);
      expect(await sessionCookie(context, httpsBase, HTTPS_COOKIE_NAME)).toBeUndefined();
      expect(await page.locator('#signin').count()).toBe(1);
    });
  });

  it('warns on /cookie when the session cookie came twice, and the first one won', async () => {
    await withPage(async (page, context) => {
      // The attacker's own valid token: they sign in as themselves.
      await signIn(page, 'Mallory');
      const mallory = await sessionCookie(context);
      expect(mallory).toBeDefined();
      if (mallory === undefined) return;
      await context.clearCookies();
      await signIn(page, 'Ada');

      // A planted copy under a longer path, which the browser sends first. On localhost no
      // sibling subdomain can plant it, so the test's jar does, as one would on a real site.
      await context.addCookies([{ ...mallory, path: '/cookie' }]);
      await page.goto(`${base}/cookie`);
      expect(await page.locator('.rejection-code').textContent()).toBe('ERR_COOKIE_DUPLICATE');
      expect(await page.locator('#cookie-count').textContent()).toContain('2 times');
      expect(await page.locator('#cookie-status').textContent()).toContain('opened it');
      expect(await page.locator('#signed-in-as').textContent()).toBe('Mallory');

      // Elsewhere only Ada's cookie is sent; a duplicate is no reason to delete it.
      await page.goto(`${base}/`);
      expect(await page.locator('#user-name').textContent()).toBe('Ada');
      expect(await page.locator('.rejection-code').count()).toBe(0);
    });
  });

  it('refuses cookieSecure: false with tls, since a __Host- cookie must be Secure', async () => {
    await expect(
      createDemoServer({ password: PASSWORD, port: 0, tls, cookieSecure: false }),
    ).rejects.toThrow(HTTPS_COOKIE_NAME);
  });
});
