/**
 * Module: how operations execute. graphql-jit compiles each distinct operation into one function once,
 * and runs it instead of graphql-js's generic executor: on a 4000-item image list that is most of the
 * execution time (perf-notes.md). Compiled operations are kept per parsed document (a WeakMap in the
 * plugin), and yoga keeps parsed documents in its bounded LRU cache (1024 documents, one hour), so the
 * compiled ones are bounded by the same limit and go with their documents. usePrefetch starts the
 * operation's engine calls first (src/schema/prefetch.ts).
 */
import { useGraphQlJit } from '@envelop/graphql-jit';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from './context.js';
import { usePrefetch } from './schema/prefetch.js';
import { useDirectNodes } from './schema/direct-nodes.js';

/**
 * A request graphql-jit cannot start (variables that do not coerce) comes back without data, as from
 * graphql-js; yoga's own executor marks those errors as the client's (HTTP 400, BAD_USER_INPUT), which
 * jit does not, so the same mark is added here to keep the status and code clients had.
 */
function useRequestErrorStatus(): Plugin<Context> {
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result || result.data !== undefined || !result.errors?.length || result.errors.some((e) => e.path)) return;
          const errors = result.errors.map(
            (e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: e.extensions?.code ?? 'BAD_USER_INPUT', http: { status: 400 } } }),
          );
          const { data: _data, ...rest } = result;
          setResult({ ...rest, errors });
        },
      };
    },
  };
}

export function executionPlugins(maxAnswerBytes: number): Array<Plugin<Context>> {
  return [usePrefetch(), useDirectNodes(maxAnswerBytes), useGraphQlJit() as Plugin<Context>, useRequestErrorStatus()];
}
