/**
 * Module: how operations execute. graphql-jit compiles each distinct operation into one function once,
 * and runs it instead of graphql-js's generic executor: on a 4000-item image list that is most of the
 * execution time (perf-notes.md). Compiled operations are kept per parsed document (a WeakMap in the
 * plugin), and yoga keeps parsed documents in its bounded LRU cache (1024 documents, one hour), so the
 * compiled ones are bounded by the same limit and go with their documents. usePrefetch starts the
 * operation's engine calls first (src/schema/prefetch.ts).
 */
import { useGraphQlJit } from '@envelop/graphql-jit';
import type { Plugin } from 'graphql-yoga';
import type { Context } from './context.js';
import { usePrefetch } from './schema/prefetch.js';

export function executionPlugins(): Array<Plugin<Context>> {
  return [usePrefetch(), useGraphQlJit() as Plugin<Context>];
}
