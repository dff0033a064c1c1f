import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { EngineApiError, engineGet } from '../../src/dev/engine-api.js';
import { SAME_SECOND, SAME_SECOND_FRACTIONS, SAME_SECOND_LABEL } from '../helpers/same-second.js';
import { fleetEngines, fleetSeed } from '../helpers/provided.js';

interface EngineImage {
  Id: string;
  RepoTags: string[] | null;
  Size: number;
  Created: number;
}
interface EngineContainer {
  Id: string;
  ImageID: string;
  Names: string[];
  State: string;
}

let t: TestApp;
beforeAll(() => {
  t = createTestApp(fleetEngines().map((e) => ({ name: e.name, endpoint: e.endpoint })));
});
afterAll(() => t?.close());

/** The engine's own answer for a filter: IDs, or 'error' when the engine refuses it (e.g. unknown before/since image). */
async function engineIds(socket: string, filters: Record<string, string[]>): Promise<string[] | 'error'> {
  try {
    const list = await engineGet<EngineImage[]>(socket, `/images/json?filters=${encodeURIComponent(JSON.stringify(filters))}`);
    return list.map((i) => i.Id).sort();
  } catch (err) {
    if (err instanceof EngineApiError) return 'error';
    throw err;
  }
}

/** RFC 3339 with up to 9 fraction digits -> nanoseconds since the epoch. */
function toNanos(rfc3339: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339);
  if (!m) throw new Error(`not RFC 3339: ${rfc3339}`);
  return BigInt(Date.parse(`${m[1]}${m[3]}`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

interface Node {
  id: string;
  host: { name: string };
}
const LIST = `query($filter: ImageFilter, $hosts: [String!]) { images(filter: $filter, hosts: $hosts) { nodes { id host { name } } } }`;

describe('filters agree with the engine, host by host', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, string[]>]> = [
    ['dangling=true', { dangling: true }, { dangling: ['true'] }],
    ['dangling=false', { dangling: false }, { dangling: ['false'] }],
    ['label key', { label: ['team'] }, { label: ['team'] }],
    ['label key=value', { label: ['team=red'] }, { label: ['team=red'] }],
    ['label value containing "="', { label: ['com.example.expr=a=b=c'] }, { label: ['com.example.expr=a=b=c'] }],
    ['label with empty value', { label: ['com.example.empty='] }, { label: ['com.example.empty='] }],
    ['two labels (all must match)', { label: ['tier=app', 'team=red'] }, { label: ['tier=app', 'team=red'] }],
    ['reference repo', { reference: ['fleet/app'] }, { reference: ['fleet/app'] }],
    ['reference repo:tag', { reference: ['fleet/app:1'] }, { reference: ['fleet/app:1'] }],
    ['reference glob on repo', { reference: ['fleet/*'] }, { reference: ['fleet/*'] }],
    ['reference glob on tag', { reference: ['*/*:latest'] }, { reference: ['*/*:latest'] }],
    ['reference with ? and []', { reference: ['fleet/[aw]??:?'] }, { reference: ['fleet/[aw]??:?'] }],
    ['reference with a registry', { reference: ['registry.local:5000/fleet/*'] }, { reference: ['registry.local:5000/fleet/*'] }],
    ['any of several references', { reference: ['fleet/base', 'imported/*'] }, { reference: ['fleet/base', 'imported/*'] }],
    ['before a tag', { before: 'fleet/web:latest' }, { before: ['fleet/web:latest'] }],
    ['since a tag', { since: 'fleet/base:1' }, { since: ['fleet/base:1'] }],
    ['before an image that only some hosts have', { before: 'fleet/app:2' }, { before: ['fleet/app:2'] }],
    ['dangling + label', { dangling: true, label: ['stale'] }, { dangling: ['true'], label: ['stale'] }],
    ['reference + since + label', { reference: ['fleet/*'], since: 'fleet/base:1', label: ['tier=app'] }, { reference: ['fleet/*'], since: ['fleet/base:1'], label: ['tier=app'] }],
    ['dangling=false + before', { dangling: false, before: 'fleet/tools:1' }, { dangling: ['false'], before: ['fleet/tools:1'] }],
  ];

  it.each(cases)('%s', async (_name, filter, engineFilter) => {
    const res = await t.query<{ images: { nodes: Node[] } }>(LIST, { filter });
    expect(res.status).toBe(200);
    let nonEmpty = 0;
    for (const engine of fleetEngines()) {
      const want = await engineIds(engine.socket, engineFilter);
      const got = res.data!.images.nodes.filter((n) => n.host.name === engine.name).map((n) => n.id).sort();
      const hostErrors = (res.errors ?? []).filter((e) => e.extensions?.host === engine.name);
      if (want === 'error') {
        // The engine refuses (no such image on that host): the host contributes nothing and says why.
        expect(got).toEqual([]);
        expect(hostErrors.map((e) => e.extensions?.code)).toEqual(['REFERENCE_NOT_FOUND']);
      } else {
        expect(got, `${engine.name}`).toEqual(want);
        expect(hostErrors).toEqual([]);
        nonEmpty += want.length;
      }
    }
    // Guard against a vacuous case: every filter above selects something somewhere.
    expect(nonEmpty).toBeGreaterThan(0);
  });

  it('before/since agree with the engine when the reference shares its second with other images', async () => {
    // The engine compares full-precision creation times; /images/json shows whole seconds only.
    const differs: string[] = [];
    let compared = 0;
    for (const engine of fleetEngines()) {
      const second = Date.parse(`${SAME_SECOND}Z`) / 1000;
      const batch = (await engineGet<Array<EngineImage & { Labels: Record<string, string> | null }>>(engine.socket, '/images/json')).filter(
        (i) => i.Labels?.[SAME_SECOND_LABEL] !== undefined,
      );
      expect(batch.map((i) => i.Created)).toEqual(SAME_SECOND_FRACTIONS.map(() => second));
      const refs = batch.flatMap((i) => [i.RepoTags![0]!, i.Id]);
      for (const key of ['before', 'since'] as const) {
        for (const ref of refs) {
          const want = await engineIds(engine.socket, { [key]: [ref] });
          const res = await t.query<{ images: { nodes: Node[] } }>(LIST, { filter: { [key]: ref }, hosts: [engine.name] });
          expect(res.errors).toBeUndefined();
          const got = res.data!.images.nodes.map((n) => n.id).sort();
          if (JSON.stringify(got) !== JSON.stringify(want)) differs.push(`${engine.name} ${key} ${ref}: got ${got.length}, engine ${want.length}`);
          compared++;
        }
      }
      // Both bounds inside the same second, as one filter.
      const [lo, hi] = [batch.find((i) => i.Labels![SAME_SECOND_LABEL] === '1')!, batch.find((i) => i.Labels![SAME_SECOND_LABEL] === '6')!];
      const res = await t.query<{ images: { nodes: Node[] } }>(LIST, { filter: { since: lo.Id, before: hi.Id }, hosts: [engine.name] });
      const want = await engineIds(engine.socket, { since: [lo.Id], before: [hi.Id] });
      expect(want).toHaveLength(4);
      expect(res.data!.images.nodes.map((n) => n.id).sort(), engine.name).toEqual(want);
    }
    expect(differs).toEqual([]);
    expect(compared).toBe(3 * 2 * 2 * SAME_SECOND_FRACTIONS.length);
  });

  it('createdBefore/createdAfter compare full-precision creation times (as Docker\'s until does)', async () => {
    for (const engine of fleetEngines()) {
      const list = await engineGet<EngineImage[]>(engine.socket, '/images/json');
      // The oracle: each image's own creation time as the engine reports it in full (RFC 3339, nanoseconds).
      const nanos = new Map<string, bigint>();
      for (const i of list) nanos.set(i.Id, toNanos((await engineGet<{ Created: string }>(engine.socket, `/images/${i.Id}/json`)).Created));
      for (const cut of [`${SAME_SECOND}Z`, `${SAME_SECOND}.123Z`, `${SAME_SECOND}.5Z`, `${SAME_SECOND}.999Z`]) {
        const cutNs = toNanos(cut);
        for (const [key, keep] of [
          ['createdBefore', (n: bigint) => n < cutNs],
          ['createdAfter', (n: bigint) => n > cutNs],
        ] as const) {
          const res = await t.query<{ images: { nodes: Node[] } }>(LIST, { filter: { [key]: cut }, hosts: [engine.name] });
          const want = list.filter((i) => keep(nanos.get(i.Id)!)).map((i) => i.Id).sort();
          expect(res.data!.images.nodes.map((n) => n.id).sort(), `${engine.name} ${key} ${cut}`).toEqual(want);
        }
      }
    }
  });

  it('reads full-precision creation times from image inspect, leaving out an image that is gone', async () => {
    const alpha = fleetEngines().find((e) => e.name === 'alpha')!;
    const batch = (await engineGet<Array<EngineImage & { Labels: Record<string, string> | null }>>(alpha.socket, '/images/json')).filter((i) => i.Labels?.[SAME_SECOND_LABEL] !== undefined);
    const gone = `sha256:${'0'.repeat(64)}`;
    const got = await t.source.imageCreatedNanos('alpha', [...batch.map((i) => i.Id), gone]);
    expect([...got.keys()].sort()).toEqual(batch.map((i) => i.Id).sort());
    for (const i of batch) expect(got.get(i.Id), i.Id).toBe(toNanos(`${SAME_SECOND}${SAME_SECOND_FRACTIONS[Number(i.Labels![SAME_SECOND_LABEL])]}Z`));
  });

  it('a reference list of the maximum length (100) agrees with the engine', async () => {
    const reference = [...Array.from({ length: 97 }, (_, i) => `nomatch/x${i}*`), 'fleet/app:*', 'same-second/*:[0-3]', 'imported/*'];
    const res = await t.query<{ images: { nodes: Node[] } }>(LIST, { filter: { reference } });
    expect(res.errors).toBeUndefined();
    let total = 0;
    for (const engine of fleetEngines()) {
      const want = await engineIds(engine.socket, { reference });
      expect(res.data!.images.nodes.filter((n) => n.host.name === engine.name).map((n) => n.id).sort(), engine.name).toEqual(want);
      total += want === 'error' ? 0 : want.length;
    }
    expect(total).toBeGreaterThan(12);
  });

  it('matches canonical and familiar reference forms alike', async () => {
    const ids = async (reference: string[]) =>
      (await t.query<{ images: { nodes: Node[] } }>(LIST, { filter: { reference } })).data!.images.nodes.map((n) => `${n.host.name}/${n.id}`).sort();
    const familiar = await ids(['fleet/app:1']);
    expect(familiar).toHaveLength(2);
    expect(await ids(['docker.io/fleet/app:1'])).toEqual(familiar);
    expect(await ids(['docker.io/fleet/*:1'])).toEqual(await ids(['fleet/*:1']));
  });

  it('filters by creation time, IDs and prefixes, and container use', async () => {
    const seed = fleetSeed();
    const hostsWith = async (filter: Record<string, unknown>) =>
      (await t.query<{ images: { nodes: Node[] } }>(LIST, { filter })).data!.images.nodes.map((n) => `${n.host.name}/${n.id}`).sort();
    const all: Array<{ host: string; image: EngineImage; used: boolean }> = [];
    for (const engine of fleetEngines()) {
      const images = await engineGet<EngineImage[]>(engine.socket, '/images/json');
      const containers = await engineGet<EngineContainer[]>(engine.socket, '/containers/json?all=1');
      for (const image of images) all.push({ host: engine.name, image, used: containers.some((c) => c.ImageID === image.Id) });
    }
    const pick = (f: (x: (typeof all)[number]) => boolean) => all.filter(f).map((x) => `${x.host}/${x.image.Id}`).sort();
    const cut = Date.parse('2024-04-01T00:00:00Z') / 1000;
    expect(await hostsWith({ createdBefore: '2024-04-01T00:00:00Z' })).toEqual(pick((x) => x.image.Created < cut));
    expect(await hostsWith({ createdAfter: '2024-04-01T00:00:00Z' })).toEqual(pick((x) => x.image.Created > cut));
    expect(await hostsWith({ inUse: true })).toEqual(pick((x) => x.used));
    expect(await hostsWith({ inUse: false })).toEqual(pick((x) => !x.used));
    expect(await hostsWith({ inUse: true })).toHaveLength(2);
    expect(await hostsWith({ ids: [seed.ids.app2, seed.ids.tools.slice(7, 20)] })).toEqual(pick((x) => [seed.ids.app2, seed.ids.tools].includes(x.image.Id)));
  });

  it('refuses invalid values with an error naming the argument', async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ reference: ['fleet/[app'] }, 'filter.reference'],
      [{ ids: ['not-hex!'] }, 'filter.ids'],
      [{ label: ['=x'] }, 'filter.label'],
      // Every list is bounded (a 20,000-pattern reference list once held the event loop for seconds).
      [{ reference: Array.from({ length: 101 }, (_, i) => `fleet/x${i}`) }, 'filter.reference'],
      [{ reference: Array.from({ length: 10_000 }, () => 'x') }, 'filter.reference'],
      [{ labelNot: Array.from({ length: 101 }, (_, i) => `k${i}`) }, 'filter.labelNot'],
      [{ ids: Array.from({ length: 101 }, (_, i) => i.toString(16)) }, 'filter.ids'],
    ];
    for (const [filter, argument] of bad) {
      const res = await t.query(LIST, { filter });
      expect(res.status).toBe(200);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    }
    const date = await t.query(LIST, { filter: { createdBefore: 'yesterday' } });
    expect(date.status).not.toBe(500);
    expect(date.errors?.[0]?.message).toMatch(/createdBefore/);
  });
});

