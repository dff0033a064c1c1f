/**
 * Module: what resolvers use to read the fleet: host selection among the hosts the request may see
 * (decided once, in createContext), and image lists through the per-request loaders, with per-host
 * failures recorded as partial errors (orPartial) instead of failing the field.
 */
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.js';
import { HostError } from '../docker/errors.js';
import { badInput } from '../inventory/errors.js';
import type { ContainerRecord, HostImage, ImageRecord } from '../inventory/types.js';
import { finishHostFilter, planHostFilter, secondsOnly, type CompiledFilter, type HostFilterResult, type ImageFilter } from '../inventory/filter.js';
import { orPartial, pathOf } from './partial.js';
import { hasUpdateStatus, type UpdateStatus } from '../registry/updates.js';

/** The hosts a list covers, among ctx.visibleHosts (HostVisibility decided those): all by default; unknown (or hidden) names are an error naming them. */
export function chooseHosts(ctx: Context, names: readonly string[] | null | undefined, argument = 'hosts'): string[] {
  if (names === null || names === undefined) return [...ctx.visibleHosts];
  const unknown = [...new Set(names.filter((n) => !ctx.visibleHosts.includes(n)))];
  if (unknown.length > 0) {
    throw new GraphQLError(`${argument}: unknown host${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}`, {
      extensions: { code: 'UNKNOWN_HOST', argument, hosts: unknown },
    });
  }
  return [...new Set(names)];
}

/** Loads one kind of per-host data for several hosts; failed hosts are reported and left out. */
export async function loadPerHost<T>(
  ctx: Context,
  hosts: readonly string[],
  load: (host: string) => Promise<T>,
  info: GraphQLResolveInfo,
): Promise<Array<{ host: string; value: T }>> {
  const results = await Promise.all(hosts.map((host) => orPartial(ctx, info, load(host).then((value) => ({ host, value })), undefined)));
  return results.filter((r): r is { host: string; value: T } => r !== undefined);
}

/** Every image on `hosts` that passes `filter`, each with its host. */
export async function listImages(ctx: Context, hosts: readonly string[], filter: ImageFilter | null | undefined, info: GraphQLResolveInfo): Promise<HostImage[]> {
  const cf = ctx.filters.compile(filter);
  const load = (host: string): Promise<HostFilterResult> =>
    cf ? ctx.filters.evaluate(host, cf, () => filterOneHost(ctx, host, cf)) : ctx.loaders.images.load(host).then((images) => ({ images }));
  const perHost = await loadPerHost(ctx, hosts, load, info);
  // The container lists and shared sizes the operation needs (prefetch.ts started them) are awaited here,
  // once per host, so the images' fields read them synchronously instead of with a promise per image.
  await Promise.all(perHost.map((h) => ctx.loaders.detailsSettled(h.host)));
  if (cf?.filter.ids) checkIdPrefixes(cf.filter.ids, perHost.map((h) => h.value.idHits ?? []));
  const out: HostImage[] = [];
  for (const { host, value } of perHost) {
    if (value.error) ctx.partialErrors.add(value.error, pathOf(info));
    // Requests waiting on one big host resume together: a yield every 20,000 images lets them take turns.
    const images = value.images;
    for (let i = 0; i < images.length; i++) {
      if (i > 0 && i % 20_000 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      out.push({ host, image: images[i]! });
    }
  }
  return out;
}

/** One host's filtered list: the inventory's conditions, then the update states (which may ask registries). */
async function filterOneHost(ctx: Context, host: string, cf: CompiledFilter): Promise<HostFilterResult> {
  const result = await inventoryFilter(ctx, host, cf);
  const statuses = cf.filter.updateStatus as readonly UpdateStatus[] | null | undefined;
  if (!statuses?.length) return result;
  const keep = await Promise.all(result.images.map((image) => hasUpdateStatus(ctx.updates, image, statuses)));
  return { ...result, images: result.images.filter((_, i) => keep[i]) };
}

/** Precise creation times are asked for only where whole seconds cannot decide. */
async function inventoryFilter(ctx: Context, host: string, cf: CompiledFilter): Promise<HostFilterResult> {
  const [images, containers] = await Promise.all([
    ctx.loaders.images.load(host),
    cf.needsContainers ? ctx.loaders.containers.load(host) : Promise.resolve(undefined as ContainerRecord[] | undefined),
  ]);
  const plan = await planHostFilter(host, images, cf, containers, ctx.filters.forms);
  if (plan.needPrecise.length === 0) return finishHostFilter(host, plan, cf, new Map());
  const loader = ctx.loaders.createdNanos;
  if (!loader) return finishHostFilter(host, plan, cf, secondsOnly(images, plan.needPrecise));
  const times = await loader.loadMany(plan.needPrecise.map((id) => `${host}\n${id}`));
  const created = new Map<string, bigint | null>();
  plan.needPrecise.forEach((id, i) => {
    const t = times[i];
    if (t instanceof Error) throw t;
    created.set(id, t ?? null);
  });
  return finishHostFilter(host, plan, cf, created);
}

/** An `ids` prefix must name one image across the listed hosts (an image on several hosts is one image). */
function checkIdPrefixes(given: readonly string[], hitsPerHost: ReadonlyArray<ReadonlyArray<readonly string[]>>, argument = 'filter'): void {
  given.forEach((prefix, i) => {
    const hits = new Set(hitsPerHost.flatMap((h) => h[i] ?? []));
    if (hits.size > 1) throw badInput(`${argument}.ids[${i}]: "${prefix}" is ambiguous (${hits.size} images)`, `${argument}.ids`);
  });
}

/** One host's images, or the HostError (for fields that report a single host's state). */
export async function hostImages(ctx: Context, host: string): Promise<ImageRecord[] | HostError> {
  return ctx.loaders.images.load(host).catch((err: unknown) => {
    if (err instanceof HostError) return err;
    throw err;
  });
}
