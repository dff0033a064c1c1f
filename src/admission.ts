/**
 * Module: admission control for heavy operations. An operation whose estimated cost (query-cost.ts) is at
 * least `limits.heavyCost` (the unpaginated full inventory is; a page of 100 is not) waits for one of
 * `limits.maxHeavy` slots; at most `limits.maxHeavyQueued` wait, and one more is refused at once with
 * SERVER_BUSY (HTTP 503, Retry-After) before any engine call. Cheap operations never wait here, so a
 * flood of heavy ones cannot starve them of the event loop or memory.
 *
 * Hand-written (~40 lines) rather than p-limit / async-mutex's Semaphore: neither bounds its queue or
 * refuses past it, which is the point here.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { QueryLimits } from './config.js';
import { queryCostOf } from './query-cost.js';

export class Admission {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly maxRunning: number,
    readonly maxWaiting: number,
  ) {}

  /** Running now (for tests and metrics). */
  get active(): number {
    return this.running;
  }

  /** Resolves with a release function once a slot is free; rejects with SERVER_BUSY when the queue is full. */
  acquire(): Promise<() => void> {
    if (this.running < this.maxRunning) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) return Promise.reject(busy());
    return new Promise((resolve) => this.waiting.push(() => resolve(this.releaser())));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter: `running` stays as it is.
      if (next) next();
      else this.running--;
    };
  }
}

export function busy(): GraphQLError {
  return new GraphQLError('the server is busy with other heavy queries; retry shortly, or ask for a page (first: N)', {
    extensions: { code: 'SERVER_BUSY', http: { status: 503, headers: { 'retry-after': '1' } } },
  });
}

/**
 * Runs after useQueryCost (which records each operation's cost) and before the operation starts anything,
 * prefetch included: a waiting operation has made no engine call yet. The slot is freed when execution is
 * done, or at the latest when the response goes out (so a failed execution cannot keep it).
 */
export function useAdmission(limits: Pick<QueryLimits, 'heavyCost' | 'maxHeavy' | 'maxHeavyQueued'>, admission = new Admission(limits.maxHeavy, limits.maxHeavyQueued)): Plugin {
  const held = new WeakMap<Request, () => void>();
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const cost = queryCostOf(args.contextValue);
      if (cost === undefined || cost < limits.heavyCost) return undefined;
      let release: () => void;
      try {
        release = await admission.acquire();
      } catch (err) {
        setResultAndStopExecution({ data: null, errors: [err as GraphQLError] });
        return undefined;
      }
      const request = (args.contextValue as { request?: Request }).request;
      if (request) held.set(request, release);
      return { onExecuteDone: () => release() };
    },
    onResponse({ request }) {
      held.get(request)?.();
    },
  };
}
