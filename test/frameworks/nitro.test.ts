/**
 * A real Nitro 2 app (test/frameworks/nitro/, built once by `nitropack build`, served from
 * .output/server/index.mjs): sealed-session's calls without the event find the request
 * through Nitro's async context, and share the session cookie with h3's own useSession and
 * getSession in both directions. Needs dist/ (`npm test` builds first).
 */
import { frameworkSuite } from './suite.js';

frameworkSuite({ name: 'nitro', title: 'Nitro 2 (h3 1.x)', build: ['nitropack', 'build'] });
