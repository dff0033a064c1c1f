import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { HostRegistry } from '../../src/docker/hosts.js';
import { z } from 'zod';
import { apiAtLeast, normalizeDfSharedSizes, normalizeImageList, normalizeImageListWithManifests, type ImageRecord } from '../../src/docker/normalize.js';
import { EngineSource, type InventorySource } from '../../src/docker/source.js';

const HEX = 'c'.repeat(64);

describe('normalizeImageList', () => {
  it('turns Docker sentinels into nulls and empty lists', async () => {
    const [img] = await normalizeImageList([
      { Id: `sha256:${HEX}`, ParentId: '', RepoTags: ['<none>:<none>'], RepoDigests: ['<none>@<none>'], Created: 1, Size: 10, SharedSize: -1, VirtualSize: 10, Labels: null, Containers: -1 },
    ]);
    expect(img).toEqual({ id: `sha256:${HEX}`, parentId: null, repoTags: [], repoDigests: [], created: 1, size: 10, sharedSize: null, virtualSize: 10, labels: {}, containers: null });
  });

  it('accepts what newer Docker and Podman send (no VirtualSize, null lists, bare hex IDs, extra fields)', async () => {
    const [img] = await normalizeImageList([
      {
        Id: HEX,
        ParentId: HEX,
        RepoTags: ['docker.io/library/nginx:latest'],
        RepoDigests: null,
        Created: 1700000000,
        Size: 3 * 1024 ** 3,
        SharedSize: 0,
        Labels: { a: 'b' },
        Containers: 2,
        Names: ['docker.io/library/nginx:latest'],
        Digest: 'sha256:00',
        History: [],
        Manifests: [],
      },
    ]);
    expect(img).toMatchObject({ id: `sha256:${HEX}`, parentId: `sha256:${HEX}`, repoTags: ['docker.io/library/nginx:latest'], repoDigests: [], size: 3 * 1024 ** 3, sharedSize: 0, virtualSize: null, containers: 2 });
  });

  it('rejects what is not an image list', async () => {
    await expect(normalizeImageList({ message: 'page not found' })).rejects.toThrow();
    await expect(normalizeImageList([{ Id: 'x' }])).rejects.toThrow();
    await expect(normalizeImageList([{ Id: 'x', Created: 1, Size: -5 }])).rejects.toThrow();
  });

  const image = (fields: Record<string, unknown>) => [{ Id: `sha256:${HEX}`, Created: 1, Size: 1, ...fields }];

  it('rejects numbers the schema cannot carry (sizes past 2^53, times outside years 1-9999, counts past 2^31)', async () => {
    for (const bad of [{ Size: 1e20 }, { Size: 2 ** 53 }, { Size: 1.5 }, { SharedSize: 1e20 }, { VirtualSize: -1 }, { Created: 1e20 }, { Created: 253_402_300_800 }, { Created: -62_135_596_801 }, { Containers: 2 ** 31 }])
      await expect(normalizeImageList(image(bad)), JSON.stringify(bad)).rejects.toThrow();
  });

  it('accepts times past 2038 and Docker\'s unset time (year 1), and sizes up to 2^53 - 1', async () => {
    for (const ok of [{ Created: 2 ** 31 + 5 }, { Created: -62_135_596_800 }, { Created: 253_402_300_799 }, { Size: Number.MAX_SAFE_INTEGER }])
      expect(await normalizeImageList(image(ok)), JSON.stringify(ok)).toHaveLength(1);
  });

  it('checks a big list in chunks, letting other work run in between', async () => {
    const big = Array.from({ length: 10_000 }, (_, i) => ({ Id: i.toString(16).padStart(64, '0'), Created: i, Size: i }));
    const order: string[] = [];
    setImmediate(() => order.push('other work'));
    const done = normalizeImageList(big).then((list) => order.push(`normalised ${list.length}`));
    await done;
    expect(order).toEqual(['other work', 'normalised 10000']);
  });

  it('compares API versions numerically', () => {
    expect(apiAtLeast('1.41', '1.42')).toBe(false);
    expect(apiAtLeast('1.42', '1.42')).toBe(true);
    expect(apiAtLeast('1.100', '1.42')).toBe(true);
    expect(apiAtLeast(undefined, '1.0')).toBe(false);
  });
});

describe('EngineSource.sharedSizes', () => {
  function stub(apiVersion: string) {
    const calls: Array<{ path: string; query: Record<string, string> }> = [];
    const client = {
      apiVersion,
      getJson: async (path: string, query: Record<string, string> = {}) => {
        calls.push({ path, query });
        if (path === '/images/json') return [{ Id: `sha256:${HEX}`, Created: 1, Size: 5, SharedSize: 3 }];
        if (path === '/system/df') return { Images: [{ Id: `sha256:${HEX}`, SharedSize: 4, Containers: 0 }] };
        throw new Error(path);
      },
    };
    const registry = { client: () => client, names: () => ['h'] } as unknown as HostRegistry;
    return { source: new EngineSource(registry), calls };
  }
  it('uses shared-size=1 from API 1.42 on', async () => {
    const { source, calls } = stub('1.43');
    expect((await source.sharedSizes('h')).get(`sha256:${HEX}`)).toBe(3);
    expect(calls).toEqual([{ path: '/images/json', query: { 'shared-size': '1' } }]);
  });
  it('falls back to /system/df before API 1.42', async () => {
    const { source, calls } = stub('1.41');
    expect((await source.sharedSizes('h')).get(`sha256:${HEX}`)).toBe(4);
    expect(calls).toEqual([{ path: '/system/df', query: {} }]);
  });
});

