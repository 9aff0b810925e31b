// A minimal vinxi app for the framework tests: one http router, built by `vinxi build` for
// Node. Async context is on, as vinxi needs it for calls without the event (vinxi's own and
// sealed-session's alike).
import { createApp } from 'vinxi';

export default createApp({
  server: {
    preset: 'node-server',
    experimental: { asyncContext: true },
  },
  routers: [
    {
      name: 'api',
      type: 'http',
      base: '/',
      handler: './handler.js',
      target: 'server',
    },
  ],
});
