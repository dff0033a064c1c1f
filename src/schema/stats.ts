import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.js';
import type { HostImage } from '../inventory/types.js';
import type { ImageFilter } from '../inventory/filter.js';
import { totals, uniqueTotals } from '../inventory/groups.js';
import type { FieldCost } from '../query-cost.js';
import { builder } from './builder.js';
import { ImageFilterInput } from './image-inputs.js';
import { chooseHosts, listImages, loadPerHost } from './host-selection.js';
import { HostType } from './refs.js';
import { hasUpdateStatus } from '../registry/updates.js';

/** For the cost limit: totals walk a whole image list, like an unpaginated list does. */
const TOTALS: FieldCost = { work: 'maxImages' };

interface StatsSource {
  hosts: string[];
  items: HostImage[];
  /** Hosts whose image list was read. */
  answered: string[];
}

/** Images no container uses, on the hosts whose container lists could be read (the others are reported). */
async function unused(s: StatsSource, ctx: Context, info: GraphQLResolveInfo): Promise<HostImage[]> {
  const lists = await loadPerHost(ctx, s.answered, (h) => ctx.loaders.containers.load(h), info);
  const used = new Map(lists.map(({ host, value }) => [host, new Set(value.map((c) => c.imageId))]));
  return s.items.filter((i) => used.has(i.host) && !used.get(i.host)!.has(i.image.id));
}

const dangling = (s: StatsSource) => s.items.filter((i) => i.image.repoTags.length === 0);

const FleetStatsType = builder.objectRef<StatsSource>('FleetStats').implement({
  description:
    'Totals over image summaries. Summing per-host sizes counts an image once per host that holds it (the disk each host uses); uniqueSize counts each distinct image once across the fleet.',
  fields: (t) => ({
    hostCount: t.int({ description: 'Hosts asked.', resolve: (s) => s.hosts.length }),
    hostsAnswered: t.int({ description: 'Hosts whose image list was read; the others are in errors.', resolve: (s) => s.answered.length }),
    imageCount: t.int({ description: 'Image summaries (an image on three hosts counts three times).', resolve: (s) => totals(s.items).count }),
    totalSize: t.field({ type: 'SafeInt', description: 'Sum of the summaries\' sizes, in bytes.', resolve: (s) => totals(s.items).size }),
    uniqueImageCount: t.int({ description: 'Distinct image IDs.', resolve: (s) => uniqueTotals(s.items).count }),
    uniqueSize: t.field({ type: 'SafeInt', description: 'Sum of sizes with each distinct image counted once, in bytes.', resolve: (s) => uniqueTotals(s.items).size }),
    danglingCount: t.int({ description: 'Untagged images.', resolve: (s) => dangling(s).length }),
    danglingSize: t.field({ type: 'SafeInt', description: 'Size of the untagged images, in bytes.', resolve: (s) => totals(dangling(s)).size }),
    outdatedCount: t.int({
      description:
        'Image summaries with at least one OUTDATED tag (see ImageSummary.updates): the registry has another image for the tag than this host holds. 0 unless fleetgraph runs with --check-updates.',
      resolve: async (s, _a, ctx) => (await Promise.all(s.items.map((i) => hasUpdateStatus(ctx.updates, i.image, ['OUTDATED'])))).filter(Boolean).length,
    }),
    unusedCount: t.int({
      description: 'Images no container (running or stopped) uses. Reads each host container list (once per request, only when selected).',
      resolve: async (s, _a, ctx, info) => (await unused(s, ctx, info)).length,
    }),
    unusedSize: t.field({
      type: 'SafeInt',
      description: 'Size of the unused images, in bytes: roughly what `docker image prune -a` would free (shared layers are freed only with the last image using them).',
      resolve: async (s, _a, ctx, info) => totals(await unused(s, ctx, info)).size,
    }),
  }),
});

async function statsOf(ctx: Context, hosts: string[], filter: ImageFilter | null | undefined, info: GraphQLResolveInfo): Promise<StatsSource> {
  const items = await listImages(ctx, hosts, filter, info);
  const answered = (await Promise.all(hosts.map((h) => ctx.loaders.images.load(h).then(() => h, () => null)))).filter((h): h is string => h !== null);
  return { hosts, items, answered };
}

builder.queryField('fleet', (t) =>
  t.field({
    type: FleetStatsType,
    description: 'Totals over the chosen hosts (all by default).',
    extensions: { cost: TOTALS },
    args: { hosts: t.arg.stringList(), filter: t.arg({ type: ImageFilterInput }) },
    resolve: (_r, args, ctx, info) => statsOf(ctx, chooseHosts(ctx, args.hosts), args.filter, info),
  }),
);

builder.objectField(HostType, 'stats', (t) =>
  t.field({
    type: FleetStatsType,
    description: 'Totals for this host.',
    extensions: { cost: TOTALS },
    args: { filter: t.arg({ type: ImageFilterInput }) },
    resolve: (h, args, ctx, info) => statsOf(ctx, [h.name], args.filter, info),
  }),
);
