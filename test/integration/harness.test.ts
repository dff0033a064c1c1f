/**
 * Checks the test harness itself: the three private engines started by
 * test/helpers/global-setup.ts hold exactly the seeded fleet, as seen through
 * the raw Engine API (the oracle), with literal expectations so a broken
 * seeding (or a broken seed description) fails here.
 */
import { describe, expect, it } from 'vitest';
import { engineGet, engineRequest, type EngineImageSummary } from '../../src/dev/engine-api.js';
import { buildImageTar } from '../../src/dev/images.js';
import { SAME_SECOND, SAME_SECOND_FRACTIONS, SAME_SECOND_LABEL, sameSecondSpecs } from '../helpers/same-second.js';
import { HOST_NAMES, type HostName } from '../helpers/fleet.js';
import { fleetEngine, fleetEngines, fleetSeed } from '../helpers/provided.js';

type ImageSummary = EngineImageSummary;

interface ImageInspect {
  Id: string;
  RepoTags: string[];
  Created: string;
  Config: { Labels: Record<string, string> | null; Cmd: string[] | null };
  RootFS: { Type: string; Layers: string[] };
}

interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  State: string;
  Status: string;
}

const images = (h: HostName) => engineGet<ImageSummary[]>(fleetEngine(h).socket, '/images/json');
const unix = (iso: string) => Date.parse(iso) / 1000;

/** tag -> image id, from an /images/json answer */
function tagMap(list: ImageSummary[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of list) for (const t of i.RepoTags ?? []) if (t !== '<none>:<none>') out[t] = i.Id;
  return out;
}

describe('engines', () => {
  it('three engines alpha, beta, gamma answer /_ping with API 1.41', async () => {
    const engines = fleetEngines();
    expect(engines.map((e) => e.name)).toEqual(['alpha', 'beta', 'gamma']);
    for (const e of engines) {
      expect(e.endpoint).toBe(`unix://${e.socket}`);
      expect(e.socket).toMatch(/fleetgraph-engine-[^/]+\/docker\.sock$/);
      const res = await engineRequest(e.socket, 'GET', '/_ping');
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('OK');
      expect(res.headers['api-version']).toBe('1.41');
    }
  });

  it('are distinct daemons (own ID, own data root, own label)', async () => {
    const infos = await Promise.all(
      fleetEngines().map((e) =>
        engineGet<{ ID: string; DockerRootDir: string; Labels: string[]; Driver: string }>(e.socket, '/info'),
      ),
    );
    expect(new Set(infos.map((i) => i.ID)).size).toBe(3);
    expect(new Set(infos.map((i) => i.DockerRootDir)).size).toBe(3);
    infos.forEach((info, n) => {
      expect(info.Driver).toBe('vfs');
      expect(info.Labels).toContain(`fleetgraph.engine=${HOST_NAMES[n]}`);
      expect(info.DockerRootDir.startsWith(fleetEngines()[n]!.dir)).toBe(true);
    });
  });

  it('engineGet throws with the status on a non-2xx answer', async () => {
    await expect(engineGet(fleetEngine('alpha').socket, '/images/no/such:image/json')).rejects.toThrow(/404/);
  });
});

