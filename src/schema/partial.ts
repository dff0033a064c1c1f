import { responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.js';
import { HostError } from '../docker/errors.js';

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
