import { describe, expect, it } from 'vitest';
import { HOST_ERROR_CODES } from '../../src/docker/errors.js';
import { createFakeApp, fakeContainer, fakeId, fakeImage, fakeSource } from '../helpers/fake-source.js';

/**
 * One host failing never fails the answer: the others' data comes back, and the failed host is reported
 * once per field path with a stable code and its name. Driven by the fake source, so every HostError
 * code can be shown (real engines show the ones they can produce, in the integration tests).
 */

const A1 = fakeImage({ id: fakeId('a1'), repoTags: ['app:1'], created: 300 });
const B1 = fakeImage({ id: fakeId('b1'), repoTags: ['web:1'], created: 200 });
const B2 = fakeImage({ id: fakeId('b2'), created: 100 });
const C1 = fakeImage({ id: fakeId('c1'), repoTags: ['db:1'], created: 400 });

const QUERY = `{
  images { totalCount nodes { id host { name } } }
  hosts { name status error { code message } imageCount }
  fleet { hostCount hostsAnswered imageCount }
}`;

interface Answer {
  images: { totalCount: number; nodes: Array<{ id: string; host: { name: string } }> };
  hosts: Array<{ name: string; status: string; error: { code: string; message: string } | null; imageCount: number | null }>;
  fleet: { hostCount: number; hostsAnswered: number; imageCount: number };
}

