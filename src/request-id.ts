/**
 * Module: each HTTP request's id. A client's (or a proxy's) X-Request-Id is kept when it is short and
 * plain; otherwise a new one is made. The server runs each request inside `withRequestId`, so every log
 * line written while the request is handled carries it (logger.ts reads it), whichever module logs:
 * yoga's masked errors, a breaker opening, the access line.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Letters, digits and . _ : - only, at most 128: safe in a log line and a header, and bounded. */
const SANE = /^[A-Za-z0-9._:-]{1,128}$/;

const store = new AsyncLocalStorage<string>();

/** The incoming id if it is sane, else a new UUID. */
export function requestIdFrom(incoming: string | string[] | null | undefined): string {
  return typeof incoming === 'string' && SANE.test(incoming) ? incoming : randomUUID();
}

/** Runs `fn` as part of the request `id`: what it logs, now or later in its async work, carries the id. */
export function withRequestId<T>(id: string, fn: () => T): T {
  return store.run(id, fn);
}

/** The id of the request being handled, if any. */
export function currentRequestId(): string | undefined {
  return store.getStore();
}
