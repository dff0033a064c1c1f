import { GraphQLError, responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.js';
import { HostError } from '../docker/errors.js';
import type { ContainerRecord, HostImage, ImageRecord } from '../docker/normalize.js';
import { filterHostImages, needsContainers, resolveIdPrefixes, validateFilter, type ImageFilter } from '../inventory/filter.js';

/**
 * What resolvers use to read the fleet: host selection (scoped to what the request may see), and
 * image lists through the per-request loaders, with per-host failures recorded as partial errors
 * instead of failing the field.
 */

export function pathOf(info: GraphQLResolveInfo): Array<string | number> {
  return responsePathAsArray(info.path);
}

/** The hosts a list covers: all visible ones by default; unknown (or hidden) names are an error naming them. */
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
  const results = await Promise.all(
    hosts.map((host) =>
      load(host).then(
        (value) => ({ host, value }),
        (err: unknown) => {
          if (err instanceof HostError) {
            ctx.partialErrors.add(err, pathOf(info));
            return undefined;
          }
          throw err;
        },
      ),
    ),
  );
  return results.filter((r): r is { host: string; value: T } => r !== undefined);
}

/** Every image on `hosts` that passes `filter`, each with its host. */
export async function listImages(ctx: Context, hosts: readonly string[], filter: ImageFilter | null | undefined, info: GraphQLResolveInfo): Promise<HostImage[]> {
  validateFilter(filter);
  const withContainers = needsContainers(filter);
  const perHost = await loadPerHost(
    ctx,
    hosts,
    async (host) => {
      const [images, containers] = await Promise.all([
        ctx.loaders.images.load(host),
        withContainers ? ctx.loaders.containers.load(host) : Promise.resolve(undefined as ContainerRecord[] | undefined),
      ]);
      return { images, containers };
    },
    info,
  );
  const ids = resolveIdPrefixes(
    filter,
    perHost.flatMap((h) => h.value.images.map((i) => i.id)),
  );
  const out: HostImage[] = [];
  for (const { host, value } of perHost) {
    const result = filterHostImages(host, value.images, filter, ids, value.containers);
    if (result.error) ctx.partialErrors.add(result.error, pathOf(info));
    for (const image of result.images) out.push({ host, image });
  }
  return out;
}

/** One host's images, or the HostError (for fields that report a single host's state). */
export async function hostImages(ctx: Context, host: string): Promise<ImageRecord[] | HostError> {
  return ctx.loaders.images.load(host).catch((err: unknown) => {
    if (err instanceof HostError) return err;
    throw err;
  });
}
