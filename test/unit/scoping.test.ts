import { describe, expect, it } from 'vitest';
import { createFakeApp, fakeId, fakeImage, fakeSource } from '../helpers/fake-source.js';

/** hosts:/names: arguments choose which hosts a field covers; only those hosts are asked. */

const BASE = fakeImage({ id: fakeId(1), repoTags: ['base:1'], created: 100, size: 100 });
const WEB1 = fakeImage({ id: fakeId(2), repoTags: ['web:latest'], created: 200, size: 20 });
const WEB2 = fakeImage({ id: fakeId(3), repoTags: ['web:latest'], created: 300, size: 30 });
const DANGLING = fakeImage({ id: fakeId(4), created: 400, size: 4 });
const source = () => fakeSource({ hosts: ['a', 'b', 'c'], images: { a: [BASE, WEB1], b: [BASE, WEB2], c: [BASE, DANGLING] } });

describe('host selection', () => {
  it('imageGroups(hosts:) groups over the chosen hosts only', async () => {
    const s = source();
    const res = await createFakeApp(s).query<{ imageGroups: unknown }>(
      `{ imageGroups(hosts: ["c", "a"], orderBy: [{ field: ID }]) { totalCount nodes { id hostCount hosts { name } images { host { name } } } } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.imageGroups).toEqual({
      totalCount: 3,
      nodes: [
        { id: BASE.id, hostCount: 2, hosts: [{ name: 'a' }, { name: 'c' }], images: [{ host: { name: 'a' } }, { host: { name: 'c' } }] },
        { id: WEB1.id, hostCount: 1, hosts: [{ name: 'a' }], images: [{ host: { name: 'a' } }] },
        { id: DANGLING.id, hostCount: 1, hosts: [{ name: 'c' }], images: [{ host: { name: 'c' } }] },
      ],
    });
    expect(s.calls.images).toEqual({ a: 1, c: 1 });
  });

  it('fleet(hosts:) totals over the chosen hosts; the default is every host', async () => {
    const s = source();
    const res = await createFakeApp(s).query<{ two: unknown; all: unknown }>(
      `{ two: fleet(hosts: ["a", "b"]) { hostCount hostsAnswered imageCount totalSize uniqueImageCount uniqueSize danglingCount }
         all: fleet { hostCount imageCount totalSize uniqueImageCount uniqueSize danglingCount danglingSize } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      two: { hostCount: 2, hostsAnswered: 2, imageCount: 4, totalSize: 250, uniqueImageCount: 3, uniqueSize: 150, danglingCount: 0 },
      all: { hostCount: 3, imageCount: 6, totalSize: 354, uniqueImageCount: 4, uniqueSize: 154, danglingCount: 1, danglingSize: 4 },
    });
    // both fields in one request: one list per host
    expect(s.calls.images).toEqual({ a: 1, b: 1, c: 1 });
  });

  it('hosts(names:) answers in the order asked, each name once; the default is configuration order', async () => {
    const s = source();
    const res = await createFakeApp(s).query(`{ some: hosts(names: ["c", "a", "c"]) { name } all: hosts { name } }`);
    expect(res.data).toEqual({ some: [{ name: 'c' }, { name: 'a' }], all: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] });
    // names alone need no engine
    expect(s.count('images')).toBe(0);
  });

  it('hosts(names:) with unknown names is UNKNOWN_HOST naming the argument', async () => {
    const res = await createFakeApp(source()).query(`{ hosts(names: ["a", "z"]) { name } }`);
    expect(res.errors!.map((e) => [e.message, e.extensions])).toEqual([['names: unknown host "z"', { code: 'UNKNOWN_HOST', argument: 'names', hosts: ['z'] }]]);
  });

  it('tagDrift(hosts:) compares only the chosen hosts', async () => {
    const s = source();
    const res = await createFakeApp(s).query(
      `{ all: tagDrift { tag variants { id hosts { name } } } ac: tagDrift(hosts: ["a", "c"]) { tag } }`,
    );
    expect(res.data).toEqual({
      all: [{ tag: 'web:latest', variants: [{ id: WEB1.id, hosts: [{ name: 'a' }] }, { id: WEB2.id, hosts: [{ name: 'b' }] }] }],
      ac: [],
    });
  });

  it('image(ref:, hosts:) looks on the chosen hosts only', async () => {
    const s = source();
    const res = await createFakeApp(s).query(`{ image(ref: "base:1", hosts: ["b", "c"]) { id host { name } } }`);
    expect(res.data).toEqual({ image: [{ id: BASE.id, host: { name: 'b' } }, { id: BASE.id, host: { name: 'c' } }] });
    expect(s.calls.images).toEqual({ b: 1, c: 1 });
  });

  it('Host.stats and Host.images cover their own host', async () => {
    const res = await createFakeApp(source()).query(`{ host(name: "b") { stats { hostCount imageCount totalSize } images { totalCount nodes { id } } } }`);
    expect(res.data).toEqual({ host: { stats: { hostCount: 1, imageCount: 2, totalSize: 130 }, images: { totalCount: 2, nodes: [{ id: WEB2.id }, { id: BASE.id }] } } });
  });
});
