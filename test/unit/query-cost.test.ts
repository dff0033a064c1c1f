import { parse } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { listCostEstimator } from '../../src/query-cost.js';
import { schema } from '../../src/schema/index.js';
import { bulkSource as fakeSource } from '../helpers/bulk-source.js';

const HOSTS = ['a=unix:///a.sock', 'b=unix:///b.sock', 'c=unix:///c.sock'];
const config = loadConfig({ hosts: HOSTS, maxImages: 100 }, {});
const cost = (query: string, variables: Record<string, unknown> = {}) =>
  getComplexity({ schema, query: parse(query), variables, estimators: [listCostEstimator(config)] });

describe('list-size cost estimate', () => {
  it('a list without first costs maxImages times its selection; first and last bound it', () => {
    // images 1 + 100 × (nodes 1 + id 1 + repoTags 1)
    expect(cost(`{ images { nodes { id repoTags } } }`)).toBe(1 + 100 * 3);
    expect(cost(`{ images(first: 5) { nodes { id repoTags } } }`)).toBe(1 + 5 * 3);
    expect(cost(`query ($n: Int) { images(last: $n) { nodes { id } } }`, { n: 7 })).toBe(1 + 7 * 2);
    // A page larger than the maximum is refused when it runs; its cost is the maximum's.
    expect(cost(`{ images(first: 100000) { nodes { id } } }`)).toBe(1 + 100 * 2);
  });

  it('a list inside a list multiplies', () => {
    const inner = 1 + 100 * 2; // images { nodes { id } }
    expect(cost(`{ images { nodes { host { images { nodes { id } } } } } }`)).toBe(1 + 100 * (1 + (1 + inner)));
    expect(cost(`{ images { nodes { host { images { nodes { host { images { nodes { id } } } } } } } } }`)).toBeGreaterThan(100 ** 3);
  });

  it('per-host lists count the hosts (or those named); labels and usedBy do not multiply; totals walk a list', () => {
    expect(cost(`{ hosts { name } }`)).toBe(1 + 3 * 1);
    expect(cost(`{ hosts(names: ["a"]) { name } }`)).toBe(1 + 1 * 1);
    expect(cost(`{ hosts { images { nodes { id } } } }`)).toBe(1 + 3 * (1 + 100 * 2));
    expect(cost(`{ images { nodes { labels { key value } usedBy { id } } } }`)).toBe(1 + 100 * (1 + 3 + 2));
    expect(cost(`{ fleet { totalSize } }`)).toBe(1 + 100 + 1);
    expect(cost(`{ imageGroups { nodes { hosts { name } images { id } } } }`)).toBe(1 + 100 * (1 + (1 + 3) + (1 + 3)));
  });

  it('introspection is not multiplied', () => {
    expect(cost(`{ __schema { types { name fields { name type { name } } } } }`)).toBeLessThan(20);
  });
});

describe('the cost limit in the app', () => {
  const post = (query: string) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });

  it('refuses fragments that repeat a selection past the node limit, without calling the source', async () => {
    const source = fakeSource(['a'], 3);
    // Other limits loosened: graphql-armor's depth limit would stop this document first.
    const app = createApp({ source, config: loadConfig({ hosts: ['a=unix:///a.sock'], limits: { maxDepth: 1000 } }, {}) });
    const levels = 16;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1 ? `fragment F${i} on Query { hosts { name } }` : `fragment F${i} on Query { ...F${i + 1} hosts { name } ...F${i + 1} }`,
    ).join('\n');
    const res = await app.fetch('http://fleetgraph/graphql', post(`{ ...F0 }\n${fragments}`));
    const body = (await res.json()) as { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'maxCost' });
    expect(body.errors?.[0]?.message).toMatch(/maximum allowed number of nodes/);
    expect(source.calls.images).toBe(0);
  });
});
