import type { ImageRecord } from './types.js';
import { compileFilter, filterKey, type CompiledFilter, type HostFilterResult, type ImageFilter } from './filter.js';

/**
 * Per-request filter work, so that a query nesting lists (images → host → images …) or repeating a
 * filter pays for it once: each distinct filter is validated and compiled once, each (host, filter)
 * is evaluated once, and each image's reference forms are computed once. Lives on the request's
 * context (never shared between requests). The counters are for tests.
 */
export class RequestFilters {
  compilations = 0;
  evaluations = 0;
  private readonly compiled = new Map<string, CompiledFilter>();
  private readonly results = new Map<string, Promise<HostFilterResult>>();
  readonly forms = new WeakMap<ImageRecord, string[]>();

  compile(filter: ImageFilter | null | undefined, argument = 'filter'): CompiledFilter | undefined {
    if (!filter) return undefined;
    const key = `${argument}\u0000${filterKey(filter)}`;
    let cf = this.compiled.get(key);
    if (!cf) {
      cf = compileFilter(filter, argument)!;
      this.compiled.set(key, cf);
      this.compilations++;
    }
    return cf;
  }

  /** The result of `run` for this host and filter, computed on the first call of the request only. */
  evaluate(host: string, cf: CompiledFilter, run: () => Promise<HostFilterResult>): Promise<HostFilterResult> {
    const key = `${host}\u0000${cf.key}`;
    let result = this.results.get(key);
    if (!result) {
      this.evaluations++;
      result = run();
      this.results.set(key, result);
    }
    return result;
  }
}
