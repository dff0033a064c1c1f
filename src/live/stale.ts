import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { isLive } from './hub.js';

/**
 * Mirror mode: an answer that includes hosts served from a stale mirror (stream not connected, or the
 * last reload failed) says so, once per such host the request may see: an error entry with code
 * HOST_STALE, the host, its stream state and inventoryAge (seconds). Never silently stale.
 */
export function useStaleMirror(): Plugin<Context> {
  return {
    onExecute() {
      return {
        onExecuteDone({ args, result, setResult }) {
          if (Symbol.asyncIterator in result || !result.data) return;
          const stale = staleErrors(args.contextValue as Context);
          if (stale.length > 0) setResult({ ...result, errors: [...(result.errors ?? []), ...stale] });
        },
      };
    },
  };
}

/** One HOST_STALE error per host the request may see whose mirror is stale (none outside mirror mode). */
export function staleErrors(ctx: Context): GraphQLError[] {
  const source = ctx.deps.source;
  if (!isLive(source)) return [];
  const stale: GraphQLError[] = [];
  for (const host of ctx.visibleHosts) {
    const f = source.freshness(host);
    if (!f.stale || f.inventoryAge === null) continue;
    stale.push(
      new GraphQLError(`host "${host}": served from the mirror as read ${Math.round(f.inventoryAge)} s ago (event stream ${f.stream})`, {
        extensions: { code: 'HOST_STALE', host, stream: f.stream, inventoryAge: f.inventoryAge },
      }),
    );
  }
  return stale;
}
