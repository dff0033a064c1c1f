import { UPDATE_STATUSES, type ImageUpdate, type UpdateStatus } from '../registry/updates.js';
import type { FieldCost } from '../query-cost.js';
import { builder } from './builder.js';
import { ImageSummaryType } from './refs.js';

/** Module: ImageSummary.updates: is there a newer image at the registry for each of this image's tags? */

export const UpdateStatusEnum = builder.enumType('UpdateStatus', {
  description: "How a tag on a host compares with the tag at its registry (fleetgraph's --check-updates).",
  values: {
    CURRENT: { description: 'The registry’s digest for the tag is the one this host holds.' },
    OUTDATED: { description: 'The registry’s tag now points at another digest: a newer image has been pushed.' },
    UNKNOWN: {
      description:
        'Not compared: update checks are off, the registry is not allowed, it asked to slow down (429), the request reached its check budget, or this host has no digest for the repository (reason says which).',
    },
    NOT_FOUND: { description: 'The registry has no such tag (or repository).' },
    UNAUTHORIZED: { description: 'The registry refused the credentials fleetgraph has for it, or asks for credentials it has none of.' },
    ERROR: { description: 'The registry failed: an error status, no answer within the deadline, or an answer without a digest.' },
  } satisfies Record<UpdateStatus, { description: string }>,
});

const ImageUpdateType = builder.objectRef<ImageUpdate>('ImageUpdate').implement({
  description:
    "One repo tag of an image against its registry. The registry is asked with HEAD /v2/<name>/manifests/<tag> (never a pull), once per (registry, repository, tag) per update interval, however many hosts hold the tag.",
  fields: (t) => ({
    reference: t.exposeString('reference', { description: 'The repo tag, as the engine lists it (e.g. nginx:1.25; the registry is docker.io when it names none).' }),
    localDigest: t.exposeString('localDigest', {
      nullable: true,
      description: "The digest this host holds for the tag's repository (its RepoDigests entry of the same repository). Null when the image was never pushed or pulled by that name.",
    }),
    remoteDigest: t.exposeString('remoteDigest', {
      nullable: true,
      description: 'The digest the tag points at in the registry: for a multi-platform tag, the digest of its index (what docker pull records). Null when not known.',
    }),
    status: t.field({ type: UpdateStatusEnum, resolve: (u) => u.status }),
    checkedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the registry answered (answers are reused for the update interval). Null when it was not asked.', resolve: (u) => u.checkedAt }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why the status is not CURRENT or OUTDATED, in words. Never holds credentials or addresses.' }),
  }),
});

builder.objectField(ImageSummaryType, 'updates', (t) =>
  t.field({
    type: [ImageUpdateType],
    // One entry per repo tag: images carry a few.
    extensions: { cost: { list: 2 } satisfies FieldCost },
    description:
      'Per repo tag, whether the registry has another image for it now. Registries are asked only when fleetgraph runs with --check-updates, only those --registry-allow lists, and only when this field (or the updateStatus filter, or fleet.outdatedCount) is selected; otherwise the entries are UNKNOWN.',
    resolve: (p, _a, ctx) => ctx.updates.of(p.image),
  }),
);

export { UPDATE_STATUSES };
