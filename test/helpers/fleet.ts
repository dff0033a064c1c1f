/**
 * Module: seeds the standard fleet of integration tests into three private engines. What the fleet holds
 * (images, tags, labels, containers per host) is described and defined in fleet-spec.ts; the check that
 * the engines hold exactly that is in fleet-verify.ts.
 */
import type { Engine } from '../../src/dev/engine.js';
import { engineGet } from '../../src/dev/engine-api.js';
import {
  CONTAINERS,
  FINAL_TAGS,
  HOST_NAMES,
  IMAGE_KEYS,
  IMPORTED_LABELS,
  IMPORTED_TAG,
  LOADS,
  SPECS,
  TOOLS_EXTRA_REPO,
  TOOLS_TMP_TAG,
  type ContainerKey,
  type FleetSeed,
  type HostName,
  type ImageKey,
  type LoadedKey,
  type SeededContainer,
  type SeededHost,
  type SeededImage,
} from './fleet-spec.js';
import { verifySeed } from './fleet-verify.js';
import { buildImageTar, createContainer, importImage, loadImages, saveAndLoad, tagImage, untagImage } from '../../src/dev/images.js';
import { seedSameSecond } from './same-second.js';

export { HOST_NAMES, IMAGE_KEYS, type ContainerKey, type FleetSeed, type HostName, type ImageKey, type SeededContainer, type SeededHost, type SeededImage };
export { verifySeed };

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
  // Plus each host's same-second batch (see same-second.ts), which the description above leaves out.
  await seedSameSecond(engines);
  return seed;
}

