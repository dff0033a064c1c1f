import { describe, expect, it } from 'vitest';
import type { InventorySource } from '../../src/docker/source.js';
import { createFakeApp, fakeContainer, fakeId, fakeImage, fakeSource, type FakeSource } from '../helpers/fake-source.js';

/**
 * Engine calls start at the request's start (src/schema/prefetch.ts): a source that takes 30 ms per
 * call records when each call starts and ends; every call the query needs must start before any ends,
 * and each host is asked at most once per kind.
 */
function timedSource(inner: FakeSource): { source: InventorySource & FakeSource; log: string[] } {
  const log: string[] = [];
  const timed =
    <T>(kind: string, call: (h: string) => Promise<T>) =>
    async (host: string): Promise<T> => {
      log.push(`start ${kind} ${host}`);
      await new Promise((r) => setTimeout(r, 30));
      try {
        return await call(host);
      } finally {
        log.push(`end ${kind} ${host}`);
      }
    };
  const source = {
    ...inner,
    images: timed('images', inner.images),
    containers: timed('containers', inner.containers),
    version: timed('version', inner.version),
    sharedSizes: timed('sharedSizes', inner.sharedSizes),
  };
  return { source, log };
}

const images = (n: number) => [fakeImage({ id: fakeId(n), sharedSize: null, containers: null })];
const SPEC = {
  hosts: ['a', 'b', 'c'],
  images: { a: images(1), b: images(2), c: images(3) },
  containers: { a: [fakeContainer({ id: 'x', imageId: fakeId(1) })] },
  sharedSizes: { a: { [fakeId(1)]: 7 } },
};

const starts = (log: string[]) => log.filter((l) => l.startsWith('start')).sort();
const startedBeforeAnyEnd = (log: string[]) => {
  const firstEnd = log.findIndex((l) => l.startsWith('end'));
  return starts(log.slice(0, firstEnd));
};

describe('prefetch', () => {
  it('every field: images, containers and shared sizes of every host start together, once each', async () => {
    const { source, log } = timedSource(fakeSource(SPEC));
    const t = createFakeApp(source);
    const res = await t.query<{ images: { nodes: Array<{ sharedSize: number | null; inUse: boolean | null; containers: number | null }> } }>(
      `{ images { nodes { id sharedSize containers inUse usedBy { id } host { engine { version } } } } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.images.nodes.find((n) => n.sharedSize === 7)).toMatchObject({ containers: 1, inUse: true });
    const expected = ['a', 'b', 'c'].flatMap((h) => ['containers', 'images', 'sharedSizes', 'version'].map((k) => `start ${k} ${h}`)).sort();
    expect(starts(log)).toEqual(expected);
    expect(startedBeforeAnyEnd(log)).toEqual(expected);
  });

  it('only the named hosts and only the kinds selected (fragments and variables followed)', async () => {
    const { source, log } = timedSource(fakeSource(SPEC));
    const t = createFakeApp(source);
    const res = await t.query(`query Q($h: [String!]) { images(hosts: $h) { ...F } } fragment F on ImageSummaryConnection { nodes { id inUse } }`, { h: ['b'] });
    expect(res.errors).toBeUndefined();
    expect(startedBeforeAnyEnd(log)).toEqual(['start containers b', 'start images b']);
    expect(starts(log)).toEqual(['start containers b', 'start images b']);
  });

  it('hosts { name } starts nothing; hosts { status engine } starts images and version together', async () => {
    const { source, log } = timedSource(fakeSource(SPEC));
    const t = createFakeApp(source);
    expect((await t.query(`{ hosts { name } }`)).errors).toBeUndefined();
    expect(log).toEqual([]);
    expect((await t.query(`{ host(name: "c") { status engine { os } } }`)).errors).toBeUndefined();
    expect(startedBeforeAnyEnd(log)).toEqual(['start images c', 'start version c']);
  });

  it("a prefetched host's failure surfaces once, through the field that uses it, as before", async () => {
    const { source } = timedSource(fakeSource({ ...SPEC, fail: { b: { sharedSizes: 'HOST_TIMEOUT' } } }));
    const t = createFakeApp(source);
    const res = await t.query<{ images: { nodes: Array<{ id: string; sharedSize: number | null }> } }>(`{ images { nodes { id sharedSize } } }`);
    expect(res.data!.images.nodes).toHaveLength(3);
    expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.host, e.path?.join('.')])).toEqual([['HOST_TIMEOUT', 'b', 'images.nodes.1.sharedSize']]);
  });
});
