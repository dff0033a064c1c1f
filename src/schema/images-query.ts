import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.js';
import type { HostImage } from '../docker/normalize.js';
import type { ImageFilter } from '../inventory/filter.js';
import { imageOrdering, sortBy, type ImageOrder } from '../inventory/order.js';
import { countOnlyPage, paginate, scopeOf, type PageArgs } from '../inventory/paginate.js';
import { resolveReference } from '../inventory/reference.js';
import { referenceProblem } from '../inventory/reference-syntax.js';
import { badInput } from '../docker/errors.js';
import { builder } from './builder.js';
import { ImageFilterInput, ImageOrderInput } from './image-inputs.js';
import { chooseHosts, listImages, loadPerHost } from './inventory.js';
import { ImageSummaryConnection, ImageSummaryType } from './refs.js';
import { selectsOnly } from './selection.js';

export interface ImageListArgs extends PageArgs {
  filter?: ImageFilter | null;
  orderBy?: ImageOrder[] | null;
}

const COUNT_ONLY = ['totalCount', '__typename'];

/** The connection over images of `hosts`: filtered, ordered, paginated. Used by Query.images and Host.images. */
export async function resolveImageConnection(ctx: Context, hosts: string[], args: ImageListArgs, info: GraphQLResolveInfo) {
  const ordering = imageOrdering(args.orderBy);
  const items = await listImages(ctx, hosts, args.filter, info);
  // Only a count asked for: nothing to order (a cursor argument still needs the order to find its place).
  if (!args.after && !args.before && selectsOnly(info, COUNT_ONLY)) return countOnlyPage<HostImage>(items.length, args, ctx.deps.config.maxImages, 'images');
  const scope = scopeOf(['images', ordering.signature, hosts, args.filter ?? null]);
  return paginate(sortBy(items, ordering), ordering, scope, args, ctx.deps.config.maxImages, 'images');
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
