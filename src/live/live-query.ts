import { useLiveQuery } from '@envelop/live-query';
import { getLiveDirectiveArgumentValues, getLiveDirectiveNode } from '@n1ru4l/graphql-live-query';
import { InMemoryLiveQueryStore } from '@n1ru4l/in-memory-live-query-store';
import { getOperationAST, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { executionState, type AppDeps, type Context } from '../context.js';
import { isLive } from './hub.js';
import { staleErrors } from './stale.js';

/** The fewest milliseconds between two results of one live query, whatever `@live(throttle:)` asks. */
export const LIVE_THROTTLE_MS = 250;

type Execute = (args: ExecutionArgs) => unknown;

const isContext = (v: unknown): v is Context => typeof v === 'object' && v !== null && 'loaders' in v && 'partialErrors' in v;

/** One live query while it is open: the hosts it may see, its throttle, and when it last ran. */
interface LiveRun {
  readonly id: string;
  readonly hosts: readonly string[];
  readonly throttleMs: number;
  lastRun: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Which open live query watches which host, and the throttle that re-runs them. The store's own throttle
 * is not used: it re-checks Date.now() when its timer fires and drops the trailing run when the timer
 * comes a millisecond early by that clock (timers run on the monotonic clock, truncated to ms), so a
 * change was sometimes never sent (bench:live lost 2-4 in 100; seen with a logging copy of the store).
 * Here a change marks the query due and one timer per query re-runs it once its throttle has passed,
 * with no second check that could drop it. Each query is invalidated by its own identifier.
 */
class LiveRuns {
  private readonly byContext = new WeakMap<Context, LiveRun>();
  private readonly byHost = new Map<string, Set<LiveRun>>();
  private next = 0;

  constructor(private readonly invalidate: (id: string) => void) {}

  /** A run of the live query whose request context is `base` starts now; returns its identifier. */
  started(base: Context, args: ExecutionArgs): string {
    let run = this.byContext.get(base);
    if (!run) {
      run = { id: `fleetgraph:live:${++this.next}`, hosts: base.visibleHosts, throttleMs: throttleOf(args), lastRun: 0, timer: undefined };
      this.byContext.set(base, run);
      for (const h of run.hosts) {
        let set = this.byHost.get(h);
        if (!set) this.byHost.set(h, (set = new Set()));
        set.add(run);
      }
    }
    run.lastRun = performance.now();
    return run.id;
  }

  /** The live query of `base` has ended (completed, or its client went away). */
  ended(base: Context): void {
    const run = this.byContext.get(base);
    if (!run) return;
    this.byContext.delete(base);
    clearTimeout(run.timer);
    for (const h of run.hosts) {
      const set = this.byHost.get(h);
      set?.delete(run);
      if (set?.size === 0) this.byHost.delete(h);
    }
  }

  /** `host` changed: every live query that may see it runs again, at once or when its throttle allows. */
  changed(host: string): void {
    this.due(this.byHost.get(host) ?? []);
  }

  /** Something every host's answers may show changed (a registry update check): every live query runs again. */
  changedEverywhere(): void {
    this.due(new Set([...this.byHost.values()].flatMap((set) => [...set])));
  }

  private due(runs: Iterable<LiveRun>): void {
    for (const run of runs) {
      if (run.timer) continue;
      const wait = run.lastRun + run.throttleMs - performance.now();
      if (wait <= 0) this.invalidate(run.id);
      else
        run.timer = setTimeout(() => {
          run.timer = undefined;
          this.invalidate(run.id);
        }, Math.ceil(wait));
    }
  }
}

/** `@live(throttle: N)`: N ms between results, never less than LIVE_THROTTLE_MS. */
function throttleOf(args: ExecutionArgs): number {
  const op = getOperationAST(args.document, args.operationName);
  const node = op ? getLiveDirectiveNode(op) : undefined;
  const asked = node ? getLiveDirectiveArgumentValues(node, args.variableValues ?? undefined).throttleValue : undefined;
  return Math.max(asked ?? 0, LIVE_THROTTLE_MS);
}

/**
 * Each run of a live query gets a fresh per-request state (loaders, filters and update answers are cached
 * for one execution, and partial errors are of that result), is registered with LiveRuns under its own identifier, and carries its own
 * partial and HOST_STALE errors (the result-level plugins see only the stream, not each result). The
 * store hands the run a wrapper context: {[its symbol]: our Context, addResourceIdentifier, …}.
 */
function useFreshLiveRuns(runs: LiveRuns): Plugin<Context> {
  return {
    onExecute({ executeFn, setExecuteFn, args }) {
      const execute = executeFn as Execute;
      setExecuteFn(((args: ExecutionArgs) => {
        const wrapper = args.contextValue as Record<symbol | string, unknown> | undefined;
        if (!wrapper || isContext(wrapper)) return execute(args);
        const key = Object.getOwnPropertySymbols(wrapper).find((s) => isContext(wrapper[s]));
        if (!key) return execute(args);
        const base = wrapper[key] as Context;
        const ctx: Context = { ...base, ...executionState(base.deps, base.imageDetail) };
        (wrapper.addResourceIdentifier as (ids: string[]) => void)([runs.started(base, args)]);
        const withErrors = (result: ExecutionResult): ExecutionResult => {
          const extra = [...ctx.partialErrors.list(), ...staleErrors(ctx)];
          return extra.length ? { ...result, errors: [...(result.errors ?? []), ...extra] } : result;
        };
        const out = execute({ ...args, contextValue: { ...wrapper, [key]: ctx } }) as ExecutionResult | Promise<ExecutionResult>;
        return out instanceof Promise ? out.then(withErrors) : withErrors(out);
      }) as typeof executeFn);
      const base = args.contextValue as Context;
      return {
        onExecuteDone: ({ result }) => (Symbol.asyncIterator in result ? { onEnd: () => runs.ended(base) } : undefined),
      };
    },
  };
}

/**
 * Live queries (`query @live { … }`, answered over SSE and graphql-ws) in mirror mode: an in-memory
 * invalidation store (@n1ru4l/in-memory-live-query-store) re-runs a live query when the mirror changes a
 * host it may see, or a registry update check brings a new answer, at most once per its throttle (LiveRuns). In direct mode nothing tells fleetgraph
 * that a host changed, so no plugin is added and `@live` answers once. The store's per-`id` resource
 * tracking is off (no field is named as its id field): 4000 image ids per run bought nothing here.
 */
export function liveQueryPlugins(deps: AppDeps): Plugin[] {
  const source = deps.source;
  if (!isLive(source)) return [];
  const store = new InMemoryLiveQueryStore({ validateThrottleValue: () => undefined, includeIdentifierExtension: false, idFieldName: '__fleetgraph_untracked' });
  const runs = new LiveRuns((id) => void store.invalidate(id));
  source.onChange((host) => runs.changed(host));
  // ImageSummary.updates and the updateStatus filter read the checker's answers: a new one is a change too.
  deps.updates?.onChange(() => runs.changedEverywhere());
  return [useFreshLiveRuns(runs) as Plugin, useLiveQuery({ liveQueryStore: store }) as Plugin];
}
