/**
 * Cookie tossing in a real browser, and the `__Host-` prefix that stops it.
 *
 * One HTTPS server plays two sites of the same parent domain, told apart by the Host
 * header: the app (app.example.test) and a sibling the attacker controls
 * (evil.example.test). Chromium maps both names to 127.0.0.1 and accepts the throwaway
 * certificate. The attacker signs in to the app as themselves, then makes the victim's
 * browser store that token for the whole parent domain with Path=/account. Browsers send
 * longer paths first, so on /account the attacker's cookie comes before the victim's, and
 * a server that takes the first cookie of the name runs the victim's request as the
 * attacker. A `__Host-` name is refused by the browser with a Domain attribute or a Path
 * other than `/`, so no sibling can plant one.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../demo/certificate.mjs';
import { eventHandler, getSession, useSession, type SessionConfig } from '../../src/index.js';
import { toNodeListener } from '../../src/adapters/node.js';
import { launchChromium } from './chromium.js';

const PASSWORD = 'cookie_tossing_test_password_long_enough_0123';
const PARENT = 'example.test';
const APP = `app.${PARENT}`;
const EVIL = `evil.${PARENT}`;
/** Some other cookie the sibling plants the same way: shows the plant itself went through. */
const CONTROL = 'planted';

/** The error codes `onInvalidToken` reported during the current request. */
const reported = new AsyncLocalStorage<string[]>();

/** One server for one session cookie name: the app and the attacker's sibling site. */
interface Site {
  readonly name: string;
  readonly port: number;
  /** The attacker's own valid session token, once they signed in (see beforeAll). */
  attackerToken: string | undefined;
  close(): Promise<void>;
}

/** The cookie the sibling plants: for the whole parent domain, but only under /account. */
function plantedCookie(name: string, value: string): string {
  return `${name}=${value}; Domain=${PARENT}; Path=/account; Secure; SameSite=Lax`;
}

