/**
 * The standard seeded fleet for integration tests: three private engines named
 * alpha, beta and gamma (see src/dev/engine.ts), filled by {@link seedFleet}.
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
import type { ImageSpec, LayerSpec } from '../../src/dev/images.js';

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

export type LoadedKey = Exclude<ImageKey, 'imported'>;

export const SPECS: Record<LoadedKey, Omit<ImageSpec, 'tags'> & { labels: Record<string, string> }> = {
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

export const IMPORTED_TAG = 'imported/thing:v1';
export const IMPORTED_LABELS = { origin: 'import' };
export const TOOLS_EXTRA_REPO = 'registry.local:5000/fleet/tools';
export const TOOLS_TMP_TAG = 'fleet/tools:tmp';

/** What each host gets loaded directly, with the tags given in the tarball. */
export const LOADS: Record<HostName, Array<[LoadedKey, string[]]>> = {
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
export const FINAL_TAGS: Record<HostName, Partial<Record<ImageKey, string[]>>> = {
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

export const CONTAINERS: Record<ContainerKey, { host: HostName; name: string; image: string; imageKey: ImageKey }> = {
  appAlpha: { host: 'alpha', name: 'fg-alpha-app1', image: 'fleet/app:1', imageKey: 'app1' },
  baseBeta: { host: 'beta', name: 'fg-beta-base', image: 'fleet/base:1', imageKey: 'base' },
};
