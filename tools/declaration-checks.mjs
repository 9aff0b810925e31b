/**
 * Type-level only, never imported: the hand-written `.d.mts` files must describe the
 * modules beside them. TypeScript importers (the tests) read a `.d.mts` instead of its
 * `.mjs`, so nothing else notices when the two drift apart: an export the declarations
 * promise but the code lacks, or changed, type-checks there and fails at run time.
 *
 * `npm run typecheck` checks this file with tsconfig.js.json. There a relative import of a
 * `.mjs` file resolves to its `.d.mts`, as it does for the tests (what importers are
 * promised), while the `#implementation/*` path names the `.mjs` file itself (what it
 * exports). Each entry requires the second to be assignable to the first.
 */

/**
 * `Implemented`, when it provides everything `Declared` promises; a type error otherwise.
 *
 * @template Declared
 * @template {Declared} Implemented
 * @typedef {Implemented} Implements
 */

/**
 * @typedef {[
 *   Implements<typeof import('../demo/app.mjs'), typeof import('#implementation/demo/app.mjs')>,
 *   Implements<
 *     typeof import('../demo/certificate.mjs'),
 *     typeof import('#implementation/demo/certificate.mjs')
 *   >,
 *   Implements<
 *     typeof import('../bench/iron-fixtures.mjs'),
 *     typeof import('#implementation/bench/iron-fixtures.mjs')
 *   >,
 *   Implements<
 *     typeof import('./bundle-workerd.mjs'),
 *     typeof import('#implementation/tools/bundle-workerd.mjs')
 *   >,
 * ]} DeclarationChecks
 */

export {};
