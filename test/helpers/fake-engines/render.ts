/**
 * Module: the model (./model.ts) as one engine of one store answers it at one API version, field by
 * field as the swagger files in ../shared/engine-api/ and Docker's API changelog say (checked against
 * the swagger definitions by test/unit/fake-engine-swagger.test.ts):
 *  - before 1.43 an untagged image is `<none>:<none>` / `<none>@<none>`; from 1.43 `[]`;
 *  - VirtualSize equals Size before 1.44 and is gone from 1.44;
 *  - SharedSize is -1 unless `shared-size=1` (1.42+);
 *  - Containers is -1 before 1.51, the real count from 1.51;
 *  - Manifests only with `manifests=1` on 1.47+, Descriptor on 1.48+, both only on the containerd store;
 *  - the containerd store's Id is the digest of the index (or of the one manifest), its Size sums the
 *    platforms present; the classic store's Id is the config digest of the one platform it keeps.
 */
import { INDEX_TYPE, MANIFEST_TYPE, type ModelContainer, type ModelImage, type ModelPlatform, type Store } from './model.js';

/** "1.44" >= "1.43" */
export function atLeast(version: string, wanted: string): boolean {
  const [a1 = 0, a2 = 0] = version.split('.').map(Number);
  const [b1 = 0, b2 = 0] = wanted.split('.').map(Number);
  return a1 > b1 || (a1 === b1 && a2 >= b2);
}

export interface ListQuery {
  sharedSize: boolean;
  manifests: boolean;
}

/** The one platform a classic-store amd64 host keeps of an image. */
export function classicPlatform(image: ModelImage): ModelPlatform {
  return image.platforms.find((p) => p.architecture === 'amd64') ?? image.platforms[0]!;
}

/** The image ID on a host of `store`. */
export function imageId(image: ModelImage, store: Store): string {
  if (store === 'classic') return classicPlatform(image).config;
  return image.index?.digest ?? image.platforms[0]!.manifest;
}

const platformJson = (p: ModelPlatform) => ({ architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) });

function manifests(image: ModelImage, containers: readonly ModelContainer[]) {
  const images = image.platforms.map((p) => ({
    ID: p.manifest,
    Descriptor: { mediaType: MANIFEST_TYPE, digest: p.manifest, size: p.manifestSize, platform: platformJson(p) },
    Available: p.available,
    Size: { Total: p.available ? p.content + p.unpacked : 0, Content: p.available ? p.content : 0 },
    Kind: 'image',
    ImageData: {
      Platform: platformJson(p),
      Containers: containers.filter((c) => c.image === image.key && c.architecture === p.architecture).map((c) => c.id),
      Size: { Unpacked: p.available ? p.unpacked : 0 },
    },
  }));
  const extras = image.extras.map((x) => ({
    ID: x.digest,
    Descriptor: {
      mediaType: MANIFEST_TYPE,
      digest: x.digest,
      size: x.size,
      ...(x.for ? { annotations: { 'vnd.docker.reference.digest': x.for, 'vnd.docker.reference.type': 'attestation-manifest' } } : {}),
      platform: { architecture: 'unknown', os: 'unknown' },
    },
    Available: x.available,
    Size: { Total: x.available ? x.content : 0, Content: x.available ? x.content : 0 },
    Kind: x.kind,
    ...(x.for ? { AttestationData: { For: x.for } } : {}),
  }));
  return [...images, ...extras];
}

function containerdSize(image: ModelImage): number {
  return image.platforms.reduce((sum, p) => sum + (p.available ? p.content + p.unpacked : 0), 0) + image.extras.reduce((sum, x) => sum + (x.available ? x.content : 0), 0);
}

/** One /images/json item. */
export function renderImage(image: ModelImage, store: Store, version: string, query: ListQuery, containers: readonly ModelContainer[]): Record<string, unknown> {
  const untagged = image.tags.length === 0 && image.repos.length === 0;
  const none = !atLeast(version, '1.43') && untagged;
  const size = store === 'classic' ? classicPlatform(image).unpacked : containerdSize(image);
  const repoDigests = image.repos.map((r) => `${r}@${image.index?.digest ?? image.platforms[0]!.manifest}`);
  const out: Record<string, unknown> = {
    Containers: atLeast(version, '1.51') ? containers.filter((c) => c.image === image.key).length : -1,
    Created: image.created,
    Id: imageId(image, store),
    Labels: image.labels,
    ParentId: '',
    RepoDigests: none ? ['<none>@<none>'] : repoDigests,
    RepoTags: none ? ['<none>:<none>'] : image.tags,
    SharedSize: query.sharedSize && atLeast(version, '1.42') ? image.shared : -1,
    Size: size,
  };
  if (!atLeast(version, '1.44')) out.VirtualSize = size;
  if (store === 'containerd' && atLeast(version, '1.48')) {
    out.Descriptor = image.index
      ? { mediaType: INDEX_TYPE, digest: image.index.digest, size: image.index.size }
      : { mediaType: MANIFEST_TYPE, digest: image.platforms[0]!.manifest, size: image.platforms[0]!.manifestSize, platform: platformJson(image.platforms[0]!) };
  }
  if (store === 'containerd' && query.manifests && atLeast(version, '1.47')) out.Manifests = manifests(image, containers);
  return out;
}

/** One /containers/json item (the fields fleetgraph and the docker CLI read). */
export function renderContainer(c: ModelContainer, images: readonly ModelImage[], store: Store): Record<string, unknown> {
  const image = images.find((i) => i.key === c.image)!;
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: image.tags[0] ?? imageId(image, store),
    ImageID: imageId(image, store),
    Command: '/bin/true',
    Created: c.created,
    Ports: [],
    Labels: {},
    State: 'created',
    Status: 'Created',
    HostConfig: { NetworkMode: 'none' },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}

/** Docker's image filters that these engines honour: dangling, label, reference (globs on repo:tag), until (Unix seconds). */
export function filterImages(images: readonly ModelImage[], store: Store, filters: Record<string, string[]>): ModelImage[] {
  const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return images.filter((image) => {
    for (const d of filters.dangling ?? []) if ((d === 'true') !== (image.tags.length === 0)) return false;
    for (const l of filters.label ?? []) {
      const [k, ...v] = l.split('=');
      if (!(k! in image.labels) || (v.length > 0 && image.labels[k!] !== v.join('='))) return false;
    }
    const refs = filters.reference ?? [];
    if (refs.length && !refs.some((r) => image.tags.some((t) => glob(r.includes(':') ? r : `${r}:*`).test(t)))) return false;
    // The containerd store compares the time it recorded the image, the classic store the config's.
    for (const u of filters.until ?? []) if ((store === 'containerd' ? image.recorded : image.created) >= Number(u)) return false;
    return true;
  });
}
