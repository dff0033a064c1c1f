import { responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.js';
import { HostError } from '../docker/errors.js';
import type { ContainerRecord } from '../inventory/types.js';

/** A field's response path, as partial errors are reported at it. */
export function pathOf(info: GraphQLResolveInfo): Array<string | number> {
  return responsePathAsArray(info.path);
}

/**
 * The one seam for fields that may answer without a failed host: a HostError (made by the source, see
 * EngineSource.get) is recorded once in the request's partial errors at this field's path, and the field
 * answers `fallback`. Any other rejection is a bug of ours: it propagates, so yoga logs it and masks it.
 */
export async function orPartial<T, F>(ctx: Context, info: GraphQLResolveInfo, promise: Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await promise;
  } catch (err) {
    if (!(err instanceof HostError)) throw err;
    ctx.partialErrors.add(err, pathOf(info));
    return fallback;
  }
}

/**
 * orPartial for a per-host answer that may already be in (`settled`, see Loaders.settled): then the field
 * answers synchronously (the value, or `fallback` with the host's error recorded as orPartial does), with
 * no promise per image; else it waits as orPartial. Over 4000 images, a promise per image and field held
 * the event loop for one long microtask run (bench/profile.ts --query every).
 */
export function orPartialSettled<T, F>(ctx: Context, info: GraphQLResolveInfo, settled: ReadonlyMap<string, T | Error>, host: string, load: () => Promise<T>, fallback: F): T | F | Promise<T | F> {
  const answer = settled.get(host);
  if (answer === undefined) return orPartial(ctx, info, load(), fallback);
  if (!(answer instanceof Error)) return answer;
  if (!(answer instanceof HostError)) throw answer;
  ctx.partialErrors.add(answer, pathOf(info));
  return fallback;
}

/** The per-host answers an image's fields read besides its list (see Loaders.settled). */
interface HostDetails {
  containers: ContainerRecord[];
  sharedSizes: Map<string, number | null>;
}

/**
 * `use` of a host's container list or shared sizes (null when that call failed, its error recorded as
 * orPartialSettled does): synchronously when the answer is in, else once it is.
 */
export function withHostDetail<K extends keyof HostDetails, R>(ctx: Context, info: GraphQLResolveInfo, kind: K, host: string, use: (value: HostDetails[K] | null) => R): R | Promise<R> {
  const loaders: { [P in keyof HostDetails]: { load(host: string): Promise<HostDetails[P]> } } = ctx.loaders;
  const settled: { [P in keyof HostDetails]: ReadonlyMap<string, HostDetails[P] | Error> } = ctx.loaders.settled;
  const value = orPartialSettled(ctx, info, settled[kind], host, () => loaders[kind].load(host), null);
  return value instanceof Promise ? value.then(use) : use(value);
}
