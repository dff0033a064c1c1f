import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startFakeEngine, type FakeEngine } from '../helpers/fake-engine.js';
import { parseExposition, total } from '../helpers/prometheus.js';
import { waitFor } from '../../src/dev/wait.js';

/**
 * A request whose client leaves before its answer is counted as `aborted` (the host hangs: a real engine
 * cannot be made to hang on /images/json). The built CLI's /metrics is covered by test/e2e/metrics.test.ts.
 */
let engine: FakeEngine;
let server: RunningServer;

beforeAll(async () => {
  engine = await startFakeEngine('abort-metrics');
  engine.set('/images/json', 'hang');
  server = await startServer(loadConfig({ hosts: [`h=${engine.endpoint}`], port: 0, hostTimeoutMs: 60_000 }, {}));
});
afterAll(async () => {
  await server?.close();
  await engine?.stop();
});

it('counts a request whose client went away as aborted, with its route', async () => {
  const controller = new AbortController();
  const pending = fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'leaving-client' },
    body: JSON.stringify({ query: '{ images { totalCount } }' }),
    signal: controller.signal,
  }).catch((err: unknown) => err);
  await waitFor('the engine to be asked', () => engine.count({ path: '/images/json' }) > 0, 20_000);
  controller.abort();
  await pending;
  const scrape = async () => parseExposition(await (await fetch(server.url.replace('/graphql', '/metrics'))).text());
  await waitFor('the aborted request to be counted', async () => total(await scrape(), 'fleetgraph_http_requests_total', { route: 'graphql', status: 'aborted' }) === 1, 20_000);
  const samples = await scrape();
  expect(total(samples, 'fleetgraph_http_requests_total', { route: 'graphql' })).toBe(1);
  expect(total(samples, 'fleetgraph_http_request_duration_seconds_count', { route: 'graphql' })).toBe(1);
});
