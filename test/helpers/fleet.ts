/**
 * The standard seeded fleet for integration tests: three private engines named
 * alpha, beta and gamma (see engine.ts), filled by {@link seedFleet}.
 *
 * Images (all made locally; created times are distinct, in 2024, on different
 * days, whole seconds; `/images/json` reports `Created` as unix seconds):
 *
 * key            created (UTC)          labels                                              layers        tags                                           hosts
 * -------------  ---------------------  --------------------------------------------------  ------------  ---------------------------------------------  ------------------
 * base           2024-01-15T08:00:00Z   tier=base                                           B             fleet/base:1                                    alpha beta gamma
 * app1           2024-02-20T09:30:15Z   tier=app team=red                                   B + app1      fleet/app:1                                     alpha beta
 * app2           2024-03-25T11:45:30Z   tier=app team=blue                                  B + app2      fleet/app:2                                     alpha
 * web1           2024-04-10T13:00:45Z   tier=web version=1                                  B + web1      fleet/web:latest                                alpha gamma
 * web2           2024-05-05T14:15:00Z   tier=web version=2                                  B + web2      fleet/web:latest  (tag drift: W2 on beta)       beta
 * tools          2024-06-18T16:20:10Z   tier=tools team=red com.example.expr=a=b=c          B + tools     fleet/tools:1, registry.local:5000/fleet/tools:1 beta
 *                                       com.example.empty=""  (value contains '=' / empty)
 * danglingAlpha  2024-07-22T18:05:55Z   stale=true                                          B + dA        (none: <none>:<none>)                           alpha
 * danglingGamma  2024-09-09T21:10:05Z   (no labels)                                         dG            (none: <none>:<none>)                           gamma
 * imported       time of seeding (now)  origin=import                                       1 (imported)  imported/thing:v1                               gamma
 *
 * B is one shared base layer (same diff_id everywhere). Image IDs of all but
 * `imported` are deterministic (same in every run); `imported` is made with
 * POST /images/create?fromSrc=- so its `created` is the engine's clock at
 * seeding time (with sub-second precision in inspect) and its ID changes per run.
 *
 * How it is made: alpha and beta and gamma get `docker save`-format tarballs
 * (POST /images/load); beta's second tools tag is added with the tag endpoint,
 * and a temporary third tag `fleet/tools:tmp` is added by the load and removed
 * again with DELETE /images/fleet/tools:tmp?noprune=1; gamma gets fleet/base:1
 * by GET /images/get from alpha + load (so its ID equality is exercised);
 * gamma's `imported/thing:v1` comes from an import.
 *
 * Containers (created, never started, NetworkMode none):
 *   appAlpha  "fg-alpha-app1"  on alpha, image fleet/app:1   (State "created")
 *   baseBeta  "fg-beta-base"   on beta,  image fleet/base:1  (State "created")
 *
 * Per host: alpha 5 images (base app1 app2 web1 danglingAlpha; 4 tags + 1 untagged);
 * beta 4 images (base app1 web2 tools); gamma 4 images (base web1 danglingGamma imported).
 * Fleet-wide: 9 distinct image IDs, 13 (host, image) pairs.
 */
import type { Engine } from './engine.js';
import { engineGet } from './engine-api.js';
import {
  buildImageTar,
  createContainer,
  importImage,
  loadImages,
  saveAndLoad,
  seedSameSecond,
  tagImage,
  untagImage,
  type ImageSpec,
  type LayerSpec,
} from './images.js';

export const HOST_NAMES = ['alpha', 'beta', 'gamma'] as const;
export type HostName = (typeof HOST_NAMES)[number];

export const IMAGE_KEYS = [
  'base',
  'app1',
  'app2',
  'web1',
  'web2',
  'tools',
  'danglingAlpha',
  'danglingGamma',
  'imported',
] as const;
export type ImageKey = (typeof IMAGE_KEYS)[number];

export type ContainerKey = 'appAlpha' | 'baseBeta';

export interface SeededImage {
  key: ImageKey;
  /** "sha256:…" */
  id: string;
  /** ISO; whole seconds ("…Z") for the loaded images, the engine's own value for `imported` */
  created: string;
  /** `Created` as /images/json reports it (unix seconds) */
  createdUnix: number;
  labels: Record<string, string>;
  /** rootfs diff_ids ("sha256:…") */
  diffIds: string[];
  /** hosts holding this image, in HOST_NAMES order */
  hosts: HostName[];
  /** RepoTags per host holding it, sorted; [] for an untagged image (the engine reports ["<none>:<none>"]) */
  tagsByHost: Partial<Record<HostName, string[]>>;
}

