/**
 * A real vinxi 0.5 app (test/frameworks/vinxi/, built once by `vinxi build`, served from
 * .output/server/index.mjs): sealed-session's calls without the event find the request
 * through vinxi's async context, and share the session cookie with vinxi/http's own
 * useSession and getSession in both directions. Needs dist/ (`npm test` builds first).
 */
import { frameworkSuite } from './suite.js';

frameworkSuite({ name: 'vinxi', title: 'vinxi 0.5 (vinxi/http)', build: ['vinxi', 'build'] });