describe('seeded images', () => {
  it('each engine lists exactly the seeded images, newest first, with their tags', async () => {
    const seed = fleetSeed();
    const expected: Record<HostName, Record<string, string>> = {
      alpha: {
        'fleet/base:1': seed.ids.base,
        'fleet/app:1': seed.ids.app1,
        'fleet/app:2': seed.ids.app2,
        'fleet/web:latest': seed.ids.web1,
      },
      beta: {
        'fleet/base:1': seed.ids.base,
        'fleet/app:1': seed.ids.app1,
        'fleet/web:latest': seed.ids.web2,
        'fleet/tools:1': seed.ids.tools,
        'registry.local:5000/fleet/tools:1': seed.ids.tools,
      },
      gamma: {
        'fleet/base:1': seed.ids.base,
        'fleet/web:latest': seed.ids.web1,
        'imported/thing:v1': seed.ids.imported,
      },
    };
    const expectedCount: Record<HostName, number> = { alpha: 5, beta: 4, gamma: 4 };
    for (const h of HOST_NAMES) {
      // The same-second batch is checked on its own below.
      const list = (await images(h)).filter((i) => i.Labels?.[SAME_SECOND_LABEL] === undefined);
      expect(list, h).toHaveLength(expectedCount[h]);
      expect(list.map((i) => i.Id), h).toEqual(seed.hosts[h].images.map((k) => seed.ids[k]));
      expect(tagMap(list), h).toEqual(expected[h]);
      const created = list.map((i) => i.Created);
      expect([...created].sort((a, b) => b - a), `${h} newest first`).toEqual(created);
    }
  });

  it('each engine also holds its same-second batch: one Created second, the specified nanoseconds', async () => {
    for (const h of HOST_NAMES) {
      const { ids } = await buildImageTar(sameSecondSpecs(h));
      const batch = (await images(h)).filter((i) => i.Labels?.[SAME_SECOND_LABEL] !== undefined);
      expect(batch.map((i) => i.Id).sort(), h).toEqual([...ids].sort());
      expect(new Set(batch.map((i) => i.Created)), h).toEqual(new Set([unix(`${SAME_SECOND}Z`)]));
      for (const [n, id] of ids.entries()) {
        const ins = await engineGet<ImageInspect>(fleetEngine(h).socket, `/images/${id}/json`);
        expect(ins.RepoTags).toEqual([`same-second/${h}:${n}`]);
        // Go's RFC3339Nano drops trailing zeros (and the dot of a whole second).
        expect(ins.Created).toBe(`${SAME_SECOND}${SAME_SECOND_FRACTIONS[n]!.replace(/\.?0+$/, '')}Z`);
      }
    }
  });

  it('nine distinct image IDs, all sha256 of their config', async () => {
    const seed = fleetSeed();
    const ids = Object.values(seed.ids);
    expect(ids).toHaveLength(9);
    expect(new Set(ids).size).toBe(9);
    for (const id of ids) expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('fleet/base:1 has the same image ID on all three hosts', async () => {
    const seed = fleetSeed();
    const baseIds = await Promise.all(
      HOST_NAMES.map(async (h) => (await engineGet<ImageInspect>(fleetEngine(h).socket, '/images/fleet/base:1/json')).Id),
    );
    expect(baseIds).toEqual([seed.ids.base, seed.ids.base, seed.ids.base]);
    expect(seed.images.base.hosts).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('images made from the same spec get the same ID in every build (deterministic)', async () => {
    const spec = {
      layers: [{ files: { 'etc/fleet/base.txt': 'fleet base layer\n', 'etc/os-release': 'ID=fleet\nVERSION_ID=1\n' } }],
      created: '2024-01-15T08:00:00Z',
      labels: { tier: 'base' },
      tags: ['fleet/base:1'],
    };
    const a = await buildImageTar([spec]);
    const b = await buildImageTar([spec]);
    expect(a.tar.equals(b.tar)).toBe(true);
    expect(a.ids).toEqual([fleetSeed().ids.base]);
  });

  it('shares one base layer between base, app, web, tools and the dangling image on alpha', async () => {
    const seed = fleetSeed();
    const base = await engineGet<ImageInspect>(fleetEngine('alpha').socket, `/images/${seed.ids.base}/json`);
    expect(base.RootFS.Layers).toEqual([seed.baseLayer]);
    for (const [h, k] of [
      ['alpha', 'app1'],
      ['alpha', 'app2'],
      ['alpha', 'web1'],
      ['beta', 'web2'],
      ['beta', 'tools'],
      ['alpha', 'danglingAlpha'],
    ] as const) {
      const ins = await engineGet<ImageInspect>(fleetEngine(h).socket, `/images/${seed.ids[k]}/json`);
      expect(ins.RootFS.Layers, k).toHaveLength(2);
      expect(ins.RootFS.Layers[0], k).toBe(seed.baseLayer);
    }
  });

  it('tag drift: fleet/web:latest is W1 on alpha and gamma, W2 on beta', async () => {
    const seed = fleetSeed();
    expect(seed.ids.web1).not.toBe(seed.ids.web2);
    const web = await Promise.all(
      HOST_NAMES.map(async (h) => (await engineGet<ImageInspect>(fleetEngine(h).socket, '/images/fleet/web:latest/json')).Id),
    );
    expect(web).toEqual([seed.ids.web1, seed.ids.web2, seed.ids.web1]);
  });

  it('the dangling images are reported as <none>:<none> by the engine', async () => {
    const seed = fleetSeed();
    for (const [h, k] of [
      ['alpha', 'danglingAlpha'],
      ['gamma', 'danglingGamma'],
    ] as const) {
      const list = await images(h);
      const d = list.find((i) => i.Id === seed.ids[k]);
      expect(d, `${h} ${k}`).toBeDefined();
      expect(d!.RepoTags).toEqual(['<none>:<none>']);
      expect(d!.RepoDigests).toEqual(['<none>@<none>']);
      const dangling = await engineGet<ImageSummary[]>(
        fleetEngine(h).socket,
        `/images/json?filters=${encodeURIComponent(JSON.stringify({ dangling: ['true'] }))}`,
      );
      expect(dangling.map((i) => i.Id)).toEqual([seed.ids[k]]);
    }
    expect((await images('beta')).some((i) => i.RepoTags?.includes('<none>:<none>'))).toBe(false);
  });

  it('created times are the seeded 2024 ones, one second resolution, all distinct', async () => {
    const seed = fleetSeed();
    const want: Record<string, string> = {
      base: '2024-01-15T08:00:00Z',
      app1: '2024-02-20T09:30:15Z',
      app2: '2024-03-25T11:45:30Z',
      web1: '2024-04-10T13:00:45Z',
      web2: '2024-05-05T14:15:00Z',
      tools: '2024-06-18T16:20:10Z',
      danglingAlpha: '2024-07-22T18:05:55Z',
      danglingGamma: '2024-09-09T21:10:05Z',
    };
    for (const [k, iso] of Object.entries(want)) {
      const img = seed.images[k as keyof typeof seed.images];
      expect(img.created, k).toBe(iso);
      expect(img.createdUnix, k).toBe(unix(iso));
      for (const h of img.hosts) {
        const got = (await images(h)).find((i) => i.Id === img.id);
        expect(got?.Created, `${h} ${k}`).toBe(unix(iso));
      }
    }
    // the imported image is stamped by the engine at import time: after all of the above
    expect(seed.images.imported.createdUnix).toBeGreaterThan(unix('2024-12-31T23:59:59Z'));
    const all = Object.values(seed.images).map((i) => i.createdUnix);
    expect(new Set(all).size).toBe(all.length);
  });

  it('labels, including a value with "=" and an empty value', async () => {
    const seed = fleetSeed();
    const tools = await engineGet<ImageInspect>(fleetEngine('beta').socket, '/images/fleet/tools:1/json');
    expect(tools.Config.Labels).toEqual({
      tier: 'tools',
      team: 'red',
      'com.example.expr': 'a=b=c',
      'com.example.empty': '',
    });
    expect(tools.Config.Cmd).toEqual(['/bin/true']);
    const list = await images('alpha');
    expect(list.find((i) => i.Id === seed.ids.app1)?.Labels).toEqual({ tier: 'app', team: 'red' });
    expect(list.find((i) => i.Id === seed.ids.app2)?.Labels).toEqual({ tier: 'app', team: 'blue' });
    expect(list.find((i) => i.Id === seed.ids.base)?.Labels).toEqual({ tier: 'base' });
  });

  it('the multi-tagged tools image on beta has exactly its two tags (temporary tag removed)', async () => {
    const seed = fleetSeed();
    const tools = (await images('beta')).find((i) => i.Id === seed.ids.tools);
    expect([...(tools?.RepoTags ?? [])].sort()).toEqual(['fleet/tools:1', 'registry.local:5000/fleet/tools:1']);
    const gone = await engineRequest(fleetEngine('beta').socket, 'GET', '/images/fleet/tools:tmp/json');
    expect(gone.status).toBe(404);
  });

  it('gamma holds the imported image with its label', async () => {
    const seed = fleetSeed();
    const imp = await engineGet<ImageInspect>(fleetEngine('gamma').socket, '/images/imported/thing:v1/json');
    expect(imp.Id).toBe(seed.ids.imported);
    expect(imp.Config.Labels).toEqual({ origin: 'import' });
    expect(imp.RepoTags).toEqual(['imported/thing:v1']);
    expect(imp.RootFS.Layers).toHaveLength(1);
    expect(seed.images.imported.hosts).toEqual(['gamma']);
  });
});

describe('seeded containers', () => {
  it('a never-started container on alpha (fleet/app:1) and one on beta (fleet/base:1)', async () => {
    const seed = fleetSeed();
    const want: Record<HostName, Array<{ name: string; image: string; imageId: string }>> = {
      alpha: [{ name: '/fg-alpha-app1', image: 'fleet/app:1', imageId: seed.ids.app1 }],
      beta: [{ name: '/fg-beta-base', image: 'fleet/base:1', imageId: seed.ids.base }],
      gamma: [],
    };
    for (const h of HOST_NAMES) {
      const cs = await engineGet<ContainerSummary[]>(fleetEngine(h).socket, '/containers/json?all=1');
      expect(
        cs.map((c) => ({ name: c.Names[0], image: c.Image, imageId: c.ImageID, state: c.State })),
        h,
      ).toEqual(want[h].map((w) => ({ ...w, state: 'created' })));
      const running = await engineGet<ContainerSummary[]>(fleetEngine(h).socket, '/containers/json');
      expect(running, `${h} running`).toEqual([]);
    }
    expect(seed.containers.appAlpha).toMatchObject({ host: 'alpha', name: 'fg-alpha-app1', state: 'created' });
    expect(seed.containers.baseBeta).toMatchObject({ host: 'beta', name: 'fg-beta-base', state: 'created' });
    const c = await engineGet<{ Id: string; State: { Status: string } }>(
      fleetEngine('alpha').socket,
      `/containers/${seed.containers.appAlpha.id}/json`,
    );
    expect(c.State.Status).toBe('created');
  });
});
