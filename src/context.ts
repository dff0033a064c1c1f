import { GraphQLError } from 'graphql';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { hostGraphQLError, type HostError } from './docker/errors.js';
import { createLoaders, type ImageDetail, type Loaders } from './docker/loaders.js';
import type { InventorySource } from './docker/source.js';
import type { LiveHub } from './live/hub.js';
import { RequestFilters } from './inventory/filter-cache.js';
import type { HostVisibility } from './visibility.js';
import type { UpdateChecker } from './registry/checker.js';
import { RequestUpdates } from './registry/updates.js';
import type { Metrics } from './metrics.js';
import type { DirectNodes } from './schema/direct-nodes.js';
import { currentRequestId, requestIdFrom } from './request-id.js';

/** What the app is built from; tests and the server pass their own. */
export interface AppDeps {
  source: InventorySource;
  config: Config;
  /** Each host's shared /events stream (subscriptions); absent where nothing is live (most tests). */
  live?: LiveHub;
  /** Where yoga reports unexpected (masked) errors; none in tests. */
  logger?: Logger;
  /** Who sees which hosts; the server passes the one it also asks for /readyz. Default: built from config.tokens. */
  visibility?: HostVisibility;
  /** The process-wide registry checker (--check-updates); absent when checks are off: then no registry is contacted. */
  updates?: UpdateChecker;
  /** Counts errors by code (the server's, also served at /metrics); none in most tests. */
  metrics?: Metrics;
}

/**
 * Per-host failures that do not fail the field asking for them: a merged list still answers with the
 * healthy hosts' data, and each failed host is reported once per field path in the response's errors.
 */
export class PartialErrors {
  private readonly seen = new Map<string, GraphQLError>();

  add(error: HostError | GraphQLError, path: ReadonlyArray<string | number>): void {
    const gql = error instanceof GraphQLError ? new GraphQLError(error.message, { path, extensions: error.extensions }) : hostGraphQLError(error, path);
    // Items of one list share a path pattern: report a host once per list field, not once per item.
    const pattern = path.filter((p) => typeof p === 'string');
    const key = `${String(gql.extensions.host)}\u0000${String(gql.extensions.code)}\u0000${pattern.join('.')}`;
    if (!this.seen.has(key)) this.seen.set(key, gql);
  }

  /** How many errors are recorded. */
  get size(): number {
    return this.seen.size;
  }

  list(): GraphQLError[] {
    return [...this.seen.values()];
  }
}

export interface Context {
  deps: AppDeps;
  loaders: Loaders;
  /** What this request's image lists carry (manifests or not): set by prefetch.ts before any engine call, read by the loaders. */
  imageDetail: ImageDetail;
  /** Hosts this request may see (all, or a token's scope), from HostVisibility. Other hosts do not exist for it. */
  visibleHosts: readonly string[];
  partialErrors: PartialErrors;
  /** Filters compiled and evaluated once per request (see RequestFilters). */
  filters: RequestFilters;
  /** This request's view of registry update checks (ImageSummary.updates, the updateStatus filter). */
  updates: RequestUpdates;
  /** Set for plain queries (direct-nodes.ts): connection nodes written straight to JSON text. */
  directNodes?: DirectNodes;
  /** This request's id (request-id.ts): the server's, sent in X-Request-Id and in its log lines; a new one without a server. */
  requestId: string;
}

/**
 * What one execution keeps for itself: the loaders' answers, its partial errors, its filter results and
 * update answers. A request has one; each run of a live query gets a fresh one (live/live-query.ts).
 */
export function executionState(deps: AppDeps, imageDetail: Readonly<ImageDetail>): Pick<Context, 'loaders' | 'partialErrors' | 'filters' | 'updates'> {
  return {
    loaders: createLoaders(deps.source, imageDetail),
    partialErrors: new PartialErrors(),
    filters: new RequestFilters(),
    updates: new RequestUpdates(deps.updates),
  };
}

export function createContext(deps: AppDeps, visibleHosts: readonly string[] = deps.source.hostNames()): Context {
  const imageDetail: ImageDetail = { manifests: false };
  const requestId = currentRequestId() ?? requestIdFrom(undefined);
  return { deps, ...executionState(deps, imageDetail), imageDetail, visibleHosts, requestId };
}
