// Types of bench/iron-fixtures.mjs, for test/bench/iron-fixtures.test.ts.

/** A session as h3/vinxi seal it. */
export interface BenchPayload {
  id: string;
  createdAt: number;
  data: {
    user: { id: number; name: string; email: string };
    roles: string[];
    cart: number[];
  };
}

/**
 * One library under test, with the benchmark's password and its default options bound;
 * `minimal` is the bare node:crypto yardstick, not a library.
 */
export interface IronAdapter {
  readonly id: 'ss-node' | 'ss-web' | 'iwc-v1' | 'iwc-v2' | 'hapi' | 'minimal';
  readonly name: string;
  readonly version: string;
  /** True for sealed-session's own backends. */
  readonly ours: boolean;
  seal(object: unknown): Promise<string>;
  unseal(token: string): Promise<unknown>;
}

export const PASSWORD: string;
export function payloadFor(index?: number): BenchPayload;
export const PAYLOAD: BenchPayload;
export const PAYLOAD_JSON_BYTES: number;
export const POOL_SIZE: number;
export const VERIFIED_TOKEN_CACHE: number;
export function createAdapters(): IronAdapter[];
export function buildTokenPool(
  adapter: IronAdapter,
  size?: number,
  concurrency?: number,
): Promise<string[]>;
export function forgeToken(token: string): string;