export interface SeededContainer {
  key: ContainerKey;
  id: string;
  /** without the leading "/" */
  name: string;
  host: HostName;
  /** the image reference the container was created from */
  image: string;
  imageId: string;
  state: 'created';
}

export interface SeededHost {
  name: HostName;
  /** image keys on this host, newest first (the engine's /images/json order) */
  images: ImageKey[];
  /** "repo:tag" -> image key, for every tag on this host */
  tags: Record<string, ImageKey>;
  containers: ContainerKey[];
}

export interface FleetSeed {
  ids: Record<ImageKey, string>;
  images: Record<ImageKey, SeededImage>;
  hosts: Record<HostName, SeededHost>;
  containers: Record<ContainerKey, SeededContainer>;
  /** diff_id of the base layer shared by base, app1, app2, web1, web2, tools, danglingAlpha */
  baseLayer: string;
}

// ------------------------------------------------------------------ content

const L: Record<'base' | 'app1' | 'app2' | 'web1' | 'web2' | 'tools' | 'dA' | 'dG', LayerSpec> = {
  base: { files: { 'etc/fleet/base.txt': 'fleet base layer\n', 'etc/os-release': 'ID=fleet\nVERSION_ID=1\n' } },
  app1: { files: { 'app/VERSION': '1\n', 'app/main.txt': 'app v1\n' } },
  app2: { files: { 'app/VERSION': '2\n', 'app/main.txt': 'app v2, now with more\n' } },
  web1: { files: { 'srv/www/index.html': '<h1>web 1</h1>\n' } },
  web2: { files: { 'srv/www/index.html': '<h1>web 2</h1>\n', 'srv/www/new.html': '<p>new</p>\n' } },
  tools: { files: { 'usr/local/bin/fleet-tool': '#!/bin/sh\necho fleet tool\n' } },
  dA: { files: { 'app/VERSION': '0\n', 'app/main.txt': 'stale build\n' } },
  dG: { files: { 'scratch/leftover.txt': 'dangling on gamma\n' } },
};

type LoadedKey = Exclude<ImageKey, 'imported'>;

const SPECS: Record<LoadedKey, Omit<ImageSpec, 'tags'> & { labels: Record<string, string> }> = {
  base: { layers: [L.base], created: '2024-01-15T08:00:00Z', labels: { tier: 'base' } },
  app1: { layers: [L.base, L.app1], created: '2024-02-20T09:30:15Z', labels: { tier: 'app', team: 'red' } },
  app2: { layers: [L.base, L.app2], created: '2024-03-25T11:45:30Z', labels: { tier: 'app', team: 'blue' } },
  web1: { layers: [L.base, L.web1], created: '2024-04-10T13:00:45Z', labels: { tier: 'web', version: '1' } },
  web2: { layers: [L.base, L.web2], created: '2024-05-05T14:15:00Z', labels: { tier: 'web', version: '2' } },
  tools: {
    layers: [L.base, L.tools],
    created: '2024-06-18T16:20:10Z',
    labels: { tier: 'tools', team: 'red', 'com.example.expr': 'a=b=c', 'com.example.empty': '' },
  },
  danglingAlpha: { layers: [L.base, L.dA], created: '2024-07-22T18:05:55Z', labels: { stale: 'true' } },
  danglingGamma: { layers: [L.dG], created: '2024-09-09T21:10:05Z', labels: {} },
};

const IMPORTED_TAG = 'imported/thing:v1';
const IMPORTED_LABELS = { origin: 'import' };
const TOOLS_EXTRA_REPO = 'registry.local:5000/fleet/tools';
const TOOLS_TMP_TAG = 'fleet/tools:tmp';

/** What each host gets loaded directly, with the tags given in the tarball. */
const LOADS: Record<HostName, Array<[LoadedKey, string[]]>> = {
  alpha: [
    ['base', ['fleet/base:1']],
    ['app1', ['fleet/app:1']],
    ['app2', ['fleet/app:2']],
    ['web1', ['fleet/web:latest']],
    ['danglingAlpha', []],
  ],
  beta: [
    ['base', ['fleet/base:1']],
    ['app1', ['fleet/app:1']],
    ['web2', ['fleet/web:latest']],
    ['tools', ['fleet/tools:1', TOOLS_TMP_TAG]],
  ],
  gamma: [
    ['web1', ['fleet/web:latest']],
    ['danglingGamma', []],
  ],
};

