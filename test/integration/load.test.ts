import { afterAll, beforeAll, expect, it } from 'vitest';
import { runLoad } from '../../bench/load-test.js';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startEngines, type Engine } from '../../src/dev/engine.js';
import { importImage } from '../../src/dev/images.js';

/**
 * The short version of bench/run.ts's load test: a few seconds of concurrent queries against three
 * real engines, one stopped part-way. No 5xx, nothing left hanging, and the gateway keeps serving.
 * (Throughput and memory are measured in the benchmark, not asserted here.)
 */
let engines: Engine[] = [];
let server: RunningServer | undefined;

beforeAll(async () => {
  engines = await startEngines(['load-a', 'load-b', 'load-c']);
  await Promise.all(engines.map((e, i) => importImage(e.socket, { tag: `load/img:${i}`, label: { n: String(i) } })));
  const config = loadConfig({ hosts: engines.map((e) => `${e.name}=${e.endpoint}`), port: 0, hostTimeoutMs: 2000 }, {});
  server = await startServer(config);
});

afterAll(async () => {
  await server?.close();
  await Promise.all(engines.map((e) => e.destroy()));
});

it('serves concurrent queries with zero 5xx and no hanging request while a host is stopped', async () => {
  const load = await runLoad({
    url: server!.url,
    connections: 4,
    durationSeconds: 4,
    timeoutSeconds: 5,
    query: '{ images { totalCount nodes { id repoTags size host { name } } } hosts { name status } }',
    midway: { afterMs: 1500, action: () => engines[2]!.stop() },
  });
  expect(load.requests).toBeGreaterThan(10);
  expect(load.fiveXx).toBe(0);
  expect(load.errors).toBe(0);
  expect(load.timeouts).toBe(0);
  expect(load.statusCounts['2xx']).toBe(load.requests);

  const res = await fetch(server!.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ images { nodes { host { name } } } hosts { name status } }' }) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { images: { nodes: Array<{ host: { name: string } }> }; hosts: Array<{ name: string; status: string }> }; errors: Array<{ extensions: { host: string; code: string } }> };
  expect(new Set(body.data.images.nodes.map((n) => n.host.name))).toEqual(new Set(['load-a', 'load-b']));
  expect(body.data.hosts.map((h) => h.status)).toEqual(['UP', 'UP', expect.stringMatching(/^(UNREACHABLE|CIRCUIT_OPEN)$/)]);
  expect(body.errors.map((e) => e.extensions.host)).toEqual(['load-c']);
});
