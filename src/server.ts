/**
 * Module: the only file that listens: node:http around the yoga app, plus /healthz and /readyz, and a
 * graceful close that lets in-flight requests finish.
 */
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

export async function startServer(config: Config, options: { registryOptions?: { breakerResetMs?: number }; logger?: Logger } = {}): Promise<RunningServer> {
  const registry = new HostRegistry(config.hosts, { maxResponseBytes: config.maxResponseBytes, ...options.registryOptions, ...(options.logger ? { logger: options.logger } : {}) });
  // One /events stream per host, shared by the mirror and every subscription; container events only feed a mirror.
  const live = new LiveHub(registry, { types: config.mirror ? ['image', 'container'] : ['image'] });
  const direct = new EngineSource(registry);
  const mirror = config.mirror ? new MirrorSource(direct, live, { resyncMs: config.resyncIntervalSeconds * 1000 }).start() : undefined;
  const source: InventorySource = mirror ?? direct;
  const visibility = new HostVisibility(config.tokens, source.hostNames());
  const app = createApp({ source, live, config, visibility, ...(options.logger ? { logger: options.logger } : {}) });

  let closing: Promise<void> | undefined;
  const server = http.createServer((req, res) => {
    // Shutting down: this answer is its connection's last, so keep-alive clients cannot hold the server
    // open; an answer already under way when shutdown began closes its connection once it is idle.
    if (closing) res.setHeader('connection', 'close');
    res.once('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    const path = (req.url ?? '/').split('?')[0];
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
    // yoga answers its own errors; anything that still escapes is a 500 here, never an unhandled rejection.
    Promise.resolve(app(req, res)).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"message":"Unexpected error.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}');
      else res.destroy();
    });
  });
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
