/**
 * Issue #9 §8: docker-modem formats a full `util.inspect` dump of every request's options for its debug
 * log, even with debug off. With the keep-alive agent inside those options, that walk was ~69% of the
 * gateway's CPU under many small queries. Each dump must now be one short line.
 */
import util from 'node:util';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { startFakeEngine, type FakeEngine } from '../helpers/fake-engine.js';

let fake: FakeEngine;
beforeAll(async () => {
  fake = await startFakeEngine('debug', { tcp: true });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await fake?.stop();
});

it.each(['unix', 'tcp'] as const)('over %s, the per-call debug dump of the request options stays one short line', async (transport) => {
  const a = createTestApp([{ name: 'h', endpoint: transport === 'unix' ? fake.endpoint : fake.tcpEndpoint! }]);
  try {
    const client = a.registry.client('h');
    // Warm up: open keep-alive connections, so the agent holds sockets (what made each dump huge).
    await Promise.all([client.getJson('/images/json'), client.getJson('/version'), client.getJson('/containers/json')]);
    const dumps: string[] = [];
    const original = util.inspect;
    const spy = vi.spyOn(util, 'inspect').mockImplementation(((value: unknown, ...rest: unknown[]) => {
      const out = (original as (v: unknown, ...r: unknown[]) => string)(value, ...rest);
      if (value && typeof value === 'object' && 'method' in value && 'path' in value) dumps.push(out);
      return out;
    }) as typeof util.inspect);
    try {
      for (let i = 0; i < 5; i++) await client.getJson('/images/json');
    } finally {
      spy.mockRestore();
    }
    // docker-modem still calls it once per request (so this test sees the real call site) ...
    expect(dumps).toHaveLength(5);
    // ... but what it formats is one line, not the agent and its sockets.
    for (const d of dumps) expect(d).toMatch(/^GET \/v1\.41\/images\/json$/);
  } finally {
    a.close();
  }
});