/** Final expected tags per host and image (after tag / untag / save+load / import). */
const FINAL_TAGS: Record<HostName, Partial<Record<ImageKey, string[]>>> = {
  alpha: {
    base: ['fleet/base:1'],
    app1: ['fleet/app:1'],
    app2: ['fleet/app:2'],
    web1: ['fleet/web:latest'],
    danglingAlpha: [],
  },
  beta: {
    base: ['fleet/base:1'],
    app1: ['fleet/app:1'],
    web2: ['fleet/web:latest'],
    tools: ['fleet/tools:1', `${TOOLS_EXTRA_REPO}:1`].sort(),
  },
  gamma: {
    base: ['fleet/base:1'],
    web1: ['fleet/web:latest'],
    danglingGamma: [],
    imported: [IMPORTED_TAG],
  },
};

const CONTAINERS: Record<ContainerKey, { host: HostName; name: string; image: string; imageKey: ImageKey }> = {
  appAlpha: { host: 'alpha', name: 'fg-alpha-app1', image: 'fleet/app:1', imageKey: 'app1' },
  baseBeta: { host: 'beta', name: 'fg-beta-base', image: 'fleet/base:1', imageKey: 'base' },
};

interface ImageSummary {
  Id: string;
  Created: number;
  RepoTags: string[] | null;
  Labels: Record<string, string> | null;
}

// ------------------------------------------------------------------ seeding

/** Seed exactly three fresh engines named alpha, beta, gamma (any order) and verify the result. */
export async function seedFleet(engines: Engine[]): Promise<FleetSeed> {
  const byName = new Map(engines.map((e) => [e.name, e] as const));
  if (engines.length !== 3 || !HOST_NAMES.every((h) => byName.has(h))) {
    throw new Error(`seedFleet needs exactly engines alpha, beta, gamma; got ${engines.map((e) => e.name).join(', ')}`);
  }
  const eng = (h: HostName) => byName.get(h)!;

  // Deterministic IDs / diff_ids of every loaded image.
  const all = await buildImageTar((Object.keys(SPECS) as LoadedKey[]).map((k) => ({ ...SPECS[k], tags: [] })));
  const loadedIds = Object.fromEntries((Object.keys(SPECS) as LoadedKey[]).map((k, i) => [k, all.ids[i]!])) as Record<
    LoadedKey,
    string
  >;

  // 1. load per-host tarballs, in parallel
  await Promise.all(
    HOST_NAMES.map(async (h) => {
      const { tar, ids } = await buildImageTar(LOADS[h].map(([k, tags]) => ({ ...SPECS[k], tags })));
      LOADS[h].forEach(([k], i) => {
        if (ids[i] !== loadedIds[k]) throw new Error(`non-deterministic image id for ${k}`);
      });
      await loadImages(eng(h).socket, tar);
    }),
  );

  // 2. beta: second tools tag via the tag endpoint, drop the temporary one
  await tagImage(eng('beta').socket, loadedIds.tools, TOOLS_EXTRA_REPO, '1');
  await untagImage(eng('beta').socket, TOOLS_TMP_TAG);

  // 3. gamma: base copied from alpha (save + load), plus an imported image
  await saveAndLoad(eng('alpha').socket, eng('gamma').socket, ['fleet/base:1']);
  const importedId = await importImage(eng('gamma').socket, { tag: IMPORTED_TAG, label: IMPORTED_LABELS });
  const importedInspect = await engineGet<{ Created: string; RootFS: { Layers: string[] } }>(
    eng('gamma').socket,
    `/images/${importedId}/json`,
  );

  // 4. containers
  const containers = {} as Record<ContainerKey, SeededContainer>;
  for (const [key, c] of Object.entries(CONTAINERS) as Array<[ContainerKey, (typeof CONTAINERS)[ContainerKey]]>) {
    const id = await createContainer(eng(c.host).socket, c.image, c.name);
    containers[key] = {
      key,
      id,
      name: c.name,
      host: c.host,
      image: c.image,
      imageId: c.imageKey === 'imported' ? importedId : loadedIds[c.imageKey],
      state: 'created',
    };
  }

  // 5. assemble the description
  const ids = { ...loadedIds, imported: importedId } as Record<ImageKey, string>;
  const images = {} as Record<ImageKey, SeededImage>;
  for (const key of IMAGE_KEYS) {
    const hosts = HOST_NAMES.filter((h) => FINAL_TAGS[h][key] !== undefined);
    const tagsByHost: Partial<Record<HostName, string[]>> = {};
    for (const h of hosts) tagsByHost[h] = [...FINAL_TAGS[h][key]!].sort();
    if (key === 'imported') {
      images[key] = {
        key,
        id: importedId,
        created: importedInspect.Created,
        createdUnix: Math.floor(Date.parse(importedInspect.Created) / 1000),
        labels: { ...IMPORTED_LABELS },
        diffIds: importedInspect.RootFS.Layers,
        hosts,
        tagsByHost,
      };
    } else {
      const spec = SPECS[key];
      images[key] = {
        key,
        id: loadedIds[key],
        created: spec.created,
        createdUnix: Date.parse(spec.created) / 1000,
        labels: { ...spec.labels },
        diffIds: [],
        hosts,
        tagsByHost,
      };
    }
  }
  // diff_ids of the loaded images, as the engine reports them (and check they match the build)
  for (const key of IMAGE_KEYS) {
    if (key === 'imported') continue;
    const host = images[key].hosts[0]!;
    const ins = await engineGet<{ RootFS: { Layers: string[] } }>(eng(host).socket, `/images/${ids[key]}/json`);
    images[key].diffIds = ins.RootFS.Layers;
  }
  const baseLayer = images.base.diffIds[0]!;

  const hosts = {} as Record<HostName, SeededHost>;
  for (const h of HOST_NAMES) {
    const keys = (Object.keys(FINAL_TAGS[h]) as ImageKey[]).sort(
      (a, b) => images[b].createdUnix - images[a].createdUnix,
    );
    const tags: Record<string, ImageKey> = {};
    for (const k of keys) for (const t of FINAL_TAGS[h][k]!) tags[t] = k;
    hosts[h] = {
      name: h,
      images: keys,
      tags,
      containers: (Object.keys(CONTAINERS) as ContainerKey[]).filter((c) => CONTAINERS[c].host === h),
    };
  }

  const seed: FleetSeed = { ids, images, hosts, containers, baseLayer };
  await verifySeed(engines, seed);
  // Plus each host's same-second batch (see images.ts), which the description above leaves out.
  await seedSameSecond(engines);
  return seed;
}

