import { createApp, type App } from '../app.js';
import type { Config } from '../config.js';
import { HostRegistry } from '../docker/hosts.js';
import { EngineSource } from '../docker/source.js';
import type { GraphQLResult } from './fleet-errors.js';

/**
 * Module: the configured hosts opened in-process for one CLI command: the same host clients, source and
 * GraphQL app the server builds, without listening. Bearer tokens guard the HTTP API against other
 * people; whoever runs the CLI already holds the configuration, so the in-process app has none.
 */
export interface Fleet {
  source: EngineSource;
  app: App;
  config: Config;
  /** One operation through app.fetch, as a client's POST /graphql would run it. */
  run(query: string, variables?: Record<string, unknown>): Promise<GraphQLResult>;
  close(): void;
}

export function openFleet(config: Config): Fleet {
  const registry = new HostRegistry(config.hosts, { maxResponseBytes: config.maxResponseBytes });
  const source = new EngineSource(registry);
  const app = createApp({ source, config: { ...config, tokens: [] } });
  return { source, app, config, run: (query, variables) => runOperation(app, query, variables), close: () => registry.close() };
}

async function runOperation(app: App, query: string, variables?: Record<string, unknown>): Promise<GraphQLResult> {
  const res = await app.fetch('http://fleetgraph/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  return (await res.json()) as GraphQLResult;
}
