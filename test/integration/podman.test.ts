/**
 * Issue 13 against a real Podman: one fleet of a harness dockerd (20.10, shared, read only) and a private Podman 4.3
 * serving the compat API (test/helpers/podman.ts). One query over both; every ImageSummary field checked against
 * each engine's own /images/json (and, for what an engine does not calculate there, its /system/df); filters
 * checked against each engine's own filters= answer where the two engines mean the same thing.
 */
import type { Summary } from '../helpers/engine-oracle.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { engineGet, type EngineImageSummary } from '../../src/dev/engine-api.js';
import { PODMAN_TIMEOUT_MS, startPodman, seedPodman, type PodmanHost, type PodmanSeed } from '../helpers/podman.js';
import { fleetEngine } from '../helpers/provided.js';

const FULL = `{
  images {
    totalCount
    nodes { id parentId repoTags repoDigests created createdAt size sharedSize virtualSize labels { key value } containers host { name } }
  }
  hosts { name status apiVersion imageCount engine { version apiVersion minApiVersion os arch kernelVersion } }
}`;

let pod: PodmanHost;
let seed: PodmanSeed;
let t: TestApp;
const alpha = () => fleetEngine('alpha');
const hosts = () => [
  { name: 'alpha', socket: alpha().socket },
  { name: 'pod', socket: pod.socket },
];

beforeAll(async () => {
  pod = await startPodman('pod');
  seed = await seedPodman(pod, { socket: alpha().socket, refs: ['fleet/base:1', 'fleet/app:1', 'fleet/web:latest'] });
  // Podman 4.3's /version takes seconds (it asks dpkg for its components' package versions): a longer deadline.
  t = createTestApp(
    [
      { name: 'alpha', endpoint: alpha().endpoint },
      { name: 'pod', endpoint: pod.endpoint },
    ],
    { hostTimeoutMs: PODMAN_TIMEOUT_MS },
  );
});

afterAll(async () => {
  t?.close();
  await pod?.destroy();
});

const sortedLabels = (l: Record<string, string> | null) =>
  Object.entries(l ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, value]) => ({ key, value }));

