/**
 * The demo's Devices page in Chromium: its account area keeps sessions in a store (store
 * mode, with a user index), so one device can list the others and sign them out. Every
 * test drives two browser contexts, two cookie jars, as two devices of one user, against
 * demo servers started in-process as test/browser/demo.test.ts starts them.
 *
 * The suite runs with the demo's default store, `memoryStore()`, and again with Redis (the
 * machine's, 127.0.0.1:6379, or REDIS_URL), through the demo's own `createDemoStore`, as
 * `npm start` does when REDIS_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoServer, DemoStore } from '../../demo/app.mjs';
import { createSelfSignedCertificate } from '../../demo/certificate.mjs';
import { launchChromium } from './chromium.js';

// The demo imports the package by its own name, which resolves to dist/ (npm test builds it).
const DIST = new URL('../../dist/index.js', import.meta.url);
if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` first');
const { AUTH_COOKIE_NAME, HTTPS_AUTH_COOKIE_NAME, createDemoServer, createDemoStore } =
  await import('../../demo/app.mjs');

const PASSWORD = 'devices_test_password_that_is_long_enough_0123';
/**
 * Per test: two devices make up to twenty page loads, a few seconds on a quiet machine but
 * more when the machine is busy with other suites.
 */
const TIMEOUT_MS = 60_000;
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

let browser: Browser | undefined;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

/** A device: a browser context of its own (its own cookie jar) and one page in it. */
interface Device {
  readonly context: BrowserContext;
  readonly page: Page;
}

/**
 * Runs `body` with two fresh devices, A and B, accepting the HTTPS demo's self-signed
 * certificate as a person does at the browser's warning.
 */
async function withDevices(body: (a: Device, b: Device) => Promise<void>): Promise<void> {
  if (browser === undefined) throw new Error('the browser did not start (see beforeAll)');
  const contexts = await Promise.all([
    browser.newContext({ ignoreHTTPSErrors: true }),
    browser.newContext({ ignoreHTTPSErrors: true }),
  ]);
  try {
    const [a, b] = await Promise.all(
      contexts.map(async (context) => ({ context, page: await context.newPage() })),
    );
    await body(a!, b!);
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
  }
}

/** A user name of this test alone, so tests in any order (and a shared Redis) never meet. */
function newUser(): string {
  return `user-${randomUUID().slice(0, 8)}`;
}

/**
 * Clicks a form button and waits for the page its post redirects to: the next `load`,
 * since some forms lead back to a URL the page is already on.
 */
async function submit(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForEvent('load'), page.click(selector)]);
}

async function signIn(page: Page, base: string, user: string): Promise<void> {
  await page.goto(`${base}/devices`);
  await page.fill('#account-user-input', user);
  await Promise.all([page.waitForURL(/\/devices\?signed-in$/), page.click('#account-signin')]);
  expect(await page.locator('#account-name').textContent()).toBe(user);
}

/** The session ids the Devices page lists, in its order. */
async function listedIds(page: Page): Promise<string[]> {
  return page
    .locator('#devices tr.device')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-session-id') ?? ''));
}

/** The id of the row marked "this device". */
async function thisDeviceId(page: Page): Promise<string> {
  const rows = page.locator('#devices tr.this-device');
  expect(await rows.count()).toBe(1);
  return (await rows.getAttribute('data-session-id')) ?? '';
}

/** Whether the Devices page shows a signed-in user: loads it, a request of that device. */
async function signedInAs(page: Page, base: string): Promise<string | undefined> {
  const response = await page.goto(`${base}/devices`);
  expect(response?.status()).toBe(200);
  if ((await page.locator('#account-name').count()) === 0) {
    expect(await page.locator('#account-signed-out').count()).toBe(1);
    return undefined;
  }
  return (await page.locator('#account-name').textContent()) ?? '';
}

async function authCookie(
  context: BrowserContext,
  base: string,
  name = AUTH_COOKIE_NAME,
): Promise<string | undefined> {
  return (await context.cookies(base)).find((cookie) => cookie.name === name)?.value;
}

/**
 * The next request of a device whose session was revoked elsewhere: it is signed out, the
 * page says why, and the refused cookie is deleted, so the request after it is quiet.
 */
