import type { ExecutionResult } from 'graphql';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config, type ConfigInput } from '../../src/config.js';
import { HostRegistry, type RegistryOptions } from '../../src/docker/hosts.js';
import { EngineSource } from '../../src/docker/source.js';

/** A real app over real host clients, called through app.fetch (no port). */
export interface TestApp {
  app: App;
  config: Config;
  registry: HostRegistry;
  source: EngineSource;
  query: TestQuery;
  close(): void;
}

/** One GraphQL request through app.fetch (no port): the parsed body and the HTTP status. */
export type TestQuery = <T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
) => Promise<ExecutionResult<T> & { status: number }>;

export async function queryApp<T = Record<string, unknown>>(app: App, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<ExecutionResult<T> & { status: number }> {
  const res = await app.fetch('http://fleetgraph/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: ExecutionResult<T>;
  try {
    body = JSON.parse(text) as ExecutionResult<T>;
  } catch {
    throw new Error(`HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  return { ...body, status: res.status };
}

export function createTestApp(hosts: Array<{ name: string; endpoint: string }>, input: ConfigInput = {}, registryOptions: Partial<RegistryOptions> = {}, env: NodeJS.ProcessEnv = {}): TestApp {
  const config = loadConfig({ ...input, hosts: hosts.map((h) => `${h.name}=${h.endpoint}`) }, env);
  const registry = new HostRegistry(config.hosts, { maxResponseBytes: config.maxResponseBytes, ...registryOptions });
  const source = new EngineSource(registry);
  const app = createApp({ source, config });
  return {
    app,
    config,
    registry,
    source,
    query: (query, variables, headers) => queryApp(app, query, variables, headers),
    close() {
      registry.close();
    },
  };
}
