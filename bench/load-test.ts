import autocannon from 'autocannon';

/**
 * A bounded load test against a running gateway: N connections for T seconds of one GraphQL query,
 * with an optional action part-way (stopping an engine). Stops by itself. Used by bench/run.ts (long)
 * and by the test suite (short).
 */
export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  query: string;
  /** Called once, this many ms after the start. */
  midway?: { afterMs: number; action: () => Promise<void> };
  /** Per-request client timeout (s): a request that takes longer counts as hanging. */
  timeoutSeconds?: number;
}

export interface LoadResult {
  requests: number;
  statusCounts: Record<string, number>;
  fiveXx: number;
  errors: number;
  timeouts: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  requestsPerSecond: number;
  /** Responses whose body held per-host errors (partial answers), sampled from the last ones. */
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const instance = autocannon({
    url: options.url,
    method: 'POST',
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: options.timeoutSeconds ?? 10,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: options.query }),
  });
  let timer: NodeJS.Timeout | undefined;
  let midway: Promise<void> | undefined;
  if (options.midway) {
    const { afterMs, action } = options.midway;
    timer = setTimeout(() => {
      midway = action();
    }, afterMs);
  }
  const result = await instance;
  if (timer) clearTimeout(timer);
  await midway;
  const statusCounts: Record<string, number> = {};
  for (const k of ['1xx', '2xx', '3xx', '4xx', '5xx'] as const) statusCounts[k] = result[k];
  return {
    requests: result.requests.total,
    statusCounts,
    fiveXx: result['5xx'],
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    latencyMax: result.latency.max,
    requestsPerSecond: result.requests.average,
  };
}

/** Resident set size of a process, in bytes (Linux). */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}
