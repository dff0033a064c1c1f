import { useLiveQuery } from '@envelop/live-query';
import { InMemoryLiveQueryStore } from '@n1ru4l/in-memory-live-query-store';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { PartialErrors, type AppDeps, type Context } from '../context.js';
import { createLoaders } from '../docker/loaders.js';
import { RequestFilters } from '../inventory/filter-cache.js';
import { isLive } from './hub.js';
import { staleErrors } from './stale.js';

/** The fewest milliseconds between two results of one live query, whatever `@live(throttle:)` asks. */
export const LIVE_THROTTLE_MS = 250;

const hostKey = (host: string) => `fleetgraph:host:${host}`;

type Execute = (args: ExecutionArgs) => unknown;

const isContext = (v: unknown): v is Context => typeof v === 'object' && v !== null && 'loaders' in v && 'partialErrors' in v;

/**
 * Each run of a live query gets a fresh per-request state (loaders cache for one execution, and partial
 * errors are of that result), tags the run with the hosts it may see, and carries its own partial and
 * HOST_STALE errors (the result-level plugins see only the stream, not each result). The store hands
 * the run a wrapper context: {[its symbol]: our Context, addResourceIdentifier, …}.
 */
function useFreshLiveRuns(): Plugin<Context> {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      const execute = executeFn as Execute;
      setExecuteFn(((args: ExecutionArgs) => {
        const wrapper = args.contextValue as Record<symbol | string, unknown> | undefined;
        if (!wrapper || isContext(wrapper)) return execute(args);
        const key = Object.getOwnPropertySymbols(wrapper).find((s) => isContext(wrapper[s]));
        if (!key) return execute(args);
        const base = wrapper[key] as Context;
        const ctx: Context = { ...base, loaders: createLoaders(base.deps.source, base.imageDetail), partialErrors: new PartialErrors(), filters: new RequestFilters() };
        (wrapper.addResourceIdentifier as (ids: string[]) => void)(ctx.visibleHosts.map(hostKey));
        const withErrors = (result: ExecutionResult): ExecutionResult => {
          const extra = [...ctx.partialErrors.list(), ...staleErrors(ctx)];
          return extra.length ? { ...result, errors: [...(result.errors ?? []), ...extra] } : result;
        };
        const out = execute({ ...args, contextValue: { ...wrapper, [key]: ctx } }) as ExecutionResult | Promise<ExecutionResult>;
        return out instanceof Promise ? out.then(withErrors) : withErrors(out);
      }) as typeof executeFn);
    },
  };
}

/**
 * Live queries (`query @live { … }`, answered over SSE) in mirror mode: an in-memory invalidation
 * store (@n1ru4l/in-memory-live-query-store) re-runs a live query when the mirror changes a host it
 * may see, at most once per LIVE_THROTTLE_MS. In direct mode nothing tells fleetgraph that a host
 * changed, so no plugin is added and `@live` answers once.
 */
export function liveQueryPlugins(deps: AppDeps): Plugin[] {
  const source = deps.source;
  if (!isLive(source)) return [];
  const store = new InMemoryLiveQueryStore({ validateThrottleValue: (v) => Math.max(v ?? 0, LIVE_THROTTLE_MS), includeIdentifierExtension: false });
  source.onChange((host) => void store.invalidate(hostKey(host)));
  return [useFreshLiveRuns() as Plugin, useLiveQuery({ liveQueryStore: store }) as Plugin];
}
