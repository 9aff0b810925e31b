/**
 * The parts of Node's IncomingMessage and ServerResponse the library touches, as structural
 * types: no dependency on node:http, so Express, h3 1.x and plain Node objects all fit.
 */
export interface NodeRequestLike {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface NodeResponseLike {
  readonly headersSent: boolean;
  readonly writableEnded?: boolean;
  statusCode: number;
  getHeader(name: string): number | string | string[] | undefined;
  setHeader(name: string, value: number | string | readonly string[]): unknown;
}

/** A fetch-style Headers object (Request#headers, Response#headers, h3 2.x event.res.headers). */
export interface HeadersLike {
  get(name: string): string | null;
}

export interface MutableHeadersLike extends HeadersLike {
  getSetCookie(): string[];
  append(name: string, value: string): void;
  delete(name: string): void;
}
