import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config.js';
import { createFakeApp, fakeId, fakeImage, fakeSource } from '../helpers/fake-source.js';

/** Query limits (graphql-armor; the cost estimate of src/query-cost.ts): each limit refuses with its code before any host is asked. */

const source = () => fakeSource({ hosts: ['a', 'b'], images: { a: [fakeImage({ id: fakeId(1) })], b: [fakeImage({ id: fakeId(2) })] } });

describe('query limits', () => {
  it.each<[string, ConfigInput['limits'], string, string]>([
    ['maxDepth', { maxDepth: 4 }, `{ hosts { images { nodes { host { name } } } } }`, 'Query depth limit of 4 exceeded, found 5.'],
    ['maxAliases', { maxAliases: 2 }, `{ a: images { totalCount } b: images { totalCount } c: images { totalCount } }`, 'Aliases limit of 2 exceeded, found 3.'],
    ['maxCost', { maxCost: 20 }, `{ images { nodes { id repoTags size host { name imageCount } } } }`, 'query cost 70001 is over the limit of 20'],
  ])('%s: QUERY_LIMIT_EXCEEDED naming the limit, no host asked; the same query passes under the defaults', async (limit, limits, query, message) => {
    const s = source();
    const res = await createFakeApp(s, { limits }).query(query);
    expect(res.data).toBeUndefined();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.message.startsWith(message), res.errors![0]!.message).toBe(true);
    expect(res.errors![0]!.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit });
    expect(s.count('images')).toBe(0);
    const ok = await createFakeApp(s).query(query);
    expect(ok.errors).toBeUndefined();
    // once per host, however many fields read the lists
    expect(s.calls.images).toEqual({ a: 1, b: 1 });
  });

  it('maxTokens: refused while parsing, with a code, no host asked', async () => {
    const s = source();
    const res = await createFakeApp(s, { limits: { maxTokens: 60 } }).query(`{ ${Array.from({ length: 40 }, () => 'hosts { name }').join(' ')} }`);
    expect(res.errors!.map((e) => [e.message, e.extensions])).toEqual([['Syntax Error: Token limit of 60 exceeded.', { code: 'GRAPHQL_PARSE_FAILED' }]]);
    expect(s.count('images')).toBe(0);
  });

  it('a query exactly at the depth limit passes', async () => {
    const res = await createFakeApp(source(), { limits: { maxDepth: 5 } }).query<{ hosts: unknown[] }>(`{ hosts { images { nodes { host { name } } } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.hosts).toEqual([{ images: { nodes: [{ host: { name: 'a' } }] } }, { images: { nodes: [{ host: { name: 'b' } }] } }]);
  });

  it('a request body over maxBodyBytes is 413 PAYLOAD_TOO_LARGE', async () => {
    const t = createFakeApp(source(), { limits: { maxBodyBytes: 200 } });
    const res = await t.query(`{ hosts { name } }`, { pad: 'x'.repeat(300) });
    expect(res.status).toBe(413);
    expect(res.errors!.map((e) => e.extensions)).toEqual([{ code: 'PAYLOAD_TOO_LARGE' }]);
    expect((await t.query(`{ hosts { name } }`)).status).toBe(200);
  });
});
