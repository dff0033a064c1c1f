/**
 * Module: the only file that listens: node:http around the yoga app, plus /healthz, /readyz and
 * /metrics, and a graceful close that lets in-flight requests finish. Every request gets its id here
 * (X-Request-Id, request-id.ts) and is counted here (metrics.ts).
 */
import { AsyncResource } from 'node:async_hooks';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { HostRegistry } from './docker/hosts.js';
import { EngineSource, type InventorySource } from './docker/source.js';
import { HostError } from './docker/errors.js';
import { HostVisibility } from './visibility.js';
import { LiveHub } from './live/hub.js';
import { MirrorSource } from './live/mirror.js';
import { createUpdateChecker } from './registry/checker.js';
import { BackgroundUpdates } from './registry/background.js';
import { Metrics, routeOf } from './metrics.js';
import { REQUEST_ID_HEADER, requestIdFrom, withRequestId } from './request-id.js';
import { UNAUTHENTICATED } from './security.js';
import { attachGraphQLWs } from './graphql-ws.js';

/** A listening gateway: its URL, and a graceful close. */
export interface RunningServer {
  url: string;
  port: number;
  server: http.Server;
  source: InventorySource;
  close(): Promise<void>;
}

const READY_WAIT_MS = 2000;

/**
 * Configuration is loaded (or we would not be listening) and each host's reachability, probed with
 * /version but waited on for at most READY_WAIT_MS, so a frozen host cannot hold the probe. Host names
 * are listed only to callers that could see them: with tokens configured, an anonymous probe learns only
 * that the gateway is ready, and a scoped token only about its own hosts.
 */
async function readiness(source: InventorySource, visible: readonly string[] | undefined) {
  if (visible === undefined) return { ready: true };
  const hosts = await Promise.all(
    visible.map(async (name) => {
      const probe = source.version(name).then(
        () => 'UP',
        (err: unknown) => (err instanceof HostError ? err.code.replace(/^HOST_/, '') : 'ERROR'),
      );
      const late = new Promise<string>((resolve) => setTimeout(resolve, READY_WAIT_MS, 'TIMEOUT').unref());
      return { name, status: await Promise.race([probe, late]) };
    }),
  );
  return { ready: true, hostCount: hosts.length, hostsUp: hosts.filter((h) => h.status === 'UP').length, hosts };
}

/**
 * /metrics: open like the API without tokens; with tokens, a valid one is required (401 as the API
 * answers), and a scoped token gets only its own hosts' series (HostVisibility, as /readyz).
 */
function serveMetrics(metrics: Metrics, visible: readonly string[] | undefined, res: http.ServerResponse): void {
  if (visible === undefined) {
    const body = { errors: [{ message: UNAUTHENTICATED.message, extensions: { code: 'UNAUTHENTICATED' } }] };
    res.writeHead(401, { 'content-type': 'application/json; charset=utf-8', ...UNAUTHENTICATED.headers }).end(JSON.stringify(body));
    return;
  }
  metrics.scrape(visible).then(
    (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
    () => res.writeHead(500).end(),
  );
}

export interface ServerOptions {
  registryOptions?: { breakerResetMs?: number };
  logger?: Logger;
  /** Also serve prom-client's process_* and nodejs_* series (the CLI does; they watch the process for good, so tests starting many servers leave them off). */
  processMetrics?: boolean;
}

export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const metrics = new Metrics({ processMetrics: options.processMetrics ?? false });
  const registry = new HostRegistry(config.hosts, {
    maxResponseBytes: config.maxResponseBytes,
    ...options.registryOptions,
    observer: metrics,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  metrics.watchHosts(registry);
  // One /events stream per host, shared by the mirror and every subscription; container events only feed a mirror.
  const live = new LiveHub(registry, { types: config.mirror ? ['image', 'container'] : ['image'] });
  const direct = new EngineSource(registry);
  const mirror = config.mirror ? new MirrorSource(direct, live, { resyncMs: config.resyncIntervalSeconds * 1000 }).start() : undefined;
  const source: InventorySource = mirror ?? direct;
  const visibility = new HostVisibility(config.tokens, source.hostNames());
  // One checker for the process: the app's requests and, beside the mirror, the background rounds.
  const updates = config.updates.enabled ? createUpdateChecker(config.updates) : undefined;
  if (updates) {
    const { allow, intervalMs, credentials } = config.updates;
    options.logger?.info(
      { registryAllow: allow, updateIntervalSeconds: intervalMs / 1000, registriesWithCredentials: [...credentials.keys()] },
      `update checks on: ${allow.length ? `registries ${allow.join(', ')} only` : 'any registry a tag names'}, answers reused ${intervalMs / 1000} s`,
    );
  }
  const background = mirror && updates ? new BackgroundUpdates(mirror, updates, config.updates.intervalMs, options.logger).start() : undefined;
  const app = createApp({ source, live, config, visibility, metrics, ...(updates ? { updates } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  const log = options.logger;

  let closing: Promise<void> | undefined;
  const server = http.createServer((req, res) => {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    withRequestId(requestId, () => handle(req, res));
  });
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routeOf(path);
    // Bound to this request's async context, so the line carries its id whoever ends the answer. On
    // 'close', not 'finish', so that a request whose client went away first is counted too.
    res.once('close', AsyncResource.bind(() => {
      const seconds = (performance.now() - started) / 1000;
      const status = res.writableFinished ? res.statusCode : 'aborted';
      metrics.httpRequest(route, req.method ?? '', status, seconds);
      // A path could be anything a client sent: only the route is logged.
      log?.debug({ method: req.method, route, status, ms: Math.round(seconds * 1000) }, 'request');
    }));
    // Shutting down: this answer is its connection's last, so keep-alive clients cannot hold the server
    // open; an answer already under way when shutdown began closes its connection once it is idle.
    if (closing) res.setHeader('connection', 'close');
    res.once('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (path === '/readyz') {
      readiness(source, visibility.visibleHosts(req.headers.authorization)).then(
        (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
        () => res.writeHead(503).end(),
      );
      return;
    }
    if (path === '/metrics') {
      serveMetrics(metrics, visibility.visibleHosts(req.headers.authorization), res);
      return;
    }
    // yoga answers its own errors; anything that still escapes is a 500 here, never an unhandled rejection.
    Promise.resolve(app(req, res)).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"message":"Unexpected error.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}');
      else res.destroy();
    });
  };
  // subscription { imageEvents } and @live queries over WebSocket too (graphql-ws), same limits and scope.
  const closeWs = attachGraphQLWs(server, app, config, visibility);
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.listen, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = config.listen.includes(':') ? `[${config.listen}]` : config.listen;

  return {
    url: `http://${hostPart}:${port}/graphql`,
    port,
    server,
    source,
    /** Stops listening at once, lets requests in flight finish, then closes the host clients. */
    close() {
      closing ??= new Promise<void>((resolve) => {
        closeWs().catch(() => undefined);
        server.close(() => {
          background?.close();
          mirror?.close();
          live.close();
          registry.close();
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