async function expectRevoked(device: Device, base: string): Promise<void> {
  expect(await signedInAs(device.page, base)).toBeUndefined();
  expect(await device.page.locator('.rejection-code').textContent()).toBe('ERR_SESSION_REVOKED');
  expect(await device.page.locator('.rejection-name').textContent()).toBe(AUTH_COOKIE_NAME);
  expect(await authCookie(device.context, base)).toBeUndefined();
  await device.page.reload();
  expect(await device.page.locator('.rejection-code').count()).toBe(0);
}

const variants: ReadonlyArray<{ readonly kind: string; readonly redisUrl: string | undefined }> = [
  { kind: 'memoryStore (the default)', redisUrl: undefined },
  { kind: `redisStore at ${REDIS_URL}`, redisUrl: REDIS_URL },
];

describe.each(variants)(
  'the Devices page, sessions in $kind',
  { timeout: TIMEOUT_MS },
  ({ redisUrl }) => {
    let store: DemoStore | undefined;
    let demo: DemoServer | undefined;
    let base: string;

    beforeAll(async () => {
      store = await createDemoStore({ redisUrl });
      demo = await createDemoServer({ password: PASSWORD, port: 0, store });
      base = `http://localhost:${demo.port}`;
    });

    afterAll(async () => {
      await demo?.close();
      await store?.close();
    });

    it('lists both devices of a user on each of them, each marking itself', async () => {
      await withDevices(async (a, b) => {
        const user = newUser();
        const before = Date.now();
        await signIn(a.page, base, user);
        await signIn(b.page, base, user);
        // Store mode: the cookie holds a sealed reference, not the name.
        const cookie = (await authCookie(a.context, base)) ?? '';
        expect(cookie).toMatch(/^Fe26\.2\*/);
        expect(cookie).not.toContain(user);

        await a.page.goto(`${base}/devices`);
        expect(await a.page.locator('#device-count').textContent()).toBe('2');
        const idA = await thisDeviceId(a.page);
        const listedA = await listedIds(a.page);
        await b.page.reload();
        const idB = await thisDeviceId(b.page);
        expect(idA).not.toBe(idB);
        expect(listedA).toHaveLength(2);
        expect([...listedA].sort()).toEqual([idA, idB].sort());
        expect(await listedIds(b.page)).toEqual(listedA);
        // Oldest first: A signed in first.
        expect(listedA[0]).toBe(idA);

        for (const selector of ['time.created-at', 'time.last-seen-at']) {
          const times = await a.page
            .locator(`#devices ${selector}`)
            .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('datetime') ?? ''));
          expect(times).toHaveLength(2);
          for (const time of times) {
            expect(Date.parse(time)).toBeGreaterThanOrEqual(before - 1000);
            expect(Date.parse(time)).toBeLessThanOrEqual(Date.now() + 1000);
          }
        }
        expect(await a.page.locator('#no-password').count()).toBe(0);
      });
    });

    it('signs out everywhere else, then everywhere', async () => {
      await withDevices(async (a, b) => {
        const user = newUser();
        await signIn(a.page, base, user);
        await signIn(b.page, base, user);
        await a.page.goto(`${base}/devices`);
        const idA = await thisDeviceId(a.page);

        // Everywhere else: B at its next request, A stays signed in under the same id.
        await Promise.all([
          a.page.waitForURL(/\/devices\?signed-out-others=1$/),
          a.page.click('#signout-others'),
        ]);
        expect(await a.page.locator('.notice.info').textContent()).toContain('1 session revoked');
        expect(await listedIds(a.page)).toEqual([idA]);
        await expectRevoked(b, base);
        expect(await signedInAs(a.page, base)).toBe(user);
        expect(await thisDeviceId(a.page)).toBe(idA);
        // With one device left, there is nothing else to sign out.
        expect(await a.page.locator('#signout-others').isDisabled()).toBe(true);

        // B again, then everywhere: A at once (its own response), B at its next request.
        await signIn(b.page, base, user);
        await a.page.reload();
        expect(await a.page.locator('#device-count').textContent()).toBe('2');
        await Promise.all([
          a.page.waitForURL(/\/devices\?signed-out-everywhere=2$/),
          a.page.click('#signout-everywhere'),
        ]);
        expect(await a.page.locator('#account-signed-out').count()).toBe(1);
        expect(await a.page.locator('.notice.info').textContent()).toContain('2 sessions revoked');
        expect(await authCookie(a.context, base)).toBeUndefined();
        expect(await a.page.locator('.rejection-code').count()).toBe(0);
        await expectRevoked(b, base);
        expect(await signedInAs(a.page, base)).toBeUndefined();
      });
    });

    it("signs B out from A's page with the button on B's row, and A with its own", async () => {
      await withDevices(async (a, b) => {
        const user = newUser();
        await signIn(a.page, base, user);
        await signIn(b.page, base, user);
        const idB = await thisDeviceId(b.page);
        await a.page.goto(`${base}/devices`);
        const idA = await thisDeviceId(a.page);

        await submit(a.page, `#devices tr[data-session-id="${idB}"] button.signout-device`);
        expect(a.page.url()).toMatch(/\/devices\?revoked$/);
        expect(await listedIds(a.page)).toEqual([idA]);
        await expectRevoked(b, base);
        expect(await signedInAs(a.page, base)).toBe(user);

        // A's own row clears this session: the record and the cookie.
        await submit(a.page, `#devices tr[data-session-id="${idA}"] button.signout-device`);
        expect(a.page.url()).toMatch(/\/devices\?signed-out$/);
        expect(await a.page.locator('#account-signed-out').count()).toBe(1);
        expect(await authCookie(a.context, base)).toBeUndefined();
      });
    });

    it('lets a revoked device change nothing from the page it still shows', async () => {
      await withDevices(async (a, b) => {
        const user = newUser();
        await signIn(a.page, base, user);
        await signIn(b.page, base, user);
        await a.page.goto(`${base}/devices`);
        const idA = await thisDeviceId(a.page);
        await b.page.goto(`${base}/devices`);
        await submit(a.page, '#signout-others');

        // B's page still shows the buttons: pressing one only finds B signed out.
        await submit(b.page, '#signout-everywhere');
        expect(await b.page.locator('#account-signed-out').count()).toBe(1);
        expect(await b.page.locator('.rejection-code').textContent()).toBe('ERR_SESSION_REVOKED');
        expect(await signedInAs(a.page, base)).toBe(user);
        expect(await listedIds(a.page)).toEqual([idA]);
      });
    });

    it("refuses to sign out another user's session, and cross-site posts", async () => {
      await withDevices(async (victim, mallory) => {
        const user = newUser();
        await signIn(victim.page, base, user);
        const victimId = await thisDeviceId(victim.page);
        await signIn(mallory.page, base, newUser());

        // Mallory posts the victim's id (read from a screen, say) with her own session.
        const response = await mallory.context.request.post(`${base}/devices/signout`, {
          form: { id: victimId },
        });
        expect(response.status()).toBe(200);
        expect(response.url()).toMatch(/\/devices\?gone$/);
        expect(await signedInAs(victim.page, base)).toBe(user);
        expect(await listedIds(victim.page)).toEqual([victimId]);

        // A post from another site is refused before it reads a session, cookie or not.
        const crossSite = await victim.context.request.post(`${base}/devices/signout-everywhere`, {
          headers: { origin: 'http://evil.example' },
          form: {},
        });
        expect(crossSite.status()).toBe(403);
        expect(await signedInAs(victim.page, base)).toBe(user);
      });
    });

    it('rejects an empty user name, and says no password is needed', async () => {
      await withDevices(async (a) => {
        await a.page.goto(`${base}/devices`);
        expect(await a.page.locator('#no-password').textContent()).toContain('No password');
        // Anonymous visitors get no cookie from reading the page.
        expect(await authCookie(a.context, base)).toBeUndefined();
        const response = await a.context.request.post(`${base}/devices/signin`, {
          form: { user: '   ' },
        });
        expect(response.status()).toBe(400);
        expect(await authCookie(a.context, base)).toBeUndefined();
      });
    });
  },
);

