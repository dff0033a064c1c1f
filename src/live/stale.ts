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
          if (Symbol.asyncIterator in result) return;
          const ctx = args.contextValue as Context;
          const source = ctx.deps.source;
          if (!isLive(source) || !result.data) return;
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
          if (stale.length > 0) setResult({ ...result, errors: [...(result.errors ?? []), ...stale] });
        },
      };
    },
  };
}
