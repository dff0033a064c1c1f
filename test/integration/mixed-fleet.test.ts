/**
 * One fleet of every kind of engine hosts run today: the real dockerd 20.10 engines of the harness
 * (API 1.41), versioned fake engines for Docker 25 (1.44), 28 (1.51), 29.1 (1.52, refuses below 1.44,
 * containerd store) and 29.7 (1.55, classic and containerd stores), and Podman. One query over all of
 * them must equal, field by field, each engine's own /images/json at the version negotiated with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { engineImages, EVERY_FIELD, expectedSummaries, platformName } from '../helpers/engine-oracle.js';
import { startVersionedEngine, VERSIONED_ENGINES, type VersionedEngine } from '../helpers/fake-engines/server.js';
import { fleetEngines } from '../helpers/provided.js';
import { PODMAN_TIMEOUT_MS, seedPodman, startPodman, type PodmanHost } from '../helpers/podman.js';

interface Member {
  name: string;
  endpoint: string;
  /** The engine's own socket, for the oracle. */
  socket: string;
  /** The API version the gateway must speak with it. */
  expectedApi: string;
}

let fakes: VersionedEngine[] = [];
let fleet: Member[] = [];
let t: TestApp;

let podman: PodmanHost | undefined;

/** Podman's compat API (`podman system service`, Debian's podman 4.3: API 1.41), seeded from a harness engine. */
async function otherEngines(): Promise<Member[]> {
  podman = await startPodman('podman');
  const alpha = fleetEngines()[0]!;
  await seedPodman(podman, { socket: alpha.socket, refs: ['fleet/base:1', 'fleet/app:1'] });
  return [{ name: 'podman', endpoint: podman.endpoint, socket: podman.socket, expectedApi: '1.41' }];
}

const EXPECTED_API: Record<string, string> = { docker25: '1.44', docker28: '1.51', 'docker29-1': '1.52', 'docker29-classic': '1.55', docker29: '1.55' };

beforeAll(async () => {
  fakes = await Promise.all(VERSIONED_ENGINES.map((spec) => startVersionedEngine(spec)));
  fleet = [
    ...fleetEngines().map((e) => ({ name: e.name, endpoint: e.endpoint, socket: e.socket, expectedApi: '1.41' })),
    ...fakes.map((f) => ({ name: f.spec.name, endpoint: f.endpoint, socket: f.socket, expectedApi: EXPECTED_API[f.spec.name]! })),
    ...(await otherEngines()),
  ];
  // Podman 4.3's /version takes seconds (it asks dpkg for package versions): its longer deadline for all.
  t = createTestApp(fleet, { maxImages: 500, hostTimeoutMs: PODMAN_TIMEOUT_MS });
  // The first answer of each host teaches its version; this test is about what follows.
  const warm = await t.query(`{ hosts { apiVersion } }`);
  expect(warm.errors).toBeUndefined();
});

afterAll(async () => {
  t?.close();
  await Promise.all(fakes.map((f) => f.stop()));
  await podman?.destroy();
});

const byHostAndId = <T extends { host: { name: string }; id: string }>(list: T[]) =>
  [...list].sort((a, b) => (a.host.name + a.id < b.host.name + b.id ? -1 : a.host.name + a.id > b.host.name + b.id ? 1 : 0));

