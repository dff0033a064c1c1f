import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { HostRegistry } from './docker/hosts.js';
import { EngineSource, type InventorySource } from './docker/source.js';
import { HostError } from './docker/errors.js';

/**
 * The only file that listens: node:http around the yoga app, plus /healthz and /readyz, and a
 * graceful close that lets in-flight requests finish.
 */
export interface RunningServer {
  url: string;
  port: number;
  server: http.Server;
  source: InventorySource;
  close(): Promise<void>;
}

async function readiness(source: InventorySource) {
  const hosts = await Promise.all(
    source.hostNames().map(async (name) => {
      try {
        await source.version(name);
        return { name, status: 'UP' };
      } catch (err) {
        return { name, status: err instanceof HostError ? err.code.replace(/^HOST_/, '') : 'ERROR' };
      }
    }),
  );
  return { ready: true, hostsUp: hosts.filter((h) => h.status === 'UP').length, hosts };
}

export async function startServer(config: Config, options: { registryOptions?: { breakerResetMs?: number } } = {}): Promise<RunningServer> {
  const registry = new HostRegistry(config.hosts, { maxResponseBytes: config.maxResponseBytes, ...options.registryOptions });
  const source = new EngineSource(registry);
  const app = createApp({ source, config });

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (path === '/readyz') {
      readiness(source).then(
        (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
        () => res.writeHead(503).end(),
      );
      return;
    }
    void app(req, res);
  });
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

  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPart}:${port}/graphql`,
    port,
    server,
    source,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          registry.close();
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
