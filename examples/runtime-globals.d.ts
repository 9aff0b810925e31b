/**
 * The few Deno and Bun globals the examples use, so `npm run typecheck` checks the examples
 * without installing either runtime's type packages. Not an example: README shows none of it.
 */
declare const Deno: {
  env: { get(name: string): string | undefined };
  serve(
    options: { port: number; onListen?: (address: { port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
};

declare const Bun: {
  serve(options: { port: number; fetch: (request: Request) => Response | Promise<Response> }): {
    port: number;
  };
};
