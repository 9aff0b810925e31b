// Entry point for runtimes driven from a command line (Node, Bun, Deno). The harness copies
// it into a scratch directory next to a generated ./job.js, which imports the module under
// test by its package name and the conformance module, and exports `job()`.
// The result goes to stdout as one line behind a marker, so runtime noise cannot garble it.
import { job } from './job.js';

const MARKER = '@@sealed-session-conformance@@';

function describe(error) {
  return error !== null && typeof error === 'object' && 'stack' in error
    ? String(error.stack)
    : String(error);
}

let result;
try {
  result = await job();
} catch (error) {
  result = { crashed: describe(error) };
}
console.log(MARKER + JSON.stringify(result));
