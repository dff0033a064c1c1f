import { GraphQLError } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { createContext, type AppDeps, type Context } from './context.js';
import { GRAPHIQL_TABS } from './graphiql-examples.js';
import { renderGraphiQLPage } from './graphiql.js';
import { schema } from './schema/index.js';
import { liveQueryPlugins } from './live/live-query.js';
import { useStaleMirror } from './live/stale.js';
import { requestScopes, securityPlugins } from './security.js';

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
export function createApp(deps: AppDeps): App {
  return createYoga<Record<string, never>, Context>({
    schema,
    // A scoped token's hosts are the only hosts that exist for its requests.
    context: ({ request }) => {
      const scope = requestScopes.get(request);
      return createContext(deps, scope ? deps.source.hostNames().filter((h) => scope.includes(h)) : deps.source.hostNames());
    },
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
    // The page's package (~45 MiB in memory) is loaded only when the page is first asked for, so
    // production (no GraphiQL) never pays for it.
    renderGraphiQL: renderGraphiQLPage,
    graphiql: deps.config.graphiql ? { title: 'fleetgraph', defaultTabs: GRAPHIQL_TABS, defaultQuery: GRAPHIQL_TABS[0]!.query } : false,
    // Unexpected errors reach clients as "Unexpected error."; their details go to the log, never to clients.
    maskedErrors: true,
    // No CORS headers unless origins are configured: browsers then refuse cross-origin reads.
    cors: deps.config.corsOrigins.length
      ? { origin: deps.config.corsOrigins, methods: ['GET', 'POST'], allowedHeaders: ['content-type', 'authorization', 'x-graphql-yoga-csrf'], credentials: false }
      : false,
    plugins: [...securityPlugins(deps.config), usePartialErrors(), useStaleMirror(), ...liveQueryPlugins(deps)],
  });
}
