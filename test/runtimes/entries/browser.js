// Entry point for Chromium: the page's module script. Runs the conformance job once and
// leaves its result, as JSON text, in `globalThis.conformance` for the harness to read.
import { job } from './job.js';

function describe(error) {
  return error !== null && typeof error === 'object' && 'stack' in error
    ? String(error.stack)
    : String(error);
}

globalThis.conformance = job().then(
  (result) => JSON.stringify(result),
  (error) => JSON.stringify({ crashed: describe(error) }),
);
