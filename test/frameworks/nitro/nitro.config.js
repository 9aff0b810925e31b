// A minimal Nitro 2 app for the framework tests, built by `nitropack build` for Node. Async
// context is on, as Nitro needs it for calls without the event.
import { defineNitroConfig } from 'nitropack/config';

export default defineNitroConfig({
  preset: 'node-server',
  compatibilityDate: '2025-07-01',
  experimental: { asyncContext: true },
  // The test drives the built server only; no source maps to write.
  sourceMap: false,
});
