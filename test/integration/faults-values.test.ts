/**
 * Issue #9 (§4, §10, §11, §12) and #8 (§4): what a misbehaving engine sends is checked at the edge and
 * costs only its own host, a bug of ours is not blamed on a host, and overlapping calls are shared.
 * One fake engine ("odd") sits among the three real engines of the fleet, which must keep answering.
 */
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { engineGet } from '../../src/dev/engine-api.js';
import { startFakeEngine, type FakeEngine } from '../helpers/fake-engine.js';
import { fleetEngines } from '../helpers/provided.js';

let odd: FakeEngine;
const apps: TestApp[] = [];
/** Image IDs per real host, from the engines' own API (the oracle). */
const expected = new Map<string, string[]>();

const LIST = `{ images { totalCount nodes { id created createdAt size host { name } } } hosts { name status error { code } } }`;
interface ListAnswer {
  images: { totalCount: number; nodes: Array<{ id: string; created: number; createdAt: string; size: number; host: { name: string } }> };
  hosts: Array<{ name: string; status: string; error: { code: string } | null }>;
}

function app(): TestApp {
  const a = createTestApp([...fleetEngines().map((e) => ({ name: e.name, endpoint: e.endpoint })), { name: 'odd', endpoint: odd.endpoint }], {}, { breakerVolume: 1000 });
  apps.push(a);
  return a;
}

/** The real hosts answered completely, and odd failed alone with `code`. */
function expectOnlyOddFailed(res: { data?: ListAnswer | null; errors?: readonly { extensions?: Record<string, unknown> }[] }, code: string): void {
  expect(res.data).not.toBeNull();
  for (const [host, ids] of expected) expect(res.data!.images.nodes.filter((n) => n.host.name === host).map((n) => n.id).sort()).toEqual(ids);
  expect(res.data!.images.nodes.some((n) => n.host.name === 'odd')).toBe(false);
  expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.host])).toEqual([[code, 'odd']]);
  expect(res.data!.hosts.filter((h) => h.name !== 'odd').every((h) => h.status === 'UP')).toBe(true);
}

beforeAll(async () => {
  odd = await startFakeEngine('odd');
  for (const e of fleetEngines()) expected.set(e.name, (await engineGet<Array<{ Id: string }>>(e.socket, '/images/json')).map((i) => i.Id).sort());
});
afterEach(() => {
  for (const a of apps.splice(0)) a.close();
  odd.reset();
});
afterAll(async () => {
  await odd?.stop();
});

describe('Api-Version header', () => {
  it.each(['../../../containers/create?x=', '1.41/../../containers/create', 'v1.41', '1.4a', '1.41.0', '1', '0.9', '100.1'])(
    '%j is a bad answer and never reaches a request path',
    async (header) => {
      odd.setApiVersion(header);
      const a = app();
      expectOnlyOddFailed(await a.query<ListAnswer>(LIST), 'HOST_BAD_RESPONSE');
      await a.query(`{ images { totalCount } hosts { engine { version } } }`);
      expect(odd.rawPaths.length).toBeGreaterThanOrEqual(2);
      // Never negotiated: every request stays unversioned.
      for (const p of odd.rawPaths) expect(p).toMatch(/^\/(images\/json|version)(\?|$)/);
      expect(odd.rawPaths.join(' ')).not.toMatch(/\.\.|containers|\/v\d/);
      expect(a.source.negotiatedApiVersion('odd')).toBeUndefined();
    },
  );

  it('a well-formed version is taken and later requests carry it', async () => {
    odd.setApiVersion('1.43');
    const a = app();
    await a.query(`{ images { totalCount } }`);
    await a.query(`{ images { totalCount } }`);
    expect(odd.rawPaths).toEqual(['/images/json', '/v1.43/images/json']);
  });
});