async function startSite(name: string, tls: { key: string; cert: string }): Promise<Site> {
  const config: SessionConfig = {
    password: PASSWORD,
    name,
    // The defaults otherwise (Secure, HttpOnly, SameSite=Lax, Path=/, no Domain): what a
    // `__Host-` name requires, so both sites differ only in the name.
    onInvalidToken: (rejection) => {
      reported.getStore()?.push(rejection.error.code);
    },
  };

  const site: Site = {
    name,
    port: 0,
    attackerToken: undefined,
    close: () => Promise.resolve(),
  };

  const handler = eventHandler(async (event) => {
    const host = (event.getRequestHeader('host') ?? '').replace(/:\d+$/, '');
    const url = new URL(event.path, 'https://site.invalid');

    if (host === EVIL) {
      const token = site.attackerToken ?? '';
      const cookies = [plantedCookie(name, token), plantedCookie(CONTROL, 'yes')];
      if (url.pathname === '/set-cookie') {
        const headers = new Headers({ 'content-type': 'text/plain' });
        for (const cookie of cookies) headers.append('set-cookie', cookie);
        return new Response('planted with Set-Cookie', { headers });
      }
      if (url.pathname === '/script') {
        // The same cookies from the page's own script: a sibling that serves HTML does not
        // even need its server's headers.
        const script = cookies.map((cookie) => `document.cookie = ${JSON.stringify(cookie)};`);
        return new Response(`<!doctype html><script>${script.join('\n')}</script>`, {
          headers: { 'content-type': 'text/html' },
        });
      }
    }

    if (host === APP) {
      if (url.pathname === '/login') {
        // A GET with the user in the query keeps each sign-in to one navigation: this is a
        // fixture for the cookie, not a model of a login form.
        const session = await useSession(event, config);
        await session.update({ user: url.searchParams.get('user') });
        return { user: session.data['user'] as unknown };
      }
      // /account is what the planted cookie's path covers; /whoami is outside it.
      if (url.pathname === '/account' || url.pathname === '/whoami') {
        const session = await getSession(event, config);
        return { user: (session.data['user'] as unknown) ?? null, rejections: reported.getStore() };
      }
    }

    event.status = 404;
    return 'no such page';
  });

  const listener = toNodeListener(handler);
  const server: Server = createServer(tls, (req, res) => {
    reported.run([], () => {
      listener(req, res);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  return Object.assign(site, {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  });
}

const origin = (site: Site, host: string) => `https://${host}:${site.port}`;

let browser: Browser | undefined;
// The victim's context and page are made once: a new page costs the browser a renderer
// process, most of a test's time. Each test empties the victim's cookie jar instead.
let victim: { context: BrowserContext; page: Page } | undefined;
const sites = new Map<string, Site>();

beforeAll(async () => {
  const [tls, launched] = await Promise.all([
    createSelfSignedCertificate([`*.${PARENT}`, PARENT], { days: 1 }),
    launchChromium({
      args: [
        // Both sites' names lead to the test server, whatever port the URL names.
        `--host-resolver-rules=MAP *.${PARENT} 127.0.0.1`,
        '--ignore-certificate-errors',
      ],
    }),
  ]);
  browser = launched;
  if (tls === undefined) throw new Error('the openssl command is missing: apt-get install openssl');
  for (const name of ['h3', '__Host-h3']) sites.set(name, await startSite(name, tls));

  const opened = async () => {
    const context = await launched.newContext();
    return { context, page: await context.newPage() };
  };
  const [theirs, mine] = await Promise.all([opened(), opened()]);
  victim = mine;

  // The attacker is an ordinary user of the app: they sign in as themselves and keep the
  // token their browser got.
  for (const site of sites.values()) {
    await theirs.page.goto(`${origin(site, APP)}/login?user=attacker`);
    const cookies = await theirs.context.cookies(origin(site, APP));
    site.attackerToken = cookies.find((cookie) => cookie.name === site.name)?.value;
    expect(site.attackerToken).toMatch(/^Fe26\.2\*/);
  }
});

afterAll(async () => {
  // Closing the browser closes its contexts.
  await browser?.close();
  await Promise.all([...sites.values()].map((site) => site.close()));
});

interface Answer {
  readonly user: string | null;
  readonly rejections: string[];
}

/**
 * Signs the victim in from an empty cookie jar, sends them to the sibling's page `plant`,
 * then returns the jar's cookies and what the app answers.
 */
async function victimVisitsSibling(site: Site, plant: string) {
  if (victim === undefined) throw new Error('the browser did not start (see beforeAll)');
  const { context, page } = victim;
  await context.clearCookies();
  const app = origin(site, APP);
  const ask = async (path: string) => (await (await page.goto(`${app}${path}`))?.json()) as Answer;

  await page.goto(`${app}/login?user=victim`);
  const before = await ask('/account');

  const planted = await page.goto(`${origin(site, EVIL)}${plant}`);
  expect(planted?.status()).toBe(200);

  const jar = await context.cookies();
  const of = (name: string) =>
    jar
      .filter((cookie) => cookie.name === name)
      .map(({ domain, path, secure, value }): Partial<Cookie> => ({ domain, path, secure, value }));
  return {
    before,
    sessionCookies: of(site.name),
    controlCookies: of(CONTROL),
    account: await ask('/account'),
    elsewhere: await ask('/whoami'),
  };
}

const site = (name: string): Site => {
  const found = sites.get(name);
  if (found === undefined) throw new Error(`the ${name} site did not start (see beforeAll)`);
  return found;
};

describe.each(['/set-cookie', '/script'])('a sibling subdomain plants a cookie (%s)', (plant) => {
  it('with a plain name (h3), takes over the victim on /account', async () => {
    const h3 = site('h3');
    const result = await victimVisitsSibling(h3, plant);
    expect(result.before).toEqual({ user: 'victim', rejections: [] });

    // The browser kept both: the victim's own (host-only, Path=/) and the planted one.
    expect(result.controlCookies).toHaveLength(1);
    expect(result.sessionCookies).toHaveLength(2);
    expect(result.sessionCookies).toContainEqual({
      domain: `.${PARENT}`,
      path: '/account',
      secure: true,
      value: h3.attackerToken,
    });
    expect(result.sessionCookies).toContainEqual(
      expect.objectContaining({ domain: APP, path: '/' }),
    );

    // Longer path first: /account runs as the attacker. The library saw the cookie twice
    // and said so, but had no way to tell which one the app set.
    expect(result.account.user).toBe('attacker');
    expect(result.account.rejections).toContain('ERR_COOKIE_DUPLICATE');
    // Outside /account the browser sends only the victim's cookie.
    expect(result.elsewhere).toEqual({ user: 'victim', rejections: [] });
  });

  it('with a __Host- name, is refused by the browser, so /account stays the victim', async () => {
    const host = site('__Host-h3');
    const result = await victimVisitsSibling(host, plant);
    expect(result.before).toEqual({ user: 'victim', rejections: [] });

    // The same plant went through for an ordinary name...
    expect(result.controlCookies).toEqual([
      { domain: `.${PARENT}`, path: '/account', secure: true, value: 'yes' },
    ]);
    // ...but not for the prefixed one: the jar holds only the app's own cookie.
    expect(result.sessionCookies).toHaveLength(1);
    expect(result.sessionCookies[0]).toMatchObject({ domain: APP, path: '/', secure: true });
    expect(result.sessionCookies[0]?.value).not.toBe(host.attackerToken);

    expect(result.account).toEqual({ user: 'victim', rejections: [] });
    expect(result.elsewhere).toEqual({ user: 'victim', rejections: [] });
  });
});
