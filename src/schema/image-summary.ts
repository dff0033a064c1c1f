import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.js';
import type { HostImage } from '../inventory/types.js';
import type { ImageFilter } from '../inventory/filter.js';
import { imageOrdering, sortByYielding, type ImageOrder } from '../inventory/order.js';
import { countOnlyPage, paginate, scopeOf, type PageArgs } from '../inventory/paginate.js';
import { resolveReference } from '../inventory/reference.js';
import { referenceProblem } from '../inventory/reference-syntax.js';
import { badInput } from '../inventory/errors.js';
import type { FieldCost } from '../query-cost.js';
import { containersOf } from '../inventory/container-index.js';
import { builder } from './builder.js';
import { chooseHosts, listImages, loadPerHost } from './host-selection.js';
import { ImageFilterInput, ImageOrderInput } from './image-inputs.js';
import { withHostDetail } from './partial.js';
import { HostType, ImageSummaryConnection, ImageSummaryType } from './refs.js';
import { selectsOnly } from './selection.js';

const COUNT_ONLY = ['totalCount', '__typename'];

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
      resolve: (p, _args, ctx, info) => {
        if (p.image.sharedSize !== null) return p.image.sharedSize;
        return withHostDetail(ctx, info, 'sharedSizes', p.host, (sizes) => sizes?.get(p.image.id) ?? null);
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
      // Key/value leaves: counted like one scalar by the cost limit.
      extensions: { cost: { list: 1 } satisfies FieldCost },
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
      resolve: (p, _args, ctx, info) => {
        if (p.image.containers !== null) return p.image.containers;
        return withHostDetail(ctx, info, 'containers', p.host, (containers) => containers && containersOf(containers, p.image.id).length);
      },
    }),
    host: t.field({
      type: HostType,
      description: 'The host this summary came from.',
      resolve: (p) => ({ name: p.host }),
    }),
  }),
});

export interface ImageListArgs extends PageArgs {
  filter?: ImageFilter | null;
  orderBy?: ImageOrder[] | null;
}

/** The connection over images of `hosts`: filtered, ordered, paginated. Used by Query.images and Host.images. */
export async function resolveImageConnection(ctx: Context, hosts: string[], args: ImageListArgs, info: GraphQLResolveInfo) {
  const ordering = imageOrdering(args.orderBy);
  const items = await listImages(ctx, hosts, args.filter, info);
  // Only a count asked for: nothing to order (a cursor argument still needs the order to find its place).
  if (!args.after && !args.before && selectsOnly(info, COUNT_ONLY)) return countOnlyPage<HostImage>(items.length, args, ctx.deps.config.maxImages, 'images');
  const scope = scopeOf(['images', ordering.signature, hosts, args.filter ?? null]);
  return paginate(await sortByYielding(items, ordering), ordering, scope, args, ctx.deps.config.maxImages, 'images');
}

builder.queryFields((t) => ({
  images: t.connection(
    {
      type: ImageSummaryType,
      description:
        'Every image on the chosen hosts (all hosts by default), merged into one list. Hosts that fail are reported in errors (with extensions.host) and the list holds the others. Without first/last the whole list is returned, up to the configured maximum.',
      args: {
        hosts: t.arg.stringList({ description: 'Host names to include; default all.' }),
        filter: t.arg({ type: ImageFilterInput }),
        orderBy: t.arg({ type: [ImageOrderInput], description: 'Sort terms; default newest first (CREATED DESC).' }),
      },
      resolve: (_root, args, ctx, info) => resolveImageConnection(ctx, chooseHosts(ctx, args.hosts), args as ImageListArgs, info),
    },
    ImageSummaryConnection,
  ),
  image: t.field({
    type: [ImageSummaryType],
    // A reference resolves to at most one image per host.
    extensions: { cost: { list: 'hosts' } satisfies FieldCost },
    description:
      'Where an image is: its summary on every chosen host that has it. ref is an image ID, a unique ID prefix, name[:tag] (tag defaults to latest) or name@digest, resolved on each host as Docker does.',
    args: {
      ref: t.arg.string({ required: true }),
      hosts: t.arg.stringList({ description: 'Host names to look on; default all.' }),
    },
    resolve: async (_root, args, ctx, info) => {
      const problem = referenceProblem(args.ref);
      if (problem) throw badInput(`ref ${problem}`, 'ref');
      const perHost = await loadPerHost(ctx, chooseHosts(ctx, args.hosts), (h) => ctx.loaders.images.load(h), info);
      const out: HostImage[] = [];
      for (const { host, value } of perHost) {
        const ids = new Set(resolveReference(args.ref, value));
        for (const image of value) if (ids.has(image.id)) out.push({ host, image });
      }
      return out.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.image.id < b.image.id ? -1 : 1));
    },
  }),
}));
