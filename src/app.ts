import { GraphQLError } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { createContext, type AppDeps, type Context } from './context.js';
import { executionPlugins } from './execution.js';
import { GRAPHIQL_TABS } from './graphiql-examples.js';
import { useCachedGraphiQL } from './graphiql-page.js';
import { useFleetPage } from './fleet-page.js';
import { schema } from './schema/index.js';
import { securityPlugins } from './security.js';
import { HostVisibility } from './visibility.js';
import { createUpdateChecker } from './registry/checker.js';
import { useErrorMetrics } from './metrics.js';
import { liveQueryPlugins } from './live/live-query.js';
import { useStaleMirror } from './live/stale.js';
import { isLive } from './live/hub.js';
import { useAnswerCache } from './live/answer-cache.js';

/**
 * Appends the per-host partial errors collected during execution to the result, and gives variable
 * coercion errors (which graphql-js reports without a code) the code clients expect.
 */
function usePartialErrors(): Plugin<Context> {
  return {
    onExecute() {
      return {
        onExecuteDone({ args, result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          const extra = (args.contextValue as Context).partialErrors.list();
          const errors = result.errors?.map((e) =>
            isUncodedVariableError(e) ? new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: 'BAD_USER_INPUT' } }) : e,
          );
          if (extra.length > 0 || errors?.some((e, i) => e !== result.errors![i])) setResult({ ...result, errors: [...(errors ?? []), ...extra] });
        },
      };
    },
  };
}

function isUncodedVariableError(e: GraphQLError): boolean {
  return !e.path && !e.extensions?.code && e.message.startsWith('Variable "$');
}

export type App = YogaServerInstance<Record<string, never>, Context>;

/** The GraphQL app, without listening: the server wraps it, tests call app.fetch. */
export function createApp(given: AppDeps): App {
  const deps: AppDeps = given.updates || !given.config.updates.enabled ? given : { ...given, updates: createUpdateChecker(given.config.updates) };
  const visibility = deps.visibility ?? new HostVisibility(deps.config.tokens, deps.source.hostNames());
  return createYoga<Record<string, never>, Context>({
    schema,
    // Which hosts exist for this request is decided here, once (a request without a valid token never
    // gets this far when tokens are configured: useBearerAuth answers 401).
    context: ({ request }) => createContext(deps, visibility.visibleHosts(request.headers.get('authorization')) ?? []),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: deps.logger
      ? {
          debug: (...args: unknown[]) => deps.logger!.debug(args.map(String).join(' ')),
          info: (...args: unknown[]) => deps.logger!.info(args.map(String).join(' ')),
          warn: (...args: unknown[]) => deps.logger!.warn(args.map(String).join(' ')),
          error: (...args: unknown[]) => deps.logger!.error({ err: args.find((a) => a instanceof Error) }, args.filter((a) => !(a instanceof Error)).map(String).join(' ') || 'unexpected error'),
        }
      : false,
    // GraphiQL is served from the installed package, never from a CDN; the package (~45 MiB in memory)
    // is loaded only when the page is first asked for, so production (no GraphiQL) never pays for it.
    // It is rendered and compressed once, then served from memory with an ETag (graphiql-page.ts).
    graphiql: false,
    // Unexpected errors reach clients as "Unexpected error." in every mode (yoga would add the original
    // error's message and stack when NODE_ENV=development); yoga logs the original.
    maskedErrors: { isDev: false },
    // No CORS headers unless origins are configured: browsers then refuse cross-origin reads.
    cors: deps.config.corsOrigins.length
      ? {
          origin: deps.config.corsOrigins,
          methods: ['GET', 'POST'],
          allowedHeaders: ['content-type', 'authorization', 'x-graphql-yoga-csrf', 'x-request-id'],
          exposedHeaders: ['x-request-id'],
          credentials: false,
        }
      : false,
    plugins: [
      // Before the security plugins: the fleet page's files hold no data and load without a token.
      ...(deps.config.ui ? [useFleetPage()] : []),
      ...(deps.config.graphiql ? [useCachedGraphiQL({ title: 'fleetgraph', defaultTabs: GRAPHIQL_TABS, defaultQuery: GRAPHIQL_TABS[0]!.query }, '/graphql')] : []),
      ...securityPlugins(deps.config, visibility.tokens),
      usePartialErrors(),
      ...executionPlugins(deps.config.limits.maxAnswerBytes),
      useStaleMirror(),
      // after graphql-jit's: the live-query store wraps whatever execute function is in place
      ...liveQueryPlugins(deps),
      // last: counts the errors of the answer as sent (after the answer-size cap may have replaced it)
      ...(deps.metrics ? [useErrorMetrics(deps.metrics)] : []),
      // Mirror mode only, and after useAnswerLimit: stores the final text of error-free answers, serves repeats.
      ...(isLive(deps.source) ? [useAnswerCache(deps.source, visibility)] : []),
    ],
  });
}
