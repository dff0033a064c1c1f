/**
 * Module: multi-platform images (Engine API 1.47+): ImageSummary.manifests, .descriptor and .platforms,
 * and the types under them. Manifests come with the host's image list when the operation selects them
 * (prefetch.ts asks for `manifests=1` then), so these resolvers read the backing record; only a
 * summary read without them (a request prefetch did not see) waits for the host's list with them.
 */
import { platformString } from '../docker/manifests.js';
import { MANIFEST_KINDS, type HostImage, type ManifestKind, type ManifestRecord, type OciDescriptorRecord, type PlatformRecord } from '../inventory/types.js';
import type { Context } from '../context.js';
import type { GraphQLResolveInfo } from 'graphql';
import type { FieldCost } from '../query-cost.js';
import { builder } from './builder.js';
import { orPartial } from './partial.js';
import { ImageSummaryType } from './refs.js';

const KIND_DESCRIPTIONS: Record<ManifestKind, string> = {
  IMAGE: 'An image manifest: a platform that can run containers.',
  ATTESTATION: 'An attestation manifest (e.g. provenance or SBOM) that BuildKit attached to an image manifest.',
  UNKNOWN: 'Anything else, including kinds newer than this gateway.',
};

const ManifestKindEnum = builder.enumType('ManifestKind', {
  description: 'What a manifest of an image index is.',
  values: Object.fromEntries(MANIFEST_KINDS.map((k) => [k, { description: KIND_DESCRIPTIONS[k] }])) as Record<ManifestKind, { description: string }>,
});

const OciDescriptorType = builder.objectRef<OciDescriptorRecord>('OciDescriptor').implement({
  description: 'An OCI content descriptor: what a digest points at.',
  fields: (t) => ({
    mediaType: t.exposeString('mediaType', { description: 'Media type, e.g. application/vnd.oci.image.index.v1+json.' }),
    digest: t.exposeString('digest', { description: 'Content digest ("sha256:" and 64 hex digits).' }),
    size: t.field({ type: 'SafeInt', description: 'Size of the described blob in bytes.', resolve: (d) => d.size }),
  }),
});

const PlatformType = builder.objectRef<PlatformRecord>('Platform').implement({
  description: 'An OCI platform.',
  fields: (t) => ({
    os: t.exposeString('os', { description: 'Operating system, e.g. linux.' }),
    architecture: t.exposeString('architecture', { description: 'CPU architecture, e.g. amd64 or arm64.' }),
    variant: t.exposeString('variant', { nullable: true, description: 'CPU variant, e.g. v8; null when the manifest names none.' }),
  }),
});

const ManifestSizeType = builder.objectRef<ManifestRecord['size']>('ManifestSize').implement({
  description: 'Bytes of a manifest present on the host.',
  fields: (t) => ({
    total: t.field({ type: 'SafeInt', description: 'All local data of the manifest and its children: content plus unpacked snapshots.', resolve: (s) => s.total }),
    content: t.field({ type: 'SafeInt', description: 'Blobs in the content store only (config, layers).', resolve: (s) => s.content }),
  }),
});

const ImageManifestType = builder.objectRef<ManifestRecord>('ImageManifest').implement({
  description: 'One manifest of a multi-platform image on its host (Engine API ImageManifestSummary).',
  fields: (t) => ({
    id: t.id({ description: 'Digest of the manifest.', resolve: (m) => m.id }),
    kind: t.field({ type: ManifestKindEnum, description: 'What the manifest is (the engine\'s kind; UNKNOWN for kinds newer than this gateway).', resolve: (m) => m.kind }),
    descriptor: t.field({ type: OciDescriptorType, description: 'The descriptor of the manifest in the image index.', resolve: (m) => m.descriptor }),
    available: t.exposeBoolean('available', { description: 'Whether all its content (config, layers) is present on the host.' }),
    size: t.field({ type: ManifestSizeType, description: 'Bytes of this manifest and its children on the host.', resolve: (m) => m.size }),
    platform: t.field({ type: PlatformType, nullable: true, description: 'The platform of an image manifest; null for other kinds.', resolve: (m) => m.platform }),
    containers: t.int({ nullable: true, description: 'Containers using this platform of the image; null for other kinds.', resolve: (m) => m.containers }),
    unpackedSize: t.field({ type: 'SafeInt', nullable: true, description: 'Bytes of its unpacked snapshots; null for other kinds.', resolve: (m) => m.unpackedSize }),
    attestationFor: t.string({ nullable: true, description: 'For an attestation: the digest of the image manifest it is about.', resolve: (m) => m.attestationFor }),
  }),
});

/** The summary's manifests, from its record when the list carried them, else from the host's list with them. */
function manifestsOf(p: HostImage, ctx: Context, info: GraphQLResolveInfo): readonly ManifestRecord[] | null | Promise<readonly ManifestRecord[] | null> {
  if (p.image.manifests !== undefined) return p.image.manifests;
  return orPartial(ctx, info, ctx.loaders.manifests.load(p.host), null).then((byId) => byId?.get(p.image.id) ?? null);
}

/** Image-manifest platforms as "os/arch[/variant]", sorted, each once. */
export function platformsOf(manifests: readonly ManifestRecord[]): string[] {
  return [...new Set(manifests.flatMap((m) => (m.kind === 'IMAGE' && m.platform ? [platformString(m.platform)] : [])))].sort();
}

/**
 * For the cost limit: a multi-platform image has a few platforms and as many attestations (at most
 * MAX_MANIFESTS_PER_IMAGE are accepted from an engine; the answer-size cap covers the rare bigger one).
 */
const MANIFEST_LIST: FieldCost = { list: 16 };

builder.objectFields(ImageSummaryType, (t) => ({
  manifests: t.field({
    type: [ImageManifestType],
    nullable: true,
    extensions: { cost: MANIFEST_LIST },
    description:
      'The manifests of a multi-platform image: one per platform, plus attestations. Null where the engine cannot say (API before 1.47, or the classic image store, which keeps one platform). Selecting it (or platforms, or the platform filter) makes the host list carry them.',
    resolve: (p, _args, ctx, info) => manifestsOf(p, ctx, info),
  }),
  platforms: t.stringList({
    nullable: true,
    extensions: { cost: { list: 1 } satisfies FieldCost },
    description: 'The platforms of its image manifests, as "os/architecture[/variant]", sorted (available or not; see manifests). Null where manifests is null.',
    resolve: (p, _args, ctx, info) => {
      const m = manifestsOf(p, ctx, info);
      return m instanceof Promise ? m.then((list) => list && platformsOf(list)) : m && platformsOf(m);
    },
  }),
  descriptor: t.field({
    type: OciDescriptorType,
    nullable: true,
    description: 'OCI descriptor of the image target (for a multi-platform image, its index). Only engines with the containerd image store send it (API 1.48+); null elsewhere.',
    resolve: (p) => p.image.descriptor ?? null,
  }),
}));
