import type { Context } from '../context.js';
import type { GraphQLResolveInfo } from 'graphql';
import {
  IMAGE_GROUP_ORDER_FIELDS,
  findTagDrift,
  groupCreated,
  groupDigests,
  groupHosts,
  groupImages,
  groupOrdering,
  groupSize,
  groupTags,
  type ImageGroup,
  type ImageGroupOrder,
} from '../inventory/groups.js';
import type { ImageFilter } from '../inventory/filter.js';
import { sortByYielding } from '../inventory/order.js';
import { paginate, scopeOf, type PageArgs } from '../inventory/paginate.js';
import type { FieldCost } from '../query-cost.js';
import { builder } from './builder.js';
import { ImageFilterInput, OrderDirectionEnum } from './image-inputs.js';
import { chooseHosts, listImages } from './host-selection.js';
import { HostType, ImageSummaryType } from './refs.js';

/** For the cost limit: lists with at most one item per host. */
const PER_HOST: FieldCost = { list: 'hosts' };

const ImageGroupType = builder.objectRef<ImageGroup>('ImageGroup').implement({
  description:
    'One distinct image across the fleet, with the hosts that hold it. Summaries are the same image when they share an ID or a content digest (a repo digest or descriptor): the same image on a classic-store host and on a containerd-store host has two IDs (config digest and index digest) and is one group where the repo digests agree.',
  fields: (t) => ({
    id: t.id({ description: 'The image ID (the smallest of ids when the hosts disagree).', resolve: (g) => g.id }),
    ids: t.idList({ description: 'Every image ID of the group, sorted: more than one where classic-store and containerd-store hosts hold the image.', resolve: (g) => g.ids }),
    repoTags: t.stringList({ description: 'Every tag pointing at this image on any of its hosts (union, sorted).', resolve: groupTags }),
    repoDigests: t.stringList({ description: 'Every repo digest of this image on any of its hosts (union, sorted).', resolve: groupDigests }),
    size: t.field({ type: 'SafeInt', description: 'Size in bytes (the largest any host reports; normally they agree).', resolve: groupSize }),
    created: t.field({ type: 'SafeInt', description: 'Creation time in Unix seconds.', resolve: groupCreated }),
    createdAt: t.field({ type: 'DateTime', description: 'Creation time.', resolve: (g) => new Date(groupCreated(g) * 1000) }),
    hostCount: t.int({ description: 'How many hosts hold this image.', resolve: (g) => groupHosts(g).length }),
    hosts: t.field({ type: [HostType], extensions: { cost: PER_HOST }, description: 'The hosts that hold this image, by name.', resolve: (g) => groupHosts(g).map((name) => ({ name })) }),
    images: t.field({ type: [ImageSummaryType], extensions: { cost: PER_HOST }, description: 'The per-host summaries of this image, by host name.', resolve: (g) => g.images }),
  }),
});

const ImageGroupOrderFieldEnum = builder.enumType('ImageGroupOrderField', {
  description: 'What to sort image groups by. Ties are broken by image ID.',
  values: {
    CREATED: { description: 'Creation time.' },
    SIZE: { description: 'Size in bytes.' },
    REFERENCE: { description: 'First tag in alphabetical order; untagged images sort last (first with DESC).' },
    HOST_COUNT: { description: 'How many hosts hold the image.' },
    ID: { description: 'Image ID.' },
  } satisfies Record<(typeof IMAGE_GROUP_ORDER_FIELDS)[number], { description: string }>,
});

const ImageGroupOrderInput = builder.inputType('ImageGroupOrder', {
  description: 'One sort term for image groups.',
  fields: (t) => ({
    field: t.field({ type: ImageGroupOrderFieldEnum, required: true }),
    direction: t.field({ type: OrderDirectionEnum, required: true, defaultValue: 'ASC' }),
  }),
});

const ImageGroupConnection = builder.connectionObject(
  {
    type: ImageGroupType,
    name: 'ImageGroupConnection',
    description: 'A page of image groups.',
    fields: (t) => ({
      totalCount: t.int({ description: 'How many groups match, across all pages.', resolve: (p) => p.totalCount }),
    }),
  },
  { name: 'ImageGroupEdge' },
);

const TagVariantType = builder.objectRef<{ id: string; hosts: string[] }>('TagVariant').implement({
  description: 'One image a drifting tag points at, and the hosts where it does.',
  fields: (t) => ({
    id: t.id({ resolve: (v) => v.id }),
    hosts: t.field({ type: [HostType], extensions: { cost: PER_HOST }, resolve: (v) => v.hosts.map((name) => ({ name })) }),
  }),
});

const TagDriftType = builder.objectRef<{ tag: string; variants: Array<{ id: string; hosts: string[] }> }>('TagDrift').implement({
  description: 'A repo:tag that points at different images on different hosts (e.g. one host still runs the old build).',
  fields: (t) => ({
    tag: t.exposeString('tag', { description: 'The tag, in familiar form (as `docker images` prints it).' }),
    variants: t.field({ type: [TagVariantType], extensions: { cost: PER_HOST }, description: 'Each image the tag points at, with its hosts; sorted by image ID.', resolve: (d) => d.variants }),
  }),
});

interface GroupArgs extends PageArgs {
  hosts?: string[] | null;
  filter?: ImageFilter | null;
  orderBy?: ImageGroupOrder[] | null;
}

async function resolveGroups(ctx: Context, args: GroupArgs, info: GraphQLResolveInfo) {
  const hosts = chooseHosts(ctx, args.hosts);
  const ordering = groupOrdering(args.orderBy);
  const groups = groupImages(await listImages(ctx, hosts, args.filter, info));
  const scope = scopeOf(['groups', ordering.signature, hosts, args.filter ?? null]);
  return paginate(await sortByYielding(groups, ordering), ordering, scope, args, ctx.deps.config.maxImages, 'image groups');
}

builder.queryFields((t) => ({
  imageGroups: t.connection(
    {
      type: ImageGroupType,
      description: 'One entry per distinct image ID across the chosen hosts: where each image is, and under which tags.',
      args: {
        hosts: t.arg.stringList({ description: 'Host names to include; default all.' }),
        filter: t.arg({ type: ImageFilterInput, description: 'Applied to the per-host summaries before grouping.' }),
        orderBy: t.arg({ type: [ImageGroupOrderInput], description: 'Sort terms; default newest first.' }),
      },
      resolve: (_r, args, ctx, info) => resolveGroups(ctx, args as GroupArgs, info),
    },
    ImageGroupConnection,
  ),
  tagDrift: t.field({
    type: [TagDriftType],
    description: 'Tags that point at different image IDs on different hosts, sorted by tag.',
    args: {
      hosts: t.arg.stringList({ description: 'Host names to compare; default all.' }),
      filter: t.arg({ type: ImageFilterInput }),
    },
    resolve: async (_r, args, ctx, info) => findTagDrift(await listImages(ctx, chooseHosts(ctx, args.hosts), args.filter, info)),
  }),
}));