describe('engine values GraphQL cannot carry', () => {
  it.each([
    { field: 'Size', value: 1e20 },
    { field: 'Size', value: -5 },
    { field: 'Created', value: 1e20 },
    { field: 'Created', value: 1.5 },
    { field: 'Containers', value: 2 ** 31 },
    { field: 'SharedSize', value: 2 ** 60 },
  ])('$field: $value fails that host only, with HOST_BAD_RESPONSE', async ({ field, value }) => {
    (odd.images[0] as unknown as Record<string, unknown>)[field] = value;
    expectOnlyOddFailed(await app().query<ListAnswer>(LIST), 'HOST_BAD_RESPONSE');
  });

  it('a creation time past 2038 (2^31 + 5) is served exactly', async () => {
    odd.images[0]!.Created = 2 ** 31 + 5;
    odd.images[0]!.Size = Number.MAX_SAFE_INTEGER;
    const res = await app().query<ListAnswer>(LIST);
    expect(res.errors).toBeUndefined();
    const node = res.data!.images.nodes.find((n) => n.id === odd.images[0]!.Id)!;
    expect(node).toMatchObject({ created: 2 ** 31 + 5, createdAt: '2038-01-19T03:14:13.000Z', size: Number.MAX_SAFE_INTEGER });
    expect(res.data!.images.totalCount).toBe([...expected.values()].flat().length + 2);
  });
});

describe('a bug of ours is not a host failure', () => {
  it('a TypeError inside normalisation is logged with its stack and masked, not HOST_BAD_RESPONSE', async () => {
    const a = app();
    const logged: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
    const withLog = createApp({ source: a.source, config: a.config, logger });
    // A body whose reading throws a TypeError inside the normaliser: the same path as a bug in normalize.ts.
    a.registry.client('odd').getJson = async () => [
      {
        get Id(): string {
          throw new TypeError('bug in normalisation');
        },
      },
    ];
    const res = await withLog.fetch('http://fleetgraph/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ images(hosts: ["odd"]) { totalCount } }` }) });
    const body = (await res.json()) as { errors: Array<{ message: string; extensions?: Record<string, unknown> }> };
    expect(body.errors.map((e) => e.extensions?.code)).not.toContain('HOST_BAD_RESPONSE');
    expect(body.errors.map((e) => e.message)).toEqual(['Unexpected error.']);
    expect(JSON.stringify(body)).not.toContain('bug in normalisation');
    const text = logged.join('\n');
    expect(text).toContain('TypeError: bug in normalisation');
    expect(text).toMatch(/at .*faults-values\.test\.ts/);
  });
});

describe('overlapping calls', () => {
  it('concurrent requests for one host share one engine call (and one parse)', async () => {
    odd.set('/images/json', { slowMs: 300 });
    const a = app();
    const answers = await Promise.all(Array.from({ length: 8 }, () => a.query<ListAnswer>(LIST)));
    for (const r of answers) {
      expect(r.errors).toBeUndefined();
      expect(r.data!.images.totalCount).toBe([...expected.values()].flat().length + 2);
    }
    expect(odd.count({ path: '/images/json' })).toBe(1);
    // Nothing is kept once the call settled: the next request reads the host again.
    await a.query(LIST);
    expect(odd.count({ path: '/images/json' })).toBe(2);
  });

  it('a /system/df refused as busy (API < 1.42) is asked again, not a failure; one answer serves requests for 2 s', async () => {
    odd.set('/system/df', 'busyOnce');
    const a = app();
    const q = `{ images(hosts: ["odd"]) { nodes { sharedSize } } }`;
    const first = await a.query<{ images: { nodes: Array<{ sharedSize: number | null }> } }>(q);
    expect(first.errors).toBeUndefined();
    expect(first.data!.images.nodes.map((n) => n.sharedSize)).toEqual([0, 0]);
    expect(odd.count({ path: '/system/df' })).toBe(2);
    const again = await a.query(q);
    expect(again.errors).toBeUndefined();
    expect(odd.count({ path: '/system/df' })).toBe(2);
  });

  it('many concurrent sharedSize queries from separate gateways on real 1.41 engines: no host error', async () => {
    // Separate registries share nothing, so their /system/df calls overlap on the engines, as several
    // gateways (or a docker CLI) would; each gateway still answers for every host.
    const gateways = Array.from({ length: 6 }, () => createTestApp(fleetEngines().map((e) => ({ name: e.name, endpoint: e.endpoint }))));
    try {
      const q = `{ images { nodes { id sharedSize } } }`;
      const answers = await Promise.all(gateways.flatMap((g) => [g.query(q), g.query(q), g.query(q)]));
      const codes = answers.flatMap((r) => (r.errors ?? []).map((e) => e.extensions?.code));
      expect(codes).toEqual([]);
    } finally {
      for (const g of gateways) g.close();
    }
  });
});
