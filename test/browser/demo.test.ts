/**
 * The demo app in a real browser: Debian's Chromium driven by playwright-core, against the
 * demo server started in-process on a free port. Each test gets its own browser context
 * (its own cookie jar), so tests are independent and may run in any order.
 */
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoServer } from '../../demo/app.mjs';
import { launchChromium } from './chromium.js';

// The demo imports the package by its own name, which resolves to dist/ (npm test builds it).
const DIST = new URL('../../dist/index.js', import.meta.url);
if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` first');
const { MAX_AGE, createDemoServer } = await import('../../demo/app.mjs');

const PASSWORD = 'browser_test_password_that_is_long_enough_0123';
const COOKIE_NAME = 'h3';

let browser: Browser | undefined;
let demo: DemoServer | undefined;
let base: string;

beforeAll(async () => {
  [demo, browser] = await Promise.all([
    createDemoServer({ password: PASSWORD, port: 0, host: '127.0.0.1' }),
    launchChromium(),
  ]);
  // localhost, not 127.0.0.1: the host name people type, and the one browsers special-case.
  base = `http://localhost:${demo.port}`;
});

afterAll(async () => {
  // Either may be missing when beforeAll failed; its error is the one to report.
  await browser?.close();
  await demo?.close();
});

/** Runs `body` with a fresh browser context (an empty cookie jar) and one page. */
async function withPage(body: (page: Page, context: BrowserContext) => Promise<void>) {
  if (browser === undefined) throw new Error('the browser did not start (see beforeAll)');
  const context = await browser.newContext();
  try {
    await body(await context.newPage(), context);
  } finally {
    await context.close();
  }
}

async function sessionCookie(context: BrowserContext): Promise<Cookie | undefined> {
  return (await context.cookies(base)).find((cookie) => cookie.name === COOKIE_NAME);
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

async function signIn(page: Page, name: string): Promise<void> {
  await page.goto(`${base}/`);
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
