/**
 * Module: GraphQL over WebSocket (the `graphql-ws` protocol) on the gateway's own node:http server, by
 * yoga's recipe (docs "Subscriptions → graphql-ws"): graphql-ws over `ws`, each operation run through
 * yoga's envelop, so the same schema, context (host scope), armor limits, query cost, error masking,
 * HOST_STALE and live-query plugins apply as over HTTP. What yoga's HTTP layer does and the envelop does
 * not is done here: the bearer token (from connectionParams, or the upgrade request's Authorization
 * header), the Origin check, the payload cap, the answer cap, and the bounds on sockets and operations.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { ExecutionResult } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { App } from './app.js';
import { jsonBytesUpTo } from './answer-limit.js';
import type { Config } from './config.js';
import type { HostVisibility } from './visibility.js';

export interface WsLimits {
  /** Open sockets at once, over all clients. */
  maxConnections: number;
  /** Operations (subscriptions, live queries, queries) at once on one socket. */
  maxOperationsPerSocket: number;
  /** A socket that has not sent connection_init by then is closed (4408). */
  initTimeoutMs: number;
}

export const WS_LIMITS: WsLimits = { maxConnections: 256, maxOperationsPerSocket: 20, initTimeoutMs: 3000 };

type Enveloped = ReturnType<App['getEnveloped']>;

/** The presented credentials: connectionParams.authorization (or Authorization), else the upgrade request's header. */
function authorizationOf(params: Readonly<Record<string, unknown>> | undefined, request: http.IncomingMessage): string | null {
  const fromParams = params?.authorization ?? params?.Authorization;
  if (typeof fromParams === 'string') return fromParams.length <= 4096 ? fromParams : null;
  return request.headers.authorization ?? null;
}

/**
 * Cross-site WebSocket hijacking: a browser sends its page's Origin with the upgrade, and cookies or not,
 * a page from another origin must not be able to talk to the gateway. Allowed: no Origin (not a browser;
 * the token still applies), the gateway's own origin, and the configured CORS origins.
 */
export function originAllowed(request: http.IncomingMessage, corsOrigins: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (corsOrigins.some((o) => new URL(o).origin === url.origin)) return true;
  return request.headers.host !== undefined && url.host === request.headers.host;
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

/** Serves graphql-ws on `server`'s upgrades to /graphql; returns a close for shutdown. */
export function attachGraphQLWs(server: http.Server, app: App, config: Config, visibility: HostVisibility, limits: WsLimits = WS_LIMITS): () => Promise<void> {
  // noServer: upgrades are checked here first (path, Origin, socket count) before ws accepts them.
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.limits.maxBodyBytes });
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== app.graphqlEndpoint) return refuse(socket, 404, 'Not Found');
    if (!originAllowed(request, config.corsOrigins)) return refuse(socket, 403, 'Forbidden');
    if (wss.clients.size >= limits.maxConnections) return refuse(socket, 503, 'Service Unavailable');
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  const maxAnswer = config.limits.maxAnswerBytes;
  const disposable = useServer<Record<string, unknown>, { visible?: readonly string[]; authorization?: string | null }>(
    {
      connectionInitWaitTimeout: limits.initTimeoutMs,
      // The envelop's execute and subscribe, carried in rootValue by onSubscribe (yoga's recipe).
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onConnect: (ctx) => {
        const authorization = authorizationOf(ctx.connectionParams, ctx.extra.request);
        const visible = visibility.visibleHosts(authorization);
        // No valid token: close 4403 Forbidden, before any operation.
        if (!visible) return false;
        ctx.extra.authorization = authorization;
        ctx.extra.visible = visible;
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        if (Object.keys(ctx.subscriptions).length >= limits.maxOperationsPerSocket)
          return [new GraphQLError(`at most ${limits.maxOperationsPerSocket} operations at once on one socket`, { extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit: 'maxOperationsPerSocket' } })];
        // The context function reads the token from a Request, as over HTTP: one scope decision (visibility.ts).
        const request = new Request(`http://fleetgraph${app.graphqlEndpoint}`, { headers: ctx.extra.authorization ? { authorization: ctx.extra.authorization } : {} });
        const enveloped = app.getEnveloped({ request, params: payload, socket: ctx.extra.socket });
        let document;
        try {
          document = enveloped.parse(payload.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('the query could not be parsed', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: await enveloped.contextFactory(),
          rootValue: enveloped,
        };
        return args;
      },
      // The answer cap of HTTP (answer-limit.ts), per message.
      onNext: (_ctx, _id, _payload, _args, result: ExecutionResult) => {
        if (jsonBytesUpTo(result, maxAnswer) <= maxAnswer) return;
        return { errors: [{ message: `the answer is over ${maxAnswer} bytes; ask for fewer fields, or pages (first/after)`, extensions: { code: 'RESPONSE_TOO_LARGE', max: maxAnswer } }] };
      },
    },
    wss,
  );

  return async () => {
    for (const ws of wss.clients) ws.close(1001, 'server shutting down');
    await disposable.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}