describe('the Devices page when the store fails, and over HTTPS', { timeout: TIMEOUT_MS }, () => {
  it('answers 503 while the store is down, and keeps the session for when it is back', async () => {
    const inner = await createDemoStore();
    let down = false;
    const failing = <T>(call: () => Promise<T>): Promise<T> =>
      down ? Promise.reject(new Error('connection refused')) : call();
    const flaky: DemoStore = {
      description: 'a store that fails on demand',
      close: () => inner.close(),
      store: {
        kind: 'flaky',
        timeout: 500,
        get: (id) => failing(() => inner.store.get(id)),
        write: (id, change) => failing(() => inner.store.write(id, change)),
        touch: (id, lastSeenAt, expiresAt) =>
          failing(() => inner.store.touch(id, lastSeenAt, expiresAt)),
        takeFlash: (id, key) => failing(() => inner.store.takeFlash(id, key)),
        delete: (id) => failing(() => inner.store.delete(id)),
        markMoved: (id, to, until) => failing(() => inner.store.markMoved(id, to, until)),
        list: (tag, now) => failing(() => inner.store.list(tag, now)),
        deleteUser: (tag, except) => failing(() => inner.store.deleteUser(tag, except)),
      },
    };
    const server = await createDemoServer({ password: PASSWORD, port: 0, store: flaky });
    const base = `http://localhost:${server.port}`;
    try {
      await withDevices(async (a) => {
        const user = newUser();
        await signIn(a.page, base, user);
        const cookie = await authCookie(a.context, base);

        down = true;
        const response = await a.page.goto(`${base}/devices`);
        expect(response?.status()).toBe(503);
        expect(await response?.headerValue('retry-after')).toBe('5');
        expect(await a.page.locator('body').textContent()).toContain('ERR_STORE_UNAVAILABLE');
        // A sign-out that cannot reach the store changes nothing, cookie included.
        const signOut = await a.context.request.post(`${base}/devices/signout-everywhere`, {
          form: {},
        });
        expect(signOut.status()).toBe(503);
        expect(await authCookie(a.context, base)).toBe(cookie);
        // The cookie session's pages do not need the store.
        expect((await a.page.goto(`${base}/counter`))?.status()).toBe(200);

        down = false;
        expect(await signedInAs(a.page, base)).toBe(user);
      });
    } finally {
      await server.close();
      await flaky.close();
    }
  });

  it('names the account cookie __Host-demo-auth over HTTPS: Secure, Path=/, no Domain', async () => {
    const tls = await createSelfSignedCertificate(['localhost', '127.0.0.1']);
    if (tls === undefined)
      throw new Error('the openssl command is missing: apt-get install openssl');
    const server = await createDemoServer({ password: PASSWORD, port: 0, tls });
    const base = `https://localhost:${server.port}`;
    try {
      expect(server.authCookieName).toBe(HTTPS_AUTH_COOKIE_NAME);
      expect(HTTPS_AUTH_COOKIE_NAME).toBe('__Host-demo-auth');
      await withDevices(async (a, b) => {
        const user = newUser();
        await signIn(a.page, base, user);
        await signIn(b.page, base, user);
        const cookie = (await a.context.cookies(base)).find(
          (entry) => entry.name === HTTPS_AUTH_COOKIE_NAME,
        );
        expect(cookie).toMatchObject({
          domain: 'localhost',
          path: '/',
          secure: true,
          httpOnly: true,
          sameSite: 'Lax',
        });
        expect(await authCookie(a.context, base)).toBeUndefined();
        expect(await a.page.locator('#account-cookie-name').textContent()).toBe(
          HTTPS_AUTH_COOKIE_NAME,
        );
        await a.page.reload();
        await submit(a.page, '#signout-others');
        expect(await signedInAs(b.page, base)).toBeUndefined();
        expect(await b.page.locator('.rejection-name').textContent()).toBe(HTTPS_AUTH_COOKIE_NAME);
        expect(
          (await b.context.cookies(base)).some((entry) => entry.name === HTTPS_AUTH_COOKIE_NAME),
        ).toBe(false);
      });
    } finally {
      await server.close();
    }
  });
});
