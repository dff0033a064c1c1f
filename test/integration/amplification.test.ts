/**
 * Issue 9 §6 and §7: queries that multiply work (lists nested in lists), answers too large to build,
 * and clients that go away. The cost limit is checked on real engines (no engine call may happen for a
 * refused query; the flat full inventory must pass); size and cancellation on an in-process source.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig, type ConfigInput } from '../../src/config.js';
import { engineGet } from '../../src/dev/engine-api.js';
import { bulkSource as fakeSource, type BulkSource as FakeSource } from '../helpers/bulk-source.js';
import { fleetEngines } from '../helpers/provided.js';
import { proxiedFleet } from '../helpers/proxied-fleet.js';

const fleet = proxiedFleet();
const app = (input: ConfigInput = {}) => fleet.app(input);
const engineCalls = () => fleet.engineCalls();

/** The 99-byte bomb of the issue, and its aliased variant. */
const NESTED = `{ images { nodes { host { images { nodes { host { images { nodes { id repoTags } } } } } } } } }`;
const ALIASED = `{ images { nodes { host { ${Array.from({ length: 15 }, (_, i) => `a${i}: images { nodes { id repoTags } }`).join(' ')} } } } }`;

/** Every field of every image on every host, flat (the README's main use, with all fields). */
const FLAT = `{
  images {
    totalCount
    nodes {
      id parentId repoTags repoDigests created createdAt size sharedSize virtualSize labels { key value } containers inUse
      usedBy { id names image imageId state status created createdAt }
      host { name status apiVersion imageCount engine { version apiVersion os arch } }
    }
  }
}`;

describe('cost limit counts list sizes', () => {
  it('refuses lists nested in lists with a code, before any engine call', async () => {
    const t = app();
    for (const query of [NESTED, ALIASED, `{ hosts { images { nodes { host { stats { totalSize } } } } } }`]) {
      fleet.reset();
      const res = await t.query(query);
      expect(res.status).toBe(200);
      expect(res.data).toBeUndefined();
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'maxCost', max: t.config.limits.maxCost });
      expect(res.errors?.[0]?.message).toMatch(/cost \d+ is over the limit/);
      expect(engineCalls()).toBe(0);
    }
  });

  it('passes the flat full inventory under the default limits, and it agrees with the engines', async () => {
    const t = app();
    const res = await t.query<{ images: { totalCount: number; nodes: Array<{ host: { name: string } }> } }>(FLAT);
    expect(res.errors).toBeUndefined();
    for (const e of fleetEngines()) {
      const own = await engineGet<unknown[]>(e.socket, '/images/json');
      expect(res.data!.images.nodes.filter((n) => n.host.name === e.name)).toHaveLength(own.length);
    }
  });

  it('counts pages asked for with variables: small pages nest, whole lists do not', async () => {
    const t = app();
    const query = `query ($n: Int) { images(first: $n) { nodes { host { images(first: $n) { nodes { id } } } } } }`;
    const small = await t.query<{ images: { nodes: unknown[] } }>(query, { n: 3 });
    expect(small.errors).toBeUndefined();
    expect(small.data!.images.nodes).toHaveLength(3);
    fleet.reset();
    const big = await t.query(query, { n: 5000 });
    expect(big.errors?.[0]?.extensions?.code).toBe('QUERY_LIMIT_EXCEEDED');
    expect(engineCalls()).toBe(0);
  });
});

describe('answer size cap', () => {
  const query = `{ images { nodes { id repoTags labels { key value } } } }`;

  it('fails an answer over maxAnswerBytes with RESPONSE_TOO_LARGE and no data; under it, answers', async () => {
    const source = fakeSource(['a', 'b'], 2000);
    const config = (maxAnswerBytes: number) => loadConfig({ hosts: ['a=unix:///a.sock', 'b=unix:///b.sock'], limits: { maxAnswerBytes } }, {});
    const full = await createApp({ source, config: config(64 * 1024 * 1024) }).fetch('http://fleetgraph/graphql', post(query));
    const text = await full.text();
    expect(JSON.parse(text).errors).toBeUndefined();
    const size = Buffer.byteLength(text);
    expect(size).toBeGreaterThan(400_000);

    const exact = await createApp({ source, config: config(size) }).fetch('http://fleetgraph/graphql', post(query));
    const exactText = await exact.text();
    expect(exactText.slice(0, 300)).toBe(text.slice(0, 300));
    expect(Buffer.byteLength(exactText)).toBe(size);

    const over = await createApp({ source, config: config(size - 1) }).fetch('http://fleetgraph/graphql', post(query));
    const body = (await over.json()) as { data?: unknown; errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.extensions).toEqual({ code: 'RESPONSE_TOO_LARGE', max: size - 1 });
  });
});

describe('a client that goes away', () => {
  it('stops its request: resolvers waiting on an engine start no further engine calls', async () => {
    const source: FakeSource = fakeSource(['a', 'b'], 50);
    let open!: () => void;
    source.gate = new Promise<void>((resolve) => (open = resolve));
    const a = createApp({ source, config: loadConfig({ hosts: ['a=unix:///a.sock', 'b=unix:///b.sock'] }, {}) });
    const controller = new AbortController();
    // Every call the selection tells of (images, and containers for usedBy) starts with the request (prefetch);
    // what matters here is that nothing new starts once the client is gone.
    const pending = a.fetch('http://fleetgraph/graphql', { ...post(`{ images { nodes { id usedBy { id } } } }`), signal: controller.signal });
    await until(() => source.calls.images === 2);
    const atAbort = { ...source.calls };
    controller.abort();
    open();
    await Promise.resolve(pending)
      .then((r) => r.text())
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(source.calls).toEqual(atAbort);

    // The same query from a client that stays gets its containers read.
    source.gate = undefined;
    const res = await a.fetch('http://fleetgraph/graphql', post(`{ images { nodes { id usedBy { id } } } }`));
    expect(((await res.json()) as { errors?: unknown }).errors).toBeUndefined();
    expect(source.calls.containers).toBe(atAbort.containers + 2);
  });
});

function post(query: string): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) };
}

async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met within 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}