describe('64-bit sizes', () => {
  it('serialises sizes past 2 GiB exactly', async () => {
    const big: ImageRecord = { id: `sha256:${HEX}`, parentId: null, repoTags: ['big:1'], repoDigests: [], created: 1, size: 5 * 1024 ** 3 + 7, sharedSize: 2 ** 40, virtualSize: null, labels: {}, containers: 0 };
    const source: InventorySource = {
      hostNames: () => ['h'],
      images: async () => [big],
      containers: async () => [],
      version: async () => ({ version: '1', apiVersion: '1.41', minApiVersion: null, os: 'linux', arch: 'amd64', kernelVersion: null }),
      sharedSizes: async () => new Map(),
      breakerState: () => 'closed',
      negotiatedApiVersion: () => undefined,
    };
    const app = createApp({ source, config: loadConfig({ hosts: ['h=unix:///unused.sock'] }, {}) });
    const res = await app.fetch('http://fleetgraph/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ images { nodes { size sharedSize virtualSize } } fleet { totalSize uniqueSize } }' }),
    });
    expect(await res.json()).toEqual({
      data: { images: { nodes: [{ size: 5 * 1024 ** 3 + 7, sharedSize: 2 ** 40, virtualSize: 5 * 1024 ** 3 + 7 }] }, fleet: { totalSize: 5 * 1024 ** 3 + 7, uniqueSize: 5 * 1024 ** 3 + 7 } },
    });
  });
});

describe('records of engine items met before', () => {
  it('an item value normalised before gets the same record; a new value, or the manifests list, its own', async () => {
    const item = { Id: `sha256:${HEX}`, ParentId: '', RepoTags: ['<none>:<none>', 'a:1'], RepoDigests: null, Created: 1, Size: 2, Labels: { k: 'v' } };
    const [a] = await normalizeImageList([item]);
    const [b] = await normalizeImageList([item]);
    expect(b).toBe(a);
    const [c] = await normalizeImageList([structuredClone(item)]);
    expect(c).not.toBe(a);
    expect(c).toEqual(a);
    const [d] = await normalizeImageListWithManifests([item]);
    expect(d).not.toBe(a);
    expect(d!.manifests).toBeNull();
  });

  it('a bad item is refused every time it is met', async () => {
    const bad = { Id: `sha256:${HEX}`, Created: 1, Size: -1 };
    await expect(normalizeImageList([bad])).rejects.toThrow();
    await expect(normalizeImageList([bad])).rejects.toThrow();
  });
});

describe('normalizeDfSharedSizes (checked by hand)', () => {
  // The zod schema it replaced: the oracle for what is accepted.
  const former = z
    .object({
      Images: z
        .array(z.object({ Id: z.string(), SharedSize: z.number().int().safe().nullish(), Containers: z.number().int().min(-1).max(2 ** 31 - 1).nullish() }).passthrough())
        .nullish(),
    })
    .passthrough();
  const id = `sha256:${HEX}`;
  const bodies: unknown[] = [
    {},
    { Images: null },
    { Images: [] },
    { Images: [{ Id: id, SharedSize: 5, Containers: 0 }, { Id: 'd'.repeat(64), SharedSize: -1, Containers: -1, Extra: 'x' }, { Id: '' }] },
    { Images: [{ Id: id, SharedSize: null, Containers: null }], LayersSize: 7 },
    { Images: [{ Id: id, SharedSize: 2 ** 53 }] },
    { Images: [{ Id: id, SharedSize: 1.5 }] },
    { Images: [{ Id: id, SharedSize: '5' }] },
    { Images: [{ Id: id, Containers: 2 ** 31 }] },
    { Images: [{ Id: id, Containers: -2 }] },
    { Images: [{ Id: 5 }] },
    { Images: [{}] },
    { Images: [null] },
    { Images: [[]] },
    { Images: {} },
    { Images: 'x' },
    [],
    null,
    'x',
  ];
  it.each(bodies.map((b) => [JSON.stringify(b), b]))('%s: accepted or refused as the zod schema did', (_text, body) => {
    if (former.safeParse(body).success) {
      const sizes = normalizeDfSharedSizes(body);
      const images = ((body as { Images?: Array<{ Id: string; SharedSize?: number | null }> | null }).Images ?? []);
      expect(sizes.size).toBe(new Set(images.map((i) => (i.Id.length === 64 ? `sha256:${i.Id}` : i.Id))).size);
      for (const i of images) expect(sizes.get(i.Id.length === 64 ? `sha256:${i.Id}` : i.Id)).toBe(i.SharedSize === undefined || i.SharedSize === null || i.SharedSize < 0 ? null : i.SharedSize);
    } else expect(() => normalizeDfSharedSizes(body)).toThrow(z.ZodError);
  });
});