describe('one host failing', () => {
  it.each(HOST_ERROR_CODES)('%s: data from the other hosts, one coded error per field path naming the host', async (code) => {
    const source = fakeSource({ hosts: ['a', 'b', 'c'], images: { a: [A1], b: [B1, B2], c: [C1] }, fail: { b: code } });
    const res = await createFakeApp(source).query<Answer>(QUERY);
    expect(res.status).toBe(200);
    expect(res.data!.images).toEqual({
      totalCount: 2,
      nodes: [
        { id: C1.id, host: { name: 'c' } },
        { id: A1.id, host: { name: 'a' } },
      ],
    });
    const status = code.replace(/^HOST_/, '');
    expect(res.data!.hosts.map((h) => [h.name, h.status, h.error?.code ?? null, h.imageCount])).toEqual([
      ['a', 'UP', null, 1],
      ['b', status, code, null],
      ['c', 'UP', null, 1],
    ]);
    expect(res.data!.fleet).toEqual({ hostCount: 3, hostsAnswered: 2, imageCount: 2 });
    // In any order: each field reports when its own data settles.
    expect(sorted(res.errors!.map((e) => ({ path: e.path, extensions: e.extensions })))).toEqual(
      sorted([
        { path: ['images'], extensions: { code, host: 'b' } },
        { path: ['hosts', 1, 'imageCount'], extensions: { code, host: 'b' } },
        { path: ['fleet'], extensions: { code, host: 'b' } },
      ]),
    );
    for (const e of res.errors!) expect(e.message).toMatch(/^host "b": /);
    // The failed host was asked once, like the others, however many fields needed its list.
    expect(source.calls.images).toEqual({ a: 1, b: 1, c: 1 });
  });

  it('every host failing: empty lists, one error per host and path, still HTTP 200', async () => {
    const source = fakeSource({ hosts: ['a', 'b'], fail: { a: 'HOST_UNREACHABLE', b: 'HOST_TLS_ERROR' } });
    const res = await createFakeApp(source).query<Answer>(QUERY);
    expect(res.status).toBe(200);
    expect(res.data!.images).toEqual({ totalCount: 0, nodes: [] });
    expect(res.data!.fleet).toEqual({ hostCount: 2, hostsAnswered: 0, imageCount: 0 });
    expect(sorted(res.errors!.map((e) => [e.path!.join('.'), e.extensions!.host, e.extensions!.code]))).toEqual(
      sorted([
        ['images', 'a', 'HOST_UNREACHABLE'],
        ['images', 'b', 'HOST_TLS_ERROR'],
        ['hosts.0.imageCount', 'a', 'HOST_UNREACHABLE'],
        ['hosts.1.imageCount', 'b', 'HOST_TLS_ERROR'],
        ['fleet', 'a', 'HOST_UNREACHABLE'],
        ['fleet', 'b', 'HOST_TLS_ERROR'],
      ]),
    );
  });

  it('a host whose container list fails: inUse/usedBy/containers are null on its images only, reported once per field', async () => {
    const source = fakeSource({
      hosts: ['a', 'b'],
      images: { a: [{ ...A1, containers: null }], b: [{ ...B1, containers: null }, { ...B2, containers: null }] },
      containers: { a: [fakeContainer({ id: 'x', imageId: A1.id })] },
      fail: { b: { containers: 'HOST_BAD_RESPONSE' } },
    });
    const res = await createFakeApp(source).query<{ images: { nodes: Array<{ id: string; inUse: boolean | null; containers: number | null; usedBy: Array<{ id: string }> | null }> } }>(
      `{ images(orderBy: [{ field: HOST }, { field: ID }]) { nodes { id inUse containers usedBy { id } } } }`,
    );
    expect(res.data!.images.nodes).toEqual([
      { id: A1.id, inUse: true, containers: 1, usedBy: [{ id: 'x' }] },
      { id: B1.id, inUse: null, containers: null, usedBy: null },
      { id: B2.id, inUse: null, containers: null, usedBy: null },
    ]);
    // Two images of b, three fields each: one error per field (list items share a path pattern).
    expect(res.errors!.map((e) => [e.path!.join('.'), e.extensions!.host, e.extensions!.code])).toEqual([
      ['images.nodes.1.inUse', 'b', 'HOST_BAD_RESPONSE'],
      ['images.nodes.1.containers', 'b', 'HOST_BAD_RESPONSE'],
      ['images.nodes.1.usedBy', 'b', 'HOST_BAD_RESPONSE'],
    ]);
    expect(source.calls.containers).toEqual({ a: 1, b: 1 });
  });

  it('a host whose /version fails: engine is null for it, the image list still answers', async () => {
    const source = fakeSource({ hosts: ['a', 'b'], images: { a: [A1], b: [B1] }, fail: { a: { version: 'HOST_TIMEOUT' } } });
    const res = await createFakeApp(source).query<{ hosts: Array<{ name: string; status: string; engine: { version: string } | null }> }>(
      `{ hosts { name status engine { version } } }`,
    );
    expect(res.data!.hosts).toEqual([
      { name: 'a', status: 'UP', engine: null },
      { name: 'b', status: 'UP', engine: { version: '20.10.24' } },
    ]);
    expect(res.errors!.map((e) => ({ path: e.path, extensions: e.extensions }))).toEqual([{ path: ['hosts', 0, 'engine'], extensions: { code: 'HOST_TIMEOUT', host: 'a' } }]);
  });

  it('a host whose shared sizes fail: sharedSize is null for its images that needed the extra call', async () => {
    const source = fakeSource({
      hosts: ['a', 'b'],
      images: { a: [{ ...A1, sharedSize: null }], b: [{ ...B1, sharedSize: null }] },
      sharedSizes: { a: { [A1.id]: 42 } },
      fail: { b: { sharedSizes: 'HOST_ERROR' } },
    });
    const res = await createFakeApp(source).query<{ images: { nodes: Array<{ id: string; sharedSize: number | null }> } }>(
      `{ images(orderBy: [{ field: HOST }]) { nodes { id sharedSize } } }`,
    );
    expect(res.data!.images.nodes).toEqual([
      { id: A1.id, sharedSize: 42 },
      { id: B1.id, sharedSize: null },
    ]);
    expect(res.errors!.map((e) => [e.path!.join('.'), e.extensions!.code])).toEqual([['images.nodes.1.sharedSize', 'HOST_ERROR']]);
  });

  it('a host that fails is skipped by image(ref:), and reported', async () => {
    const source = fakeSource({ hosts: ['a', 'b'], images: { a: [A1], b: [A1] }, fail: { b: 'HOST_CIRCUIT_OPEN' } });
    const res = await createFakeApp(source).query<{ image: Array<{ host: { name: string } }> }>(`{ image(ref: "app:1") { host { name } } }`);
    expect(res.data!.image).toEqual([{ host: { name: 'a' } }]);
    expect(res.errors!.map((e) => [e.path!.join('.'), e.extensions!.host, e.extensions!.code])).toEqual([['image', 'b', 'HOST_CIRCUIT_OPEN']]);
  });
});

/** Errors come in the order their fields settle, which is not part of the contract. */
function sorted<T>(items: T[]): T[] {
  return [...items].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : JSON.stringify(x) > JSON.stringify(y) ? 1 : 0));
}
