import { GraphQLError, getNullableType, getOperationAST, getVariableValues, isListType, type GraphQLField } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import type { Config } from './config.js';

/**
 * What a field may say about its cost, in its `extensions.cost` (set in src/schema). Lists without an
 * annotation are assumed to return as many items as an unpaginated list can (`maxImages`): a new list
 * field is expensive until someone says why it is not.
 */
export interface FieldCost {
  /** How many items the cost limit assumes the list returns: one per visible host, or a fixed number. */
  list?: 'hosts' | number;
  /** Work the field does beyond its selection, in list items (e.g. totals over a host's whole image list). */
  work?: 'maxImages';
}

/** Fragment spreads can repeat a selection many times over: count at most this many selections. */
const MAX_QUERY_NODES = 20_000;

const costOf = (field: GraphQLField<unknown, unknown>) => field.extensions?.cost as FieldCost | undefined;

function listLength(args: Record<string, unknown>, key: string): number | undefined {
  const v = args[key];
  return Array.isArray(v) ? v.length : undefined;
}

/**
 * Every field costs 1, plus its selection once per item it can return. A connection returns `first`
 * (or `last`) items, else up to `maxImages`; its `nodes`/`edges` are already counted by it. So a flat
 * list of every image costs about maxImages × fields, and a list nested in a list multiplies: the
 * nested-list bombs (images → host → images → …) cost maxImages² and more.
 *
 * graphql-armor's cost limit counts each field once whatever the list sizes, hence this estimator
 * (over graphql-query-complexity, which walks the document with variables and fragments).
 */
export function listCostEstimator(config: Pick<Config, 'maxImages' | 'hosts'>): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    // Introspection (GraphiQL's schema query) is small and bounded by the schema.
    if (type.name.startsWith('__') || field.name.startsWith('__')) return 1 + childComplexity;
    const cost = costOf(field);
    const work = cost?.work === 'maxImages' ? config.maxImages : 0;
    const hosts = listLength(args, 'hosts') ?? listLength(args, 'names') ?? config.hosts.length;
    let items = 1;
    if (type.name.endsWith('Connection') && (field.name === 'nodes' || field.name === 'edges')) items = 1;
    else if (getNullableType(field.type).toString().endsWith('Connection') && field.args.some((a) => a.name === 'first')) {
      const page = (args.first ?? args.last) as number | null | undefined;
      items = Math.min(page ?? config.maxImages, config.maxImages);
    } else if (isListType(getNullableType(field.type))) {
      items = cost?.list === 'hosts' ? hosts : (cost?.list ?? config.maxImages);
    }
    return 1 + work + Math.max(0, items) * childComplexity;
  };
}

/** Each operation's estimated cost, by its context object (for useAdmission). */
const costs = new WeakMap<object, number>();

/** The cost useQueryCost estimated for the operation running with this context, if it did. */
export function queryCostOf(context: unknown): number | undefined {
  return typeof context === 'object' && context !== null ? costs.get(context) : undefined;
}

function limitError(message: string, extensions: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'QUERY_LIMIT_EXCEEDED', ...extensions } });
}

/**
 * Refuses an operation whose estimated cost is over `limits.maxCost`, after validation and before any
 * resolver runs (so before any engine call). Runs at execution, not validation, because the cost
 * depends on the variables (`first: $n`) and yoga caches validation per document.
 */
export function useQueryCost(config: Config): Plugin {
  const estimators = [listCostEstimator(config)];
  const max = config.limits.maxCost;
  return {
    onExecute({ args, setResultAndStopExecution }) {
      // Variables that do not coerce fail the execution itself, with graphql-js's coded errors, before
      // any resolver runs: leave them to it rather than report them as a cost failure.
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation) return;
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      if (getVariableValues(args.schema, operation.variableDefinitions ?? [], variables, { maxErrors: 1 }).errors) return;
      let cost: number;
      try {
        cost = getComplexity({
          schema: args.schema,
          query: args.document,
          variables,
          ...(args.operationName ? { operationName: args.operationName } : {}),
          estimators,
          maxQueryNodes: MAX_QUERY_NODES,
        });
      } catch (err) {
        const message = err instanceof GraphQLError ? err.message : 'the query cost could not be estimated';
        setResultAndStopExecution({ errors: [limitError(message, { limit: 'maxCost' })] });
        return;
      }
      costs.set(args.contextValue as object, cost);
      if (cost > max) {
        setResultAndStopExecution({
          errors: [
            limitError(`query cost ${cost} is over the limit of ${max}: a list without first/last counts as ${config.maxImages} items, and a list inside a list multiplies; ask for pages (first: N) or fewer nested lists`, {
              limit: 'maxCost',
              cost,
              max,
            }),
          ],
        });
      }
    },
  };
}
