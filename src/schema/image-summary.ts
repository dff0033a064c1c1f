import { containersOf } from '../inventory/container-index.js';
import { builder } from './builder.js';
import { pathOf } from './inventory.js';
import { HostType, ImageSummaryType } from './refs.js';
import { HostError } from '../docker/errors.js';

const LabelType = builder.objectRef<{ key: string; value: string }>('Label').implement({
  description: 'One image label (a key and its value, which may be empty).',
  fields: (t) => ({
    key: t.exposeString('key'),
    value: t.exposeString('value'),
  }),
});

ImageSummaryType.implement({
  description:
    'One image as one host reports it (Docker Engine API ImageSummary). The same image ID on three hosts is three summaries, each knowing its host.',
  fields: (t) => ({
    id: t.id({
      description: 'Content-addressable ID of the image as the engine gives it ("sha256:" and 64 hex digits). Equal IDs on different hosts are the same image.',
      resolve: (p) => p.image.id,
    }),
    parentId: t.string({
      nullable: true,
      description: 'ID of the parent image, or null when the engine reports none (images that were pulled or loaded have no parent).',
      resolve: (p) => p.image.parentId,
    }),
    repoTags: t.stringList({
      description: 'The repo:tag references that point at this image on this host. Empty for an untagged image (never "<none>:<none>").',
      resolve: (p) => p.image.repoTags,
    }),
    repoDigests: t.stringList({
      description: 'The repo@digest references of this image (content digests of manifests it was pushed or pulled as). Empty when it has none.',
      resolve: (p) => p.image.repoDigests,
    }),
    created: t.field({
      type: 'SafeInt',
      description:
        'When the image was created, in Unix seconds (as in the Engine API). A JSON number like Int, but not limited to 32 bits (past 2038). See createdAt for the same moment as a date.',
      resolve: (p) => p.image.created,
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When the image was created, as an ISO 8601 date-time (UTC).',
      resolve: (p) => new Date(p.image.created * 1000),
    }),
    size: t.field({
      type: 'SafeInt',
      description: 'Total size of the image in bytes: its own layers and those of its parents, as this host stores them. Can exceed 2 GiB, hence SafeInt.',
      resolve: (p) => p.image.size,
    }),
    sharedSize: t.field({
      type: 'SafeInt',
      nullable: true,
      description:
        'Bytes of this image that other images on the same host share. Null when the engine could not calculate it. On engines older than API 1.42 this costs a /system/df call on the host (done only when this field is selected).',
      resolve: async (p, _args, ctx, info) => {
        if (p.image.sharedSize !== null) return p.image.sharedSize;
        try {
          return (await ctx.loaders.sharedSizes.load(p.host)).get(p.image.id) ?? null;
        } catch (err) {
          if (err instanceof HostError) {
            ctx.partialErrors.add(err, pathOf(info));
            return null;
          }
          throw err;
        }
      },
    }),
    virtualSize: t.field({
      type: 'SafeInt',
      nullable: true,
      deprecationReason: 'Docker deprecated VirtualSize in API 1.43 (it always equals size); use size.',
      description: 'Equal to size. Kept for clients of the Engine API field of the same name.',
      resolve: (p) => p.image.virtualSize ?? p.image.size,
    }),
    labels: t.field({
      type: [LabelType],
      description: 'The image labels, sorted by key.',
      resolve: (p) =>
        Object.keys(p.image.labels)
          .sort()
          .map((key) => ({ key, value: p.image.labels[key]! })),
    }),
    label: t.string({
      nullable: true,
      description: 'The value of one label, or null when the image has no such label.',
      args: { key: t.arg.string({ required: true }) },
      resolve: (p, { key }) => (Object.prototype.hasOwnProperty.call(p.image.labels, key) ? p.image.labels[key]! : null),
    }),
    containers: t.int({
      nullable: true,
      description:
        'How many containers (running or not) use this image on its host. Engines before API 1.51 do not count them; then fleetgraph counts them from the host container list (one call per host per request, made only when this field is selected). Null when that list could not be read.',
      resolve: async (p, _args, ctx, info) => {
        if (p.image.containers !== null) return p.image.containers;
        try {
          const containers = await ctx.loaders.containers.load(p.host);
          return containersOf(containers, p.image.id).length;
        } catch (err) {
          if (err instanceof HostError) {
            ctx.partialErrors.add(err, pathOf(info));
            return null;
          }
          throw err;
        }
      },
    }),
    host: t.field({
      type: HostType,
      description: 'The host this summary came from.',
      resolve: (p) => ({ name: p.host }),
    }),
  }),
});
