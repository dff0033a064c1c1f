import { readFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_API_VERSION } from '../../src/docker/hosts.js';
import { apiAtLeast } from '../../src/docker/normalize.js';
import { schema } from '../../src/schema/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { engineGet, type EngineImageSummary } from '../../src/dev/engine-api.js';
import type { Summary } from '../helpers/engine-oracle.js';
import { startFakeEngine } from '../helpers/fake-engine.js';
import { fleetEngines, fleetSeed } from '../helpers/provided.js';
import { proxiedFleet } from '../helpers/proxied-fleet.js';

/** The engine's own answers: the oracle every field is checked against. */
type EngineImage = EngineImageSummary;
interface DfImage {
  Id: string;
  SharedSize: number;
  Containers: number;
}

const FULL = `{
  images {
    totalCount
    nodes { id parentId repoTags repoDigests created createdAt size sharedSize virtualSize labels { key value } containers host { name } }
  }
}`;

const fleet = proxiedFleet();
const { proxies } = fleet;
let t: TestApp;
beforeAll(() => {
  t = fleet.app();
});

const resetCounts = () => fleet.reset();

describe('ImageSummary against the engines', () => {
  it('returns every image of every host, each field equal to what that engine says', async () => {
    const res = await t.query<{ images: { totalCount: number; nodes: Summary[] } }>(FULL);
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.images.nodes;
    let expected = 0;
    for (const engine of fleetEngines()) {
      const raw = await engineGet<EngineImage[]>(engine.socket, '/images/json');
      const df = await engineGet<{ Images: DfImage[] }>(engine.socket, '/system/df');
      const mine = nodes.filter((n) => n.host.name === engine.name);
      expect(mine.map((n) => n.id).sort()).toEqual(raw.map((r) => r.Id).sort());
      expected += raw.length;
      for (const r of raw) {
        const n = mine.find((m) => m.id === r.Id)!;
        const dfImage = df.Images.find((d) => d.Id === r.Id)!;
        expect(n.parentId).toBe(r.ParentId === '' ? null : r.ParentId);
        expect(n.repoTags.sort()).toEqual((r.RepoTags ?? []).filter((x) => x !== '<none>:<none>').sort());
        expect(n.repoDigests.sort()).toEqual((r.RepoDigests ?? []).filter((x) => x !== '<none>@<none>').sort());
        expect(n.created).toBe(r.Created);
        expect(n.createdAt).toBe(new Date(r.Created * 1000).toISOString());
        expect(n.size).toBe(r.Size);
        expect(n.virtualSize).toBe(r.VirtualSize ?? r.Size);
        expect(n.labels).toEqual(
          Object.entries(r.Labels ?? {})
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([key, value]) => ({ key, value })),
        );
        // Docker 20.10 reports -1 (not calculated) in /images/json; the engine's /system/df calculates both.
        expect(r.SharedSize).toBe(-1);
        expect(r.Containers).toBe(-1);
        expect(n.sharedSize).toBe(dfImage.SharedSize < 0 ? null : dfImage.SharedSize);
        expect(n.containers).toBe(dfImage.Containers);
      }
    }
    expect(res.data!.images.totalCount).toBe(expected);
    expect(nodes).toHaveLength(expected);
  });

  it('shows the seeded fleet as seeded: shared IDs, untagged images as [], labels with "=" and empty values', async () => {
    const seed = fleetSeed();
    const res = await t.query<{ images: { nodes: Summary[] } }>(FULL);
    const byHost = (id: string) => res.data!.images.nodes.filter((n) => n.id === id).map((n) => n.host.name).sort();
    expect(byHost(seed.ids.base)).toEqual(['alpha', 'beta', 'gamma']);
    expect(byHost(seed.ids.app1)).toEqual(['alpha', 'beta']);
    const dangling = res.data!.images.nodes.find((n) => n.id === seed.ids.danglingAlpha)!;
    expect(dangling.repoTags).toEqual([]);
    expect(dangling.repoDigests).toEqual([]);
    const tools = res.data!.images.nodes.find((n) => n.id === seed.ids.tools)!;
    expect(tools.labels).toContainEqual({ key: 'com.example.expr', value: 'a=b=c' });
    expect(tools.labels).toContainEqual({ key: 'com.example.empty', value: '' });
    expect(res.data!.images.nodes.find((n) => n.id === seed.ids.app1 && n.host.name === 'alpha')!.containers).toBe(1);
  });

  it('answers label(key:) and host metadata from /version', async () => {
    const res = await t.query<{
      images: { nodes: Array<{ tier: string | null; missing: string | null; empty: string | null; id: string }> };
      hosts: Array<{ name: string; status: string; error: unknown; imageCount: number; engine: { version: string; apiVersion: string; os: string; arch: string } }>;
    }>(`{
      images(hosts: ["beta"]) { nodes { id tier: label(key: "tier") missing: label(key: "nope") empty: label(key: "com.example.empty") } }
      hosts { name status error { code } imageCount engine { version apiVersion os arch } }
    }`);
    expect(res.errors).toBeUndefined();
    const tools = res.data!.images.nodes.find((n) => n.id === fleetSeed().ids.tools)!;
    expect(tools).toMatchObject({ tier: 'tools', missing: null, empty: '' });
    for (const engine of fleetEngines()) {
      const v = await engineGet<{ Version: string; ApiVersion: string; Os: string; Arch: string }>(engine.socket, '/version');
      const raw = await engineGet<unknown[]>(engine.socket, '/images/json');
      expect(res.data!.hosts.find((h) => h.name === engine.name)).toEqual({
        name: engine.name,
        status: 'UP',
        error: null,
        imageCount: raw.length,
        engine: { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch },
      });
    }
  });

  it('negotiates the API version per host, reports it and pins later requests to it', async () => {
    const fresh = fleet.app();
    try {
      resetCounts();
      await fresh.query(`{ images { totalCount } }`);
      await fresh.query(`{ images { totalCount } }`);
      const res = await fresh.query<{ hosts: Array<{ apiVersion: string; engine: { apiVersion: string } }> }>(`{ hosts { apiVersion engine { apiVersion } } }`);
      for (const h of res.data!.hosts) expect(h.apiVersion).toBe(apiAtLeast(h.engine.apiVersion, MAX_API_VERSION) ? MAX_API_VERSION : h.engine.apiVersion);
      for (const p of proxies) {
        // The first answer teaches the version; every request after it carries it.
        expect(p.rawPaths[0]).toBe('/images/json');
        expect(p.rawPaths.slice(1).every((path) => path.startsWith(`/v${res.data!.hosts[0]!.apiVersion}/`))).toBe(true);
        expect(p.rawPaths.length).toBeGreaterThan(2);
      }
    } finally {
      fresh.close();
    }
  });

  it('caps the negotiated version at MAX_API_VERSION for a newer engine; an older engine gets its own', async () => {
    expect(MAX_API_VERSION).toBe('1.55');
    const [newer, older] = await Promise.all([startFakeEngine('newer'), startFakeEngine('older')]);
    newer.setApiVersion('1.58');
    older.setApiVersion('1.40');
    const fakes = createTestApp([
      { name: 'newer', endpoint: newer.endpoint },
      { name: 'older', endpoint: older.endpoint },
    ]);
    try {
      await fakes.query(`{ images { totalCount } }`);
      const res = await fakes.query<{ hosts: Array<{ name: string; apiVersion: string; engine: { apiVersion: string } }> }>(`{ hosts { name apiVersion engine { apiVersion } } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data!.hosts).toEqual([
        { name: 'newer', apiVersion: '1.55', engine: { apiVersion: '1.58' } },
        { name: 'older', apiVersion: '1.40', engine: { apiVersion: '1.40' } },
      ]);
      expect([...newer.rawPaths].sort()).toEqual(['/images/json', '/v1.55/images/json', '/v1.55/version']);
      expect([...older.rawPaths].sort()).toEqual(['/images/json', '/v1.40/images/json', '/v1.40/version']);
    } finally {
      fakes.close();
      await Promise.all([newer.stop(), older.stop()]);
    }
  });

  it('finds where an image is by ID, ID prefix or name:tag', async () => {
    const seed = fleetSeed();
    const q = `query($ref: String!) { image(ref: $ref) { id host { name } repoTags } }`;
    const hostsOf = async (ref: string) => ((await t.query<{ image: Summary[] }>(q, { ref })).data!.image ?? []).map((i) => i.host.name);
    expect(await hostsOf(seed.ids.base)).toEqual(['alpha', 'beta', 'gamma']);
    expect(await hostsOf(seed.ids.app1.slice(7, 19))).toEqual(['alpha', 'beta']);
    expect(await hostsOf('fleet/base:1')).toEqual(['alpha', 'beta', 'gamma']);
    expect(await hostsOf('docker.io/fleet/app:2')).toEqual(['alpha']);
    expect(await hostsOf('fleet/web')).toEqual(['alpha', 'beta', 'gamma']);
    expect(await hostsOf('nothing/here:1')).toEqual([]);
  });

  it('names unknown hosts in an error', async () => {
    const res = await t.query(`{ images(hosts: ["alpha", "nope", "zzz"]) { totalCount } }`);
    expect(res.status).toBe(200);
    expect(res.errors?.[0]?.message).toMatch(/"nope", "zzz"/);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNKNOWN_HOST', hosts: ['nope', 'zzz'] });
  });

  it('refuses an unpaginated list over the configured maximum, and pages under it', async () => {
    const small = createTestApp(fleetEngines().map((e) => ({ name: e.name, endpoint: e.endpoint })), { maxImages: 5 });
    try {
      const res = await small.query(`{ images { totalCount } }`);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_RESULTS', max: 5 });
      const page = await small.query<{ images: { totalCount: number; nodes: unknown[] } }>(`{ images(first: 5) { totalCount nodes { id } } }`);
      expect(page.errors).toBeUndefined();
      expect(page.data!.images.nodes).toHaveLength(5);
      expect(page.data!.images.totalCount).toBeGreaterThan(5);
    } finally {
      small.close();
    }
  });
});

describe('batching', () => {
  it('makes exactly one /images/json per host for aliases, fragments, hosts { images } and totals together', async () => {
    resetCounts();
    const res = await t.query(`
      fragment S on ImageSummary { id repoTags size host { name imageCount status } }
      {
        a: images { nodes { ...S } }
        b: images(hosts: ["alpha"]) { totalCount nodes { ...S } }
        c: images(orderBy: [{ field: SIZE, direction: DESC }], first: 2) { edges { cursor node { ...S } } }
        hosts { name imageCount images { totalCount nodes { ...S } } }
        image(ref: "fleet/base:1") { ...S }
        imageGroups { nodes { id hostCount } }
        tagDrift { tag }
        fleet { imageCount uniqueSize }
      }`);
    expect(res.errors).toBeUndefined();
    for (const p of proxies) {
      expect(p.count('GET', '/images/json')).toBe(1);
      expect(p.requests.every((r) => r.method === 'GET')).toBe(true);
    }
  });

  it('makes exactly one /version and one /containers/json per host however many fields need them', async () => {
    resetCounts();
    const res = await t.query(`{
      x: hosts { engine { version } }
      y: hosts { engine { apiVersion os } }
      images { nodes { containers inUse usedBy { id } } }
      fleet { unusedCount unusedSize }
    }`);
    expect(res.errors).toBeUndefined();
    for (const p of proxies) {
      expect(p.count('GET', '/version')).toBe(1);
      expect(p.count('GET', '/containers/json')).toBe(1);
      expect(p.count('GET', '/images/json')).toBe(1);
    }
  });

  it('makes no container or version call when no field needs it', async () => {
    resetCounts();
    await t.query(`{ images { nodes { id repoTags size } } }`);
    for (const p of proxies) expect(p.requests).toEqual([{ method: 'GET', path: '/images/json' }]);
  });

  it('creates loaders per request: two requests read every host twice', async () => {
    resetCounts();
    await t.query(`{ images { totalCount } }`);
    await t.query(`{ images { totalCount } }`);
    for (const p of proxies) expect(p.count('GET', '/images/json')).toBe(2);
  });
});

describe('schema/schema.graphql', () => {
  it('is the printed schema of the code (run npm run schema:print after changing the schema)', () => {
    const file = readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(file).toBe(`${printSchema(schema)}\n`);
  });

  it('has ImageSummary with every field of Docker\'s model', () => {
    const type = schema.getType('ImageSummary') as import('graphql').GraphQLObjectType;
    const fields = type.getFields();
    expect(Object.fromEntries(['id', 'parentId', 'repoTags', 'repoDigests', 'created', 'createdAt', 'size', 'sharedSize', 'virtualSize', 'labels', 'containers', 'host'].map((f) => [f, String(fields[f]?.type)]))).toEqual({
      id: 'ID!',
      parentId: 'String',
      repoTags: '[String!]!',
      repoDigests: '[String!]!',
      created: 'SafeInt!',
      createdAt: 'DateTime!',
      size: 'SafeInt!',
      sharedSize: 'SafeInt',
      virtualSize: 'SafeInt',
      labels: '[Label!]!',
      containers: 'Int',
      host: 'Host!',
    });
    expect(fields.virtualSize?.deprecationReason).toMatch(/use size/);
  });
});