describe('a mixed fleet: Docker 20.10 to 29.7, classic and containerd stores', () => {
  it('negotiates each engine its own version, never below its minimum, and pins every later call to it', async () => {
    const res = await t.query<{ hosts: Array<{ name: string; apiVersion: string; engine: { apiVersion: string; version: string } }> }>(`{ hosts { name apiVersion engine { apiVersion version } } }`);
    expect(res.errors).toBeUndefined();
    expect(Object.fromEntries(res.data!.hosts.map((h) => [h.name, h.apiVersion]))).toEqual(Object.fromEntries(fleet.map((m) => [m.name, m.expectedApi])));
    for (const f of fakes) {
      // Only the very first call of all (before any answer) is unversioned.
      expect(f.rawPaths.slice(1).every((p) => p.startsWith(`/v${EXPECTED_API[f.spec.name]}/`)), f.spec.name).toBe(true);
      expect(res.data!.hosts.find((h) => h.name === f.spec.name)!.engine).toEqual({ apiVersion: f.spec.apiVersion, version: f.spec.release });
    }
  });

  it('one query over every engine: each summary, every field, equals its engine\'s own answer at the negotiated version', async () => {
    const before = new Map(fakes.map((f) => [f.spec.name, f.rawPaths.length]));
    const res = await t.query<{ images: { totalCount: number; nodes: Array<{ host: { name: string }; id: string }> } }>(`{ images { totalCount nodes { ${EVERY_FIELD} } } }`);
    expect(res.errors).toBeUndefined();
    const after = new Map(fakes.map((f) => [f.spec.name, f.rawPaths.length]));
    const expected = (await Promise.all(fleet.map((m) => expectedSummaries(m.socket, m.name, m.expectedApi)))).flat();
    expect(res.data!.images.totalCount).toBe(expected.length);
    expect(byHostAndId(res.data!.images.nodes)).toEqual(byHostAndId(expected));
    // Every kind of engine answered with something to compare: manifests, descriptors, counts, sentinels.
    const nodes = res.data!.images.nodes as unknown as Array<{ manifests: unknown[] | null; descriptor: unknown; host: { name: string } }>;
    expect(nodes.some((n) => n.host.name === 'docker29' && n.manifests?.length === 3)).toBe(true);
    expect(nodes.some((n) => n.host.name === 'alpha' && n.manifests === null)).toBe(true);

    // The engine calls this made: manifests asked once per host (no plain list besides), shared sizes from
    // the list on 1.42+, container lists only where the engine does not count (before 1.51).
    for (const f of fakes) {
      const calls = f.rawPaths.slice(before.get(f.spec.name), after.get(f.spec.name)).map((p) => p.replace(/^\/v[\d.]+/, '')).sort();
      const counted = Number(EXPECTED_API[f.spec.name]!.split('.')[1]) >= 51;
      expect(calls, f.spec.name).toEqual([...(counted ? [] : ['/containers/json?all=1']), '/images/json?manifests=1', '/images/json?shared-size=1']);
    }
  });

  it('asks no engine for manifests when the query does not need them', async () => {
    const before = new Map(fakes.map((f) => [f.spec.name, f.rawPaths.length]));
    const res = await t.query(`{ images { nodes { id size descriptor { digest } } } }`);
    expect(res.errors).toBeUndefined();
    for (const f of fakes) expect(f.rawPaths.slice(before.get(f.spec.name)).map((p) => p.replace(/^\/v[\d.]+/, ''))).toEqual(['/images/json']);
  });

  it('filters by platform across the fleet: images with an available image manifest of it, per its engine', async () => {
    for (const platform of ['linux/arm64', 'linux/amd64', 'linux/arm64/v8']) {
      const res = await t.query<{ images: { nodes: Array<{ host: { name: string }; id: string }> } }>(`query ($p: String) { images(filter: { platform: $p }) { nodes { host { name } id } } }`, { p: platform });
      expect(res.errors).toBeUndefined();
      const [os, arch, variant] = platform.split('/');
      const expected = (
        await Promise.all(
          fleet.map(async (m) =>
            (await engineImages(m.socket, m.expectedApi))
              .filter((i) =>
                (i.Manifests ?? []).some((x) => {
                  const p = x.ImageData?.Platform;
                  return x.Kind === 'image' && x.Available && p !== undefined && p.os === os && p.architecture === arch && (!variant || p.variant === variant);
                }),
              )
              .map((i) => ({ host: { name: m.name }, id: i.Id })),
          ),
        )
      ).flat();
      expect(byHostAndId(res.data!.images.nodes), platform).toEqual(byHostAndId(expected));
      expect(expected.length, platform).toBeGreaterThan(0);
    }
    const bad = await t.query(`{ images(filter: { platform: "arm64" }) { totalCount } }`);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter.platform' });
  });

  it('groups the same image on classic-store and containerd-store hosts where their repo digests agree', async () => {
    const res = await t.query<{ imageGroups: { nodes: Array<{ id: string; ids: string[]; images: Array<{ host: { name: string }; id: string }> }> } }>(
      `{ imageGroups { nodes { id ids images { host { name } id } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const answers = await Promise.all(fleet.map(async (m) => ({ host: m.name, list: await engineImages(m.socket, m.expectedApi) })));
    // The multi-platform image, by its repo digest on every engine that holds it.
    const digest = answers.flatMap((a) => a.list.flatMap((i) => i.RepoDigests ?? [])).find((d) => d.startsWith('registry.test:5000/fleet/multi@'))!;
    const holders = answers.flatMap((a) => a.list.filter((i) => (i.RepoDigests ?? []).includes(digest)).map((i) => ({ host: { name: a.host }, id: i.Id })));
    expect(new Set(holders.map((h) => h.id)).size).toBe(2);
    const group = res.data!.imageGroups.nodes.find((g) => g.images.some((i) => i.id === holders[0]!.id))!;
    expect(byHostAndId(group.images)).toEqual(byHostAndId(holders));
    expect(group.ids).toEqual([...new Set(holders.map((h) => h.id))].sort());
    expect(group.id).toBe(group.ids[0]);
    // Without a repo digest the two stores' IDs cannot be matched: a locally built image stays two groups.
    const single = answers.flatMap((a) => a.list.filter((i) => (i.RepoTags ?? []).includes('fleet/single:2')).map((i) => i.Id));
    expect(new Set(single).size).toBe(2);
    for (const id of new Set(single)) expect(res.data!.imageGroups.nodes.find((g) => g.ids.includes(id))!.ids).toEqual([id]);
  });

  it('platforms lists every image platform of an image, available or not', async () => {
    const res = await t.query<{ images: { nodes: Array<{ platforms: string[] | null; manifests: Array<{ available: boolean; platform: { os: string; architecture: string; variant: string | null } | null }> | null }> } }>(
      `{ images(hosts: ["docker29"], filter: { reference: ["registry.test:5000/fleet/multi"] }) { nodes { platforms manifests { available platform { os architecture variant } } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const [node] = res.data!.images.nodes;
    expect(node!.platforms).toEqual(node!.manifests!.flatMap((m) => (m.platform ? [platformName(m.platform)] : [])).sort());
    expect(node!.manifests!.some((m) => m.platform && !m.available)).toBe(true);
  });
});