describe('a fleet of dockerd and Podman', () => {
  it('answers one query over both, every field equal to what each engine itself says', async () => {
    const res = await t.query<{ images: { totalCount: number; nodes: Summary[] }; hosts: Array<Record<string, unknown>> }>(FULL);
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.images.nodes;
    let expected = 0;
    for (const h of hosts()) {
      const raw = await engineGet<EngineImageSummary[]>(h.socket, '/images/json');
      const df = await engineGet<{ Images: Array<{ Id: string; SharedSize: number; Containers: number }> }>(h.socket, '/system/df');
      const mine = nodes.filter((n) => n.host.name === h.name);
      expect(mine.map((n) => n.id).sort()).toEqual(raw.map((r) => r.Id).sort());
      expected += raw.length;
      for (const r of raw) {
        const n = mine.find((m) => m.id === r.Id)!;
        // Podman's /system/df names images by bare hex IDs, one entry per tag.
        const d = df.Images.find((x) => x.Id === r.Id || `sha256:${x.Id}` === r.Id)!;
        expect(n.parentId).toBe(r.ParentId === '' ? null : r.ParentId);
        expect([...n.repoTags].sort()).toEqual((r.RepoTags ?? []).filter((x) => x !== '<none>:<none>').sort());
        expect([...n.repoDigests].sort()).toEqual((r.RepoDigests ?? []).filter((x) => x !== '<none>@<none>').sort());
        expect(n.created).toBe(r.Created);
        expect(n.createdAt).toBe(new Date(r.Created * 1000).toISOString());
        expect(n.size).toBe(r.Size);
        expect(n.virtualSize).toBe(r.VirtualSize ?? r.Size);
        expect(n.labels).toEqual(sortedLabels(r.Labels));
        // What the list calculates is taken as is (Podman: both); what it leaves at -1 (Docker 20.10) comes from /system/df.
        expect(n.sharedSize).toBe(r.SharedSize >= 0 ? r.SharedSize : d.SharedSize < 0 ? null : d.SharedSize);
        expect(n.containers).toBe(r.Containers >= 0 ? r.Containers : d.Containers);
      }
    }
    expect(res.data!.images.totalCount).toBe(expected);
    expect(nodes).toHaveLength(expected);

    const podVersion = await engineGet<{ Version: string; ApiVersion: string; MinAPIVersion: string; Os: string; Arch: string; KernelVersion: string }>(pod.socket, '/version');
    expect(res.data!.hosts.find((h) => h['name'] === 'pod')).toEqual({
      name: 'pod',
      status: 'UP',
      apiVersion: podVersion.ApiVersion,
      imageCount: (await engineGet<unknown[]>(pod.socket, '/images/json')).length,
      engine: { version: podVersion.Version, apiVersion: podVersion.ApiVersion, minApiVersion: podVersion.MinAPIVersion, os: podVersion.Os, arch: podVersion.Arch, kernelVersion: podVersion.KernelVersion },
    });
  });

  it('shows Podman as Podman lists it: localhost/ names, digests, its own counts, the dockerd images under the same IDs', async () => {
    const res = await t.query<{ images: { nodes: Array<Summary & { inUse: boolean; usedBy: Array<{ id: string }> }> } }>(
      `{ images { nodes { id repoTags repoDigests size labels { key value } containers inUse usedBy { id } host { name } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const on = (host: string, id: string) => res.data!.images.nodes.find((n) => n.host.name === host && n.id === id);
    const app = on('pod', seed.ids.app)!;
    expect([...app.repoTags].sort()).toEqual(['localhost/pod/app:1', 'localhost/pod/app:latest']);
    expect(app.repoDigests).toHaveLength(1);
    expect(app.labels).toContainEqual({ key: 'com.example.expr', value: 'a=b=c' });
    expect(app.labels).toContainEqual({ key: 'com.example.empty', value: '' });
    expect(app.containers).toBe(1);
    expect(on('pod', seed.ids.app)).toMatchObject({ inUse: true, usedBy: [{ id: seed.containerId }] });
    expect(on('pod', seed.ids.dangling)).toMatchObject({ repoTags: [], repoDigests: [], containers: 0 });
    expect(on('pod', seed.ids.imported)!.repoTags).toEqual(['docker.io/pod/imported:latest']);
    // The image copied from the dockerd host has the same ID on both.
    const base = (await engineGet<{ Id: string }>(alpha().socket, '/images/fleet/base:1/json')).Id;
    expect(on('alpha', base)!.repoTags).toEqual(['fleet/base:1']);
    expect(on('pod', base)!.repoTags).toEqual(['localhost/fleet/base:1']);
    // dockerd counts a layer's file bytes, Podman its tar's bytes: one image, two sizes; a group takes the larger.
    const sizes = [on('alpha', base)!.size, on('pod', base)!.size];
    expect(sizes[1]).toBe((await engineGet<{ Size: number }>(pod.socket, `/images/${base}/json`)).Size);
    const groups = await t.query<{ imageGroups: { nodes: Array<{ id: string; size: number; hostCount: number }> } }>(`{ imageGroups { nodes { id size hostCount } } }`);
    expect(groups.data!.imageGroups.nodes.find((g) => g.id === base)).toEqual({ id: base, size: Math.max(...sizes), hostCount: 2 });
  });

  // Filters on which both engines agree: each host's answer must equal that engine's own filters= answer. (Podman's
  // own reference filter also matches a pattern without the registry, "fleet/web" -> localhost/fleet/web; fleetgraph
  // keeps Docker's meaning on every host. Podman 4.3 answers nothing for two label filters at once.)
  const FILTERS: Array<[string, Record<string, unknown>, Record<string, string[]>]> = [
    ['label key', { label: ['tier'] }, { label: ['tier'] }],
    ['label key=value', { label: ['tier=base'] }, { label: ['tier=base'] }],
    ['label with an empty value', { label: ['com.example.empty='] }, { label: ['com.example.empty='] }],
    ['dangling: true', { dangling: true }, { dangling: ['true'] }],
    ['dangling: false', { dangling: false }, { dangling: ['false'] }],
    ['reference, full name glob', { reference: ['localhost/fleet/*'] }, { reference: ['localhost/fleet/*'] }],
    ['reference, tag glob', { reference: ['localhost/*/*:1'] }, { reference: ['localhost/*/*:1'] }],
    ['reference, docker.io name', { reference: ['docker.io/pod/imported'] }, { reference: ['docker.io/pod/imported'] }],
    ['reference with dangling: false', { reference: ['localhost/pod/app:latest'], dangling: false }, { reference: ['localhost/pod/app:latest'], dangling: ['false'] }],
  ];

  it.each(FILTERS)('filter %s: each host answers as its own engine does', async (_what, filter, engineFilter) => {
    const res = await t.query<{ images: { nodes: Array<{ id: string; host: { name: string } }> } }>(
      `query ($f: ImageFilter) { images(filter: $f) { nodes { id host { name } } } }`,
      { f: filter },
    );
    expect(res.errors).toBeUndefined();
    let total = 0;
    for (const h of hosts()) {
      const own = await engineGet<Array<{ Id: string }>>(h.socket, `/images/json?filters=${encodeURIComponent(JSON.stringify(engineFilter))}`);
      const mine = res.data!.images.nodes.filter((n) => n.host.name === h.name).map((n) => n.id);
      expect(mine.sort(), h.name).toEqual(own.map((i) => i.Id).sort());
      total += own.length;
    }
    expect(total).toBeGreaterThan(0);
  });
});
