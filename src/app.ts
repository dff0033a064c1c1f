import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { createContext, type AppDeps, type Context } from './context.js';
import { GRAPHIQL_TABS } from './graphiql-examples.js';
import { schema } from './schema/index.js';
import { requestScopes, securityPlugins } from './security.js';

/** Appends the per-host partial errors collected during execution to the result. */
function usePartialErrors(): Plugin<Context> {
  return {
    onExecute() {
      return {
        onExecuteDone({ args, result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          const extra = (args.contextValue as Context).partialErrors.list();
          if (extra.length > 0) setResult({ ...result, errors: [...(result.errors ?? []), ...extra] });
        },
      };
    },
  };
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
    logging: false,
    // GraphiQL is served from the installed package, never from a CDN.
    renderGraphiQL,
    graphiql: deps.config.graphiql ? { title: 'fleetgraph', defaultTabs: GRAPHIQL_TABS, defaultQuery: GRAPHIQL_TABS[0]!.query } : false,
    // Unexpected errors reach clients as "Unexpected error." (details only in development mode).
    maskedErrors: { isDev: !deps.config.production },
    // No CORS headers unless origins are configured: browsers then refuse cross-origin reads.
    cors: deps.config.corsOrigins.length
      ? { origin: deps.config.corsOrigins, methods: ['GET', 'POST'], allowedHeaders: ['content-type', 'authorization', 'x-graphql-yoga-csrf'], credentials: false }
      : false,
    plugins: [...securityPlugins(deps.config), usePartialErrors()],
  });
}
