// Entry point for workerd: a module worker whose fetch handler runs the conformance job and
// answers with its result as JSON. The harness bundles it with ./job.js (generated) and the
// package for the workerd/worker/browser conditions, then dispatches one request to it.
import { job } from './job.js';

function describe(error) {
  return error !== null && typeof error === 'object' && 'stack' in error
    ? String(error.stack)
    : String(error);
}

export default {
  async fetch() {
    try {
      return Response.json(await job());
    } catch (error) {
      return Response.json({ crashed: describe(error) }, { status: 500 });
    }
  },
};
