import { describe, expect, it } from 'vitest';
import { createFakeApp, fakeId, fakeImage, fakeSource } from '../helpers/fake-source.js';

/** Relay pagination through the schema (Query.images, Host.images, Query.imageGroups) over a fake fleet. */

// Seven summaries on two hosts; created times are distinct, so CREATED DESC is a total order by itself.
const img = (n: number, created: number, tags: string[] = []) => fakeImage({ id: fakeId(n), created, repoTags: tags, size: n * 10 });
const SOURCE = () =>
  fakeSource({
    hosts: ['a', 'b'],
    images: {
      a: [img(1, 700, ['one:1']), img(2, 500, ['two:1']), img(3, 300), img(4, 100, ['four:1'])],
      b: [img(5, 600, ['five:1']), img(6, 400), img(7, 200, ['one:1'])],
    },
  });
/** Newest first: the default order. */
const NEWEST_FIRST = [1, 5, 2, 6, 3, 7, 4].map((n) => fakeId(n));

interface Conn {
  totalCount: number;
  edges: Array<{ cursor: string; node: { id: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}
const PAGE = `totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`;
const ids = (c: Conn) => c.edges.map((e) => e.node.id);

describe('Query.images pages', () => {
  it('walks first/after over the whole list: every item once, in order, with totalCount and pageInfo', async () => {
    const t = createFakeApp(SOURCE());
    const pages: string[][] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res: { data?: { images: Conn } | null; errors?: readonly unknown[] } = await t.query<{ images: Conn }>(`query P($after: String) { images(first: 3, after: $after) { ${PAGE} } }`, { after });
      expect(res.errors).toBeUndefined();
      const c: Conn = res.data!.images;
      expect(c.totalCount).toBe(7);
      expect(c.pageInfo.hasPreviousPage).toBe(i > 0);
      expect(c.pageInfo.startCursor).toBe(c.edges[0]?.cursor ?? null);
      expect(c.pageInfo.endCursor).toBe(c.edges.at(-1)?.cursor ?? null);
      pages.push(ids(c));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(pages).toEqual([NEWEST_FIRST.slice(0, 3), NEWEST_FIRST.slice(3, 6), NEWEST_FIRST.slice(6)]);
    // One image list per host per request, and one request per page.
    expect(t.source.calls.images).toEqual({ a: 3, b: 3 });
  });

  it('last/before walks backwards to the same items', async () => {
    const t = createFakeApp(SOURCE());
    const tail = (await t.query<{ images: Conn }>(`{ images(last: 2) { ${PAGE} } }`)).data!.images;
    expect(ids(tail)).toEqual(NEWEST_FIRST.slice(5));
    expect(tail.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const before = (await t.query<{ images: Conn }>(`query P($b: String) { images(last: 2, before: $b) { ${PAGE} } }`, { b: tail.pageInfo.startCursor })).data!.images;
    expect(ids(before)).toEqual(NEWEST_FIRST.slice(3, 5));
  });

  it('a cursor stays valid when items come and go between pages (keyset, not offset)', async () => {
    const spec = { hosts: ['a'], images: { a: [img(1, 500), img(2, 400), img(3, 300), img(4, 200)] } };
    const first = createFakeApp(fakeSource(spec));
    const page1 = (await first.query<{ images: Conn }>(`{ images(first: 2) { ${PAGE} } }`)).data!.images;
    expect(ids(page1)).toEqual([fakeId(1), fakeId(2)]);
    // Image 1 was removed and a newer one added before the next page was asked for.
    const later = createFakeApp(fakeSource({ hosts: ['a'], images: { a: [img(9, 900), img(2, 400), img(3, 300), img(4, 200)] } }));
    const page2 = (await later.query<{ images: Conn }>(`query P($c: String) { images(first: 2, after: $c) { ${PAGE} } }`, { c: page1.pageInfo.endCursor })).data!.images;
    expect(ids(page2)).toEqual([fakeId(3), fakeId(4)]);
    expect(page2.totalCount).toBe(4);
  });

  it('first: 0 gives no edges but the totalCount', async () => {
    const res = await createFakeApp(SOURCE()).query<{ images: Conn }>(`{ images(first: 0) { ${PAGE} } }`);
    expect(res.data!.images).toEqual({ totalCount: 7, edges: [], pageInfo: { hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null } });
  });

  it('a cursor of another query (other order, filter or hosts) is STALE_CURSOR naming the argument', async () => {
    const t = createFakeApp(SOURCE());
    const cursor = (await t.query<{ images: Conn }>(`{ images(first: 1) { ${PAGE} } }`)).data!.images.pageInfo.endCursor;
    for (const args of ['orderBy: [{ field: SIZE }]', 'filter: { dangling: true }', 'hosts: ["a"]']) {
      const res = await t.query(`query P($c: String) { images(first: 1, after: $c, ${args}) { totalCount } }`, { c: cursor });
      expect(res.data).toBeNull();
      expect(res.errors!.map((e) => [e.path, e.extensions])).toEqual([[['images'], { code: 'STALE_CURSOR', argument: 'after' }]]);
    }
    const before = await t.query(`query P($c: String) { images(last: 1, before: $c, hosts: ["b"]) { totalCount } }`, { c: cursor });
    expect(before.errors!.map((e) => e.extensions)).toEqual([{ code: 'STALE_CURSOR', argument: 'before' }]);
  });

  it('a cursor of Query.images is stale for imageGroups, and the other way round', async () => {
    const t = createFakeApp(SOURCE());
    const imageCursor = (await t.query<{ images: Conn }>(`{ images(first: 1) { ${PAGE} } }`)).data!.images.pageInfo.endCursor;
    const groupCursor = (await t.query<{ imageGroups: Conn }>(`{ imageGroups(first: 1) { ${PAGE} } }`)).data!.imageGroups.pageInfo.endCursor;
    const g = await t.query(`query P($c: String) { imageGroups(first: 1, after: $c) { totalCount } }`, { c: imageCursor });
    expect(g.errors!.map((e) => e.extensions!.code)).toEqual(['STALE_CURSOR']);
    const i = await t.query(`query P($c: String) { images(first: 1, after: $c) { totalCount } }`, { c: groupCursor });
    expect(i.errors!.map((e) => e.extensions!.code)).toEqual(['STALE_CURSOR']);
  });

  it.each([
    ['garbage', () => 'not a cursor!'],
    ['base64url of other JSON', () => Buffer.from(JSON.stringify({ v: 1 })).toString('base64url')],
    // This query's own scope, so only the key is wrong.
    ['a key of the wrong arity', (real: string) => Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(real, 'base64url').toString()), k: [] })).toString('base64url')],
  ])('%s is INVALID_CURSOR naming the argument', async (_what, make) => {
    const t = createFakeApp(SOURCE());
    const real = (await t.query<{ images: Conn }>(`{ images(first: 1) { ${PAGE} } }`)).data!.images.pageInfo.endCursor!;
    const res = await t.query(`query P($c: String) { images(first: 1, after: $c) { totalCount } }`, { c: make(real) });
    expect(res.errors!.map((e) => [e.path, e.extensions])).toEqual([[['images'], { code: 'INVALID_CURSOR', argument: 'after' }]]);
  });

