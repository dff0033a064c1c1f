/**
 * Module: what every ImageSummary field must be, read from one engine's own API at the version the
 * gateway negotiated with it (independently of the gateway: raw HTTP on the engine's socket, see
 * engine-api.ts). Works for any engine: the real dockerd 20.10, the versioned fakes, Podman.
 *  - the list asked with manifests=1 (engines before 1.47 and the classic store ignore it);
 *  - sharedSize from the list with shared-size=1 (1.42+), else from /system/df;
 *  - containers from the list (1.51+), else counted from the engine's container list by image ID.
 * The only mapping is the Engine API's documented one: sentinels (`<none>:<none>`, -1) to empty/null.
 */
import { engineGet, type EngineImageSummary } from '../../src/dev/engine-api.js';

interface RawManifest {
  ID: string;
  Descriptor: { mediaType: string; digest: string; size: number };
  Available: boolean;
  Size: { Total: number; Content: number };
  Kind: string;
  ImageData?: { Platform?: { os?: string; architecture?: string; variant?: string }; Containers?: string[] | null; Size: { Unpacked: number } } | null;
  AttestationData?: { For: string } | null;
}

/** An item of the engine's own /images/json at any version: 1.41's fields, plus 1.47+'s manifests and 1.48+'s descriptor. */
export interface RawImage extends EngineImageSummary {
  Manifests?: RawManifest[];
  Descriptor?: { mediaType: string; digest: string; size: number } | null;
}

const atLeast = (v: string, w: string) => {
  const [a1 = 0, a2 = 0] = v.split('.').map(Number);
  const [b1 = 0, b2 = 0] = w.split('.').map(Number);
  return a1 > b1 || (a1 === b1 && a2 >= b2);
};

const platformOf = (m: RawManifest) => {
  const p = m.ImageData?.Platform;
  return p?.os && p.architecture ? { os: p.os, architecture: p.architecture, variant: p.variant || null } : null;
};

export const platformName = (p: { os: string; architecture: string; variant: string | null }) => [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');

/** The engine's /images/json?manifests=1 at `version`. */
export function engineImages(socket: string, version: string): Promise<RawImage[]> {
  return engineGet<RawImage[]>(socket, `/v${version}/images/json?manifests=1`);
}

/** Every summary of the engine on `socket`, as the gateway must give it for host `host` at `version`. */
export async function expectedSummaries(socket: string, host: string, version: string) {
  const list = await engineImages(socket, version);
  let shared: Map<string, number>;
  if (atLeast(version, '1.42')) shared = new Map((await engineGet<RawImage[]>(socket, `/v${version}/images/json?shared-size=1`)).map((i) => [i.Id, i.SharedSize]));
  else shared = new Map(((await engineGet<{ Images: RawImage[] | null }>(socket, `/v${version}/system/df`)).Images ?? []).map((i) => [i.Id, i.SharedSize]));
  const containers = atLeast(version, '1.51') ? [] : await engineGet<Array<{ ImageID: string }>>(socket, `/v${version}/containers/json?all=1`);
  return list.map((raw) => {
    // The list's own value where it has one (Podman sends it on 1.41), else the engine's /system/df, as the gateway does.
    const sharedSize = typeof raw.SharedSize === 'number' && raw.SharedSize >= 0 ? raw.SharedSize : (shared.get(raw.Id) ?? -1);
    return {
      host: { name: host },
      id: raw.Id,
      parentId: raw.ParentId || null,
      repoTags: (raw.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      repoDigests: (raw.RepoDigests ?? []).filter((d) => d !== '<none>@<none>'),
      created: raw.Created,
      size: raw.Size,
      sharedSize: sharedSize >= 0 ? sharedSize : null,
      virtualSize: raw.VirtualSize ?? raw.Size,
      labels: Object.keys(raw.Labels ?? {})
        .sort()
        .map((key) => ({ key, value: raw.Labels![key]! })),
      containers: atLeast(version, '1.51') ? raw.Containers : containers.filter((c) => c.ImageID === raw.Id).length,
      descriptor: raw.Descriptor ? { mediaType: raw.Descriptor.mediaType, digest: raw.Descriptor.digest, size: raw.Descriptor.size } : null,
      platforms: raw.Manifests ? [...new Set(raw.Manifests.filter((m) => m.Kind === 'image' && platformOf(m)).map((m) => platformName(platformOf(m)!)))].sort() : null,
      manifests: raw.Manifests
        ? raw.Manifests.map((m) => ({
            id: m.ID,
            kind: m.Kind === 'image' ? 'IMAGE' : m.Kind === 'attestation' ? 'ATTESTATION' : 'UNKNOWN',
            descriptor: { mediaType: m.Descriptor.mediaType, digest: m.Descriptor.digest, size: m.Descriptor.size },
            available: m.Available,
            size: { total: m.Size.Total, content: m.Size.Content },
            platform: platformOf(m),
            containers: m.ImageData ? (m.ImageData.Containers ?? []).length : null,
            unpackedSize: m.ImageData ? m.ImageData.Size.Unpacked : null,
            attestationFor: m.AttestationData?.For ?? null,
          }))
        : null,
    };
  });
}

/** The GraphQL selection whose answer expectedSummaries describes. */
export const EVERY_FIELD = `host { name } id parentId repoTags repoDigests created size sharedSize virtualSize labels { key value } containers
  descriptor { mediaType digest size } platforms
  manifests { id kind descriptor { mediaType digest size } available size { total content } platform { os architecture variant } containers unpackedSize attestationFor }`;

/** An ImageSummary as the tests select it (every 1.41 field, with its host). */
export interface Summary {
  id: string;
  parentId: string | null;
  repoTags: string[];
  repoDigests: string[];
  created: number;
  createdAt: string;
  size: number;
  sharedSize: number | null;
  virtualSize: number | null;
  labels: Array<{ key: string; value: string }>;
  containers: number | null;
  host: { name: string };
}