describe('ordering and pagination', () => {
  const PAGE = `query($first: Int, $after: String, $last: Int, $before: String, $orderBy: [ImageOrder!]) {
    images(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id size created repoTags host { name } } }
    }
  }`;
  type PageResult = {
    images: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
      edges: Array<{ cursor: string; node: { id: string; size: number; created: number; repoTags: string[]; host: { name: string } } }>;
    };
  };
  const orders = [
    [{ field: 'CREATED', direction: 'DESC' }],
    [{ field: 'SIZE', direction: 'ASC' }],
    [{ field: 'REFERENCE', direction: 'ASC' }],
    [{ field: 'HOST', direction: 'DESC' }, { field: 'SIZE', direction: 'DESC' }],
    [{ field: 'ID', direction: 'ASC' }],
  ];
  it.each(orders.map((o) => [JSON.stringify(o), o] as const))('walks %s in pages of 4 and 1, each item exactly once, in order', async (_n, orderBy) => {
    const full = (await t.query<PageResult>(PAGE, { orderBy })).data!.images;
    const key = (e: PageResult['images']['edges'][number]) => `${e.node.host.name}/${e.node.id}`;
    for (const size of [4, 1]) {
      const walked: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 50; i++) {
        const page: PageResult['images'] = (await t.query<PageResult>(PAGE, { orderBy, first: size, after })).data!.images;
        walked.push(...page.edges.map(key));
        expect(page.totalCount).toBe(full.totalCount);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(walked).toEqual(full.edges.map(key));
    }
    // Backwards with last/before ends where forwards started.
    const back: string[] = [];
    let before: string | null = null;
    for (let i = 0; i < 50; i++) {
      const page: PageResult['images'] = (await t.query<PageResult>(PAGE, { orderBy, last: 5, before })).data!.images;
      back.unshift(...page.edges.map(key));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(back).toEqual(full.edges.map(key));
  });

  it('orders by the requested field', async () => {
    const sizes = (await t.query<PageResult>(PAGE, { orderBy: [{ field: 'SIZE', direction: 'DESC' }] })).data!.images.edges.map((e) => e.node.size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    const created = (await t.query<PageResult>(PAGE, {})).data!.images.edges.map((e) => e.node.created);
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it('refuses a forged cursor and a cursor from another ordering', async () => {
    const first = (await t.query<PageResult>(PAGE, { first: 2 })).data!.images;
    const forged = await t.query(PAGE, { first: 2, after: 'eyJ2IjoxfQ' });
    expect(forged.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_CURSOR', argument: 'after' });
    const stale = await t.query(PAGE, { first: 2, after: first.pageInfo.endCursor, orderBy: [{ field: 'SIZE', direction: 'ASC' }] });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'STALE_CURSOR', argument: 'after' });
  });
});

describe('groups, drift, containers and totals', () => {
  it('groups summaries by image ID with the right hosts', async () => {
    const seed = fleetSeed();
    const res = await t.query<{ imageGroups: { totalCount: number; nodes: Array<{ id: string; hostCount: number; hosts: Array<{ name: string }>; repoTags: string[]; images: Array<{ host: { name: string } }> }> } }>(
      `{ imageGroups(orderBy: [{ field: HOST_COUNT, direction: DESC }]) { totalCount nodes { id hostCount hosts { name } repoTags images { host { name } } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const groups = res.data!.imageGroups;
    const distinct = new Set<string>();
    for (const engine of fleetEngines()) (await engineGet<EngineImage[]>(engine.socket, '/images/json')).forEach((i) => distinct.add(i.Id));
    expect(groups.totalCount).toBe(distinct.size);
    const g = (id: string) => groups.nodes.find((n) => n.id === id)!;
    for (const key of Object.keys(seed.images) as Array<keyof typeof seed.images>) {
      const image = seed.images[key];
      expect(g(image.id).hosts.map((h) => h.name), key).toEqual(image.hosts);
      expect(g(image.id).hostCount).toBe(image.hosts.length);
      expect(g(image.id).images.map((i) => i.host.name)).toEqual(image.hosts);
    }
    expect(g(seed.ids.tools).repoTags).toEqual(['fleet/tools:1', 'registry.local:5000/fleet/tools:1']);
    expect(groups.nodes[0]!.id).toBe(seed.ids.base);
  });

  it('reports tags that point at different images on different hosts', async () => {
    const seed = fleetSeed();
    const res = await t.query<{ tagDrift: Array<{ tag: string; variants: Array<{ id: string; hosts: Array<{ name: string }> }> }> }>(
      `{ tagDrift { tag variants { id hosts { name } } } }`,
    );
    expect(res.data!.tagDrift).toEqual([
      {
        tag: 'fleet/web:latest',
        variants: [
          { id: seed.ids.web1, hosts: [{ name: 'alpha' }, { name: 'gamma' }] },
          { id: seed.ids.web2, hosts: [{ name: 'beta' }] },
        ].sort((a, b) => (a.id < b.id ? -1 : 1)),
      },
    ]);
  });

  it('lists the containers that use an image', async () => {
    const res = await t.query<{ images: { nodes: Array<{ id: string; host: { name: string }; inUse: boolean; usedBy: Array<{ id: string; names: string[]; state: string; image: string; imageId: string }> }> } }>(
      `{ images { nodes { id host { name } inUse usedBy { id names state image imageId } } } }`,
    );
    expect(res.errors).toBeUndefined();
    for (const engine of fleetEngines()) {
      const containers = await engineGet<EngineContainer[]>(engine.socket, '/containers/json?all=1');
      for (const n of res.data!.images.nodes.filter((x) => x.host.name === engine.name)) {
        const want = containers.filter((c) => c.ImageID === n.id);
        expect(n.usedBy.map((u) => u.id).sort()).toEqual(want.map((c) => c.Id).sort());
        expect(n.inUse).toBe(want.length > 0);
      }
    }
    const app1 = res.data!.images.nodes.find((n) => n.id === fleetSeed().ids.app1 && n.host.name === 'alpha')!;
    expect(app1.usedBy).toEqual([{ id: fleetSeed().containers.appAlpha.id, names: ['fg-alpha-app1'], state: 'created', image: 'fleet/app:1', imageId: fleetSeed().ids.app1 }]);
  });

  it('adds up totals exactly as the engines report them', async () => {
    const res = await t.query<{ fleet: Record<string, number>; hosts: Array<{ name: string; stats: Record<string, number> }> }>(`{
      fleet { hostCount hostsAnswered imageCount totalSize uniqueImageCount uniqueSize danglingCount danglingSize unusedCount unusedSize }
      hosts { name stats { imageCount totalSize danglingCount danglingSize unusedCount unusedSize uniqueSize } }
    }`);
    expect(res.errors).toBeUndefined();
    const expectFleet = { hostCount: 3, hostsAnswered: 3, imageCount: 0, totalSize: 0, uniqueImageCount: 0, uniqueSize: 0, danglingCount: 0, danglingSize: 0, unusedCount: 0, unusedSize: 0 };
    const unique = new Map<string, number>();
    for (const engine of fleetEngines()) {
      const images = await engineGet<EngineImage[]>(engine.socket, '/images/json');
      const containers = await engineGet<EngineContainer[]>(engine.socket, '/containers/json?all=1');
      const dangling = images.filter((i) => (i.RepoTags ?? []).every((x) => x === '<none>:<none>'));
      const unused = images.filter((i) => !containers.some((c) => c.ImageID === i.Id));
      const sum = (xs: EngineImage[]) => xs.reduce((s, i) => s + i.Size, 0);
      const host = { imageCount: images.length, totalSize: sum(images), danglingCount: dangling.length, danglingSize: sum(dangling), unusedCount: unused.length, unusedSize: sum(unused), uniqueSize: sum(images) };
      expect(res.data!.hosts.find((h) => h.name === engine.name)!.stats).toEqual(host);
      for (const k of ['imageCount', 'totalSize', 'danglingCount', 'danglingSize', 'unusedCount', 'unusedSize'] as const) expectFleet[k] += host[k];
      for (const i of images) unique.set(i.Id, Math.max(unique.get(i.Id) ?? 0, i.Size));
    }
    expectFleet.uniqueImageCount = unique.size;
    expectFleet.uniqueSize = [...unique.values()].reduce((a, b) => a + b, 0);
    expect(res.data!.fleet).toEqual(expectFleet);
    expect(expectFleet.uniqueSize).toBeLessThan(expectFleet.totalSize);
  });
});
