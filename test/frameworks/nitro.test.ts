/**
 * A real Nitro 2 app (test/frameworks/nitro/, built once by `nitropack build`, served from
 * .output/server/index.mjs): sealed-session's calls without the event find the request
 * through Nitro's async context, and share the session cookie with h3's own useSession and
 * getSession in both directions; and store mode over Nitro's own storage (`useStorage()`
 * through sealed-session/unstorage). Needs dist/ (`npm test` builds first).
 */
import { expect, it } from 'vitest';
import { CookieJar } from './harness.js';
import { frameworkSuite } from './suite.js';

frameworkSuite({
  name: 'nitro',
  title: 'Nitro 2 (h3 1.x)',
  build: ['nitropack', 'build'],
  extra(get) {
    it('store mode on Nitro storage: sign in on two devices, list them, sign out everywhere', async () => {
      const user = `user-${Math.random().toString(36).slice(2)}`;
      const laptop = new CookieJar();
      const phone = new CookieJar();
      const first = await get(`/stored/login?user=${user}`, laptop);
      const second = await get(`/stored/login?user=${user}`, phone);
      expect(first.body.data).toEqual({ user });
      // The cookie holds a reference; the data comes back from Nitro's storage.
      expect((await get('/stored/read', laptop)).body).toEqual(first.body);
      const { body: listed } = await get(`/stored/devices?user=${user}`, laptop);
      const ids = (listed.sessions as { id: string }[]).map((session) => session.id).sort();
      expect(ids).toEqual([first.body.id, second.body.id].sort());
      const { body: revoked } = await get(`/stored/sign-out-everywhere?user=${user}`, laptop);
      expect(revoked).toEqual({ revoked: 2 });
      // The phone's next request finds its session gone: a fresh one, without the user.
      const after = await get('/stored/read', phone);
      expect(after.body.data).toEqual({});
      expect(after.body.id).not.toBe(second.body.id);
    });
  },
});