  it('over maxImages: first is PAGE_TOO_LARGE, an unpaginated list is TOO_MANY_RESULTS; at the limit both answer', async () => {
    const t = createFakeApp(SOURCE(), { maxImages: 6 });
    const big = await t.query(`{ images(first: 7) { totalCount } }`);
    expect(big.errors!.map((e) => e.extensions)).toEqual([{ code: 'PAGE_TOO_LARGE', argument: 'first', max: 6 }]);
    const all = await t.query(`{ images { totalCount } }`);
    expect(all.errors!.map((e) => e.extensions)).toEqual([{ code: 'TOO_MANY_RESULTS', argument: 'first', max: 6 }]);
    expect((await t.query(`{ images(first: 6) { totalCount } }`)).data).toEqual({ images: { totalCount: 7 } });
    expect((await t.query(`{ images(hosts: ["a"]) { totalCount } }`)).data).toEqual({ images: { totalCount: 4 } });
  });
});

describe('Host.images and imageGroups pages', () => {
  it('Host.images pages over that host only', async () => {
    const res = await createFakeApp(SOURCE()).query<{ host: { images: Conn } }>(`{ host(name: "b") { images(first: 2) { ${PAGE} } } }`);
    const c = res.data!.host.images;
    expect(c.totalCount).toBe(3);
    expect(ids(c)).toEqual([fakeId(5), fakeId(6)]);
    expect(c.pageInfo.hasNextPage).toBe(true);
  });

  it('imageGroups: one group per distinct ID, paged by HOST_COUNT then ID', async () => {
    const shared = fakeImage({ id: fakeId(1), created: 700 });
    const t = createFakeApp(fakeSource({ hosts: ['a', 'b'], images: { a: [shared, img(2, 500)], b: [shared, img(3, 300)] } }));
    const q = `query P($c: String) { imageGroups(first: 2, after: $c, orderBy: [{ field: HOST_COUNT, direction: DESC }, { field: ID }]) { ${PAGE} } }`;
    const p1 = (await t.query<{ imageGroups: Conn }>(q, { c: null })).data!.imageGroups;
    expect(p1.totalCount).toBe(3);
    expect(ids(p1)).toEqual([fakeId(1), fakeId(2)]);
    const p2 = (await t.query<{ imageGroups: Conn }>(q, { c: p1.pageInfo.endCursor })).data!.imageGroups;
    expect(ids(p2)).toEqual([fakeId(3)]);
    expect(p2.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });
});

describe('totalCount alone', () => {
  it('answers as the full connection does, with the same limits and argument errors', async () => {
    const t = createFakeApp(SOURCE(), { maxImages: 6 });
    for (const args of ['(first: 2)', '(last: 3)', '(first: 6)', '(hosts: ["b"])']) {
      const count = await t.query<{ images: { totalCount: number } }>(`{ images${args} { totalCount } }`);
      const full = await t.query<{ images: { totalCount: number } }>(`{ images${args} { totalCount nodes { id } } }`);
      expect(count.errors, args).toBeUndefined();
      expect(count.data, args).toEqual({ images: { totalCount: full.data!.images.totalCount } });
    }
    for (const args of ['', '(first: 7)', '(first: -1)']) {
      const count = await t.query(`{ images${args} { totalCount __typename } }`);
      const full = await t.query(`{ images${args} { totalCount edges { cursor } } }`);
      expect(count.errors?.map((e) => e.extensions), args).toEqual(full.errors?.map((e) => e.extensions));
      expect(count.errors?.length, args).toBe(1);
    }
  });
});
