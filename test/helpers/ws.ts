/**
 * Module: a graphql-ws client (the protocol library's own client over `ws`) for a gateway on a real port,
 * with the same next/until reader as the SSE helper (live.ts), and the close code when the server refuses.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { messageQueue, type Subscription } from './live.js';

export interface WsConnection {
  client: Client;
  /** The close event's code once the socket closed (4403: forbidden, 4408: init timeout, …). */
  closed: Promise<number>;
  /** Settles when the server acknowledged the connection (rejects with the close code if it did not). */
  acked: Promise<void>;
  dispose(): Promise<void>;
}

/** Connects at once (not lazily) to `httpUrl` (http://…/graphql) with optional token and Origin header. */
export function connectWs(httpUrl: string, options: { token?: string; origin?: string; headerToken?: string } = {}): WsConnection {
  const headers: Record<string, string> = {};
  if (options.origin) headers.origin = options.origin;
  if (options.headerToken) headers.authorization = `Bearer ${options.headerToken}`;
  class Ws extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  let closedWith!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (closedWith = resolve));
  let ackResolve!: () => void;
  let ackReject!: (err: Error) => void;
  const acked = new Promise<void>((resolve, reject) => {
    ackResolve = resolve;
    ackReject = reject;
  });
  acked.catch(() => undefined);
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: Ws,
    lazy: false,
    retryAttempts: 0,
    connectionParams: options.token ? { authorization: `Bearer ${options.token}` } : {},
    on: {
      connected: () => ackResolve(),
      closed: (e) => {
        const code = (e as { code?: number }).code ?? 0;
        closedWith(code);
        ackReject(new Error(`closed ${code}`));
      },
      error: () => undefined,
    },
    onNonLazyError: () => undefined,
  });
  return { client, closed, acked, dispose: async () => client.dispose() };
}

/** One operation over the connection, read like the SSE helper's subscriptions. */
export function wsSubscribe<T>(conn: WsConnection, query: string, variables: Record<string, unknown> = {}): Subscription<T> {
  type Message = { data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
  const messages = messageQueue<T>();
  const stop = conn.client.subscribe<T>(
    { query, variables },
    {
      next: (m) => messages.push(m as Message),
      error: (err) => {
        messages.push({ errors: Array.isArray(err) ? (err as Message['errors']) : [{ message: err instanceof Error ? err.message : `closed ${(err as { code?: number }).code ?? '?'}` }] });
        messages.end();
      },
      complete: () => messages.end(),
    },
  );
  return messages.subscription(stop);
}
