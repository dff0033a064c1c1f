import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startFakeEngine, type FakeEngine } from '../helpers/fake-engine.js';

/** /readyz tells each caller only about hosts it may see, and a frozen host cannot hold it. */
let a: FakeEngine;
let b: FakeEngine;
let server: RunningServer;
const ALL = 'readyz-all-token-0123456789';
const ONLY_A = 'readyz-a-only-token-0123456789';

beforeAll(async () => {
  a = await startFakeEngine('ready-a');
  b = await startFakeEngine('ready-b');
  b.set('/version', 'hang');
  const config = loadConfig({ hosts: [`a=${a.endpoint}`, `b=${b.endpoint}`], port: 0, hostTimeoutMs: 10_000 }, { FLEETGRAPH_AUTH_TOKENS: `${ALL};${ONLY_A} hosts=a` });
  server = await startServer(config);
});
afterAll(async () => {
  await server?.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

const readyz = async (token?: string) => {
  const res = await fetch(server.url.replace('/graphql', '/readyz'), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

it('tells anonymous probes only that it is ready, and each token about the hosts it may see', async () => {
  expect(await readyz()).toEqual({ status: 200, body: { ready: true } });
  expect(await readyz('not-a-valid-token-at-all')).toEqual({ status: 200, body: { ready: true } });
  const started = Date.now();
  const all = await readyz(ALL);
  // The hanging host is reported as TIMEOUT after the probe's own short wait, not the 10 s host deadline.
  expect(Date.now() - started).toBeLessThan(8000);
  expect(all.body).toEqual({
    ready: true,
    hostCount: 2,
    hostsUp: 1,
    hosts: [
      { name: 'a', status: 'UP' },
      { name: 'b', status: 'TIMEOUT' },
    ],
  });
  expect((await readyz(ONLY_A)).body).toEqual({ ready: true, hostCount: 1, hostsUp: 1, hosts: [{ name: 'a', status: 'UP' }] });
});