/**
 * Throws if the engines do not hold exactly what `seed` describes (images by
 * ID, their tags, Created, labels; the containers). Used by seedFleet itself
 * so a broken seeding fails in global setup rather than in some later test.
 */
export async function verifySeed(engines: Engine[], seed: FleetSeed): Promise<void> {
  const problems: string[] = [];
  for (const e of engines) {
    const h = e.name as HostName;
    const host = seed.hosts[h];
    if (!host) {
      problems.push(`${e.name}: not a fleet host`);
      continue;
    }
    const list = await engineGet<ImageSummary[]>(e.socket, '/images/json');
    const gotIds = list.map((i) => i.Id);
    const wantIds = host.images.map((k) => seed.ids[k]);
    if (JSON.stringify(gotIds) !== JSON.stringify(wantIds)) {
      problems.push(`${h}: /images/json ids ${JSON.stringify(gotIds)} != expected ${JSON.stringify(wantIds)}`);
    }
    for (const k of host.images) {
      const img = seed.images[k];
      const got = list.find((i) => i.Id === img.id);
      if (!got) continue;
      const want = img.tagsByHost[h]!;
      const gotTags = (got.RepoTags ?? []).filter((t) => t !== '<none>:<none>').sort();
      if (JSON.stringify(gotTags) !== JSON.stringify(want)) {
        problems.push(`${h}/${k}: tags ${JSON.stringify(got.RepoTags)} != ${JSON.stringify(want)}`);
      }
      if (got.Created !== img.createdUnix) problems.push(`${h}/${k}: Created ${got.Created} != ${img.createdUnix}`);
      if (JSON.stringify(sortObj(got.Labels ?? {})) !== JSON.stringify(sortObj(img.labels))) {
        problems.push(`${h}/${k}: labels ${JSON.stringify(got.Labels)} != ${JSON.stringify(img.labels)}`);
      }
    }
    const cs = await engineGet<Array<{ Id: string; Names: string[]; State: string; ImageID: string }>>(
      e.socket,
      '/containers/json?all=1',
    );
    const wantC = host.containers.map((c) => seed.containers[c]);
    if (cs.length !== wantC.length) problems.push(`${h}: ${cs.length} containers, expected ${wantC.length}`);
    for (const c of wantC) {
      const got = cs.find((x) => x.Id === c.id);
      if (!got) problems.push(`${h}: container ${c.name} missing`);
      else if (got.State !== 'created' || got.ImageID !== c.imageId || !got.Names.includes(`/${c.name}`)) {
        problems.push(`${h}: container ${c.name} is ${JSON.stringify(got)}`);
      }
    }
  }
  if (problems.length) throw new Error(`fleet seed does not match the engines:\n  ${problems.join('\n  ')}`);
}

function sortObj(o: Record<string, string>): Array<[string, string]> {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
