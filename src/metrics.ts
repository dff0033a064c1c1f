/**
 * Module: the gateway's Prometheus metrics (prom-client), served at /metrics by server.ts. One Registry
 * per Metrics object, never prom-client's global one, so several gateways in one process (tests) do not
 * share series. What is measured, and where it comes from:
 *  - HTTP requests and their durations, by route, method and status: server.ts, where every request arrives;
 *  - GraphQL errors by `extensions.code`: the final result of each request, and each result of a stream (useErrorMetrics);
 *  - per host: engine calls by kind and their latency, and failures by code, reported by the host's
 *    EngineClient (HostObserver); breaker state, last success and calls in flight, read from that
 *    same per-host object when scraped.
 * Label values are bounded: host names are configured, kinds and codes are fixed sets, routes are listed.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Plugin } from 'graphql-yoga';
import type { HostErrorCode } from './docker/errors.js';
import type { EngineCallKind, HostObserver, HostRegistry } from './docker/hosts.js';

export const ROUTES = ['graphql', 'metrics', 'readyz', 'healthz', 'other'] as const;
export type Route = (typeof ROUTES)[number];
const METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS']);
const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;

/** The route label for a request path: the few paths the server answers, everything else `other`. */
export function routeOf(path: string): Route {
  const name = path.replace(/^\//, '');
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : 'other';
}

/** Codes are set by the server, not by clients; anything odd is still kept to one label value. */
function codeLabel(code: unknown): string {
  if (code === undefined || code === null) return 'NONE';
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'OTHER';
}

export class Metrics implements HostObserver {
  readonly registry = new Registry();
  private readonly httpRequests = new Counter({
    name: 'fleetgraph_http_requests_total',
    help: 'HTTP requests, by route, method and status code (aborted: the client left before the answer ended).',
    labelNames: ['route', 'method', 'status'],
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'fleetgraph_http_request_duration_seconds',
    help: 'Time from a request to the end of its answer, by route.',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly graphqlErrors = new Counter({
    name: 'fleetgraph_graphql_errors_total',
    help: 'Errors in GraphQL answers, by extensions.code (NONE: no code; host errors once per host and field).',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly engineCalls = new Counter({
    name: 'fleetgraph_engine_calls_total',
    help: 'Requests sent to each host engine (retries included), by kind of call.',
    labelNames: ['host', 'kind'],
    registers: [this.registry],
  });
  private readonly engineDuration = new Histogram({
    name: 'fleetgraph_engine_call_duration_seconds',
    help: 'Engine call latency until answered or failed, by host and kind of call (events: until the stream opened).',
    labelNames: ['host', 'kind'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly hostFailures = new Counter({
    name: 'fleetgraph_host_failures_total',
    help: 'Host failures callers saw, by host and error code (HOST_CIRCUIT_OPEN: refused without calling the engine).',
    labelNames: ['host', 'code'],
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  engineCall(host: string, kind: EngineCallKind, seconds: number): void {
    this.engineCalls.inc({ host, kind });
    this.engineDuration.observe({ host, kind }, seconds);
  }

  hostFailure(host: string, code: HostErrorCode): void {
    this.hostFailures.inc({ host, code });
  }

  /** Counts one error of a GraphQL answer. */
  countError(code: unknown): void {
    this.graphqlErrors.inc({ code: codeLabel(code) });
  }

  /** Counts one HTTP request: its status, or `aborted` when the client went away before the answer ended. */
  httpRequest(route: Route, method: string, status: number | 'aborted', seconds: number): void {
    this.httpRequests.inc({ route, method: METHODS.has(method) ? method : 'OTHER', status: String(status) });
    this.httpDuration.observe({ route }, seconds);
  }

  /** Per-host state, read from each host's EngineClient when scraped (nothing to keep in step). */
  watchHosts(hosts: HostRegistry): void {
    const clients = () => hosts.names().map((name) => hosts.client(name));
    new Gauge({
      name: 'fleetgraph_host_breaker_state',
      help: "Each host's circuit breaker: 1 for its current state (closed, half-open, open), 0 for the others.",
      labelNames: ['host', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of clients()) for (const state of BREAKER_STATES) this.set({ host: c.name, state }, c.breakerState() === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'fleetgraph_host_last_success_timestamp_seconds',
      help: 'When each host last answered an engine call (Unix time); absent until it has.',
      labelNames: ['host'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of clients()) if (c.lastSuccessAt !== undefined) this.set({ host: c.name }, c.lastSuccessAt / 1000);
      },
    });
    new Gauge({
      name: 'fleetgraph_host_engine_calls_in_flight',
      help: 'Engine calls under way per host (overlapping identical calls share one).',
      labelNames: ['host'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of clients()) this.set({ host: c.name }, c.inFlight);
      },
    });
  }

  /**
   * The exposition text, with the series of hosts outside `visibleHosts` left out (a scoped token learns
   * nothing of other hosts, not even their names). Host names are 1-63 of [A-Za-z0-9._-] (config), so a
   * `host="…"` label is read from a sample line as written; no other label value can contain one.
   */
  async scrape(visibleHosts: readonly string[]): Promise<string> {
    const text = await this.registry.metrics();
    const visible = new Set(visibleHosts);
    return text
      .split('\n')
      .filter((line) => {
        if (line.startsWith('#')) return true;
        const host = /[{,]host="([^"]*)"/.exec(line)?.[1];
        return host === undefined || visible.has(host);
      })
      .join('\n');
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * Counts the errors of each GraphQL answer by code: a single answer as sent over HTTP (after the
 * answer-size cap may have replaced it), and each result of a streamed one (subscriptions and live
 * queries, over SSE and graphql-ws) as it is produced.
 */
export function useErrorMetrics(metrics: Metrics): Plugin {
  const count = (r: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }) => {
    for (const e of r.errors ?? []) metrics.countError(e.extensions?.code);
  };
  const streamed = { onNext: ({ result }: { result: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> } }) => count(result) };
  return {
    onResultProcess({ result }) {
      if (Symbol.asyncIterator in result) return;
      for (const r of Array.isArray(result) ? result : [result]) count(r);
    },
    onExecute: () => ({ onExecuteDone: ({ result }) => (Symbol.asyncIterator in result ? streamed : undefined) }),
    onSubscribe: () => ({ onSubscribeResult: ({ result }) => (Symbol.asyncIterator in result ? streamed : undefined) }),
  };
}
