/**
 * Module: request-level protections, all from libraries where one exists: graphql-armor (depth, aliases,
 * tokens, field suggestions), graphql-query-complexity (cost, with list sizes: query-cost.ts), yoga's
 * CSRF prevention, introspection switch and execution cancellation. What is ours: bearer tokens (a few
 * lines over node:crypto, constant-time), the body size check and the answer size cap (answer-limit.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import type { GraphQLArmorCallbackConfiguration } from '@escape.tech/graphql-armor-types';
import { GraphQLError } from 'graphql';
import { useExecutionCancellation, type Plugin } from 'graphql-yoga';
import { useAnswerLimit } from './answer-limit.js';
import type { AuthToken, Config } from './config.js';
import { isGraphiQLPage } from './graphiql-page.js';
import { useQueryCost } from './query-cost.js';
import { useAdmission } from './admission.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Finds the token a request presents, comparing against every configured token in constant time. */
export class TokenChecker {
  private readonly digests: Array<{ token: AuthToken; digest: Buffer }>;

  constructor(tokens: readonly AuthToken[]) {
    this.digests = tokens.map((token) => ({ token, digest: digest(token.token) }));
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  check(authorization: string | null): AuthToken | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const presented = digest(m?.[1] ?? '');
    let found: AuthToken | undefined;
    // No early exit: the time taken does not depend on which token (if any) matched.
    for (const d of this.digests) if (timingSafeEqual(d.digest, presented) && m) found = d.token;
    return found;
  }
}

function jsonError(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/** What a request without a valid bearer token gets (the API, and /metrics in server.ts). */
export const UNAUTHENTICATED = {
  message: 'a valid bearer token is required (Authorization: Bearer <token>)',
  headers: { 'www-authenticate': 'Bearer realm="fleetgraph"' },
} as const;

/**
 * 401 without a valid bearer token (when tokens are configured); the GraphiQL page itself holds no
 * data and still loads, so a person can paste the token into its headers editor.
 */
export function useBearerAuth(checker: TokenChecker, graphiql: boolean): Plugin {
  return {
    onRequest({ request, endResponse }) {
      if (!checker.enabled) return;
      if (graphiql && isGraphiQLPage(request)) return;
      // Only whether a token is valid; which hosts it may see is HostVisibility's to say (visibility.ts).
      if (!checker.check(request.headers.get('authorization')))
        endResponse(jsonError(401, 'UNAUTHENTICATED', UNAUTHENTICATED.message, UNAUTHENTICATED.headers));
    },
  };
}

/** Refuses bodies over the limit before they are parsed (and bodies of unknown length). */
export function useBodyLimit(maxBytes: number): Plugin {
  return {
    onRequest({ request, endResponse }) {
      if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
      const length = request.headers.get('content-length');
      if (length === null) {
        endResponse(jsonError(411, 'LENGTH_REQUIRED', 'a Content-Length header is required'));
        return;
      }
      if (!/^\d+$/.test(length) || Number(length) > maxBytes) endResponse(jsonError(413, 'PAYLOAD_TOO_LARGE', `request body over ${maxBytes} bytes`));
    },
  };
}

/** Armor reports rejections as bare "Syntax Error"s; report them as validation errors with a code instead. */
function coded(limit: string): GraphQLArmorCallbackConfiguration {
  return {
    propagateOnRejection: false,
    onReject: [
      (ctx, err) =>
        ctx?.reportError(new GraphQLError(err.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit } })),
    ],
  };
}

/** `tokens`: the app's one checker (HostVisibility's). */
export function securityPlugins(config: Config, tokens: TokenChecker): Plugin[] {
  const { limits } = config;
  return [
    useBodyLimit(limits.maxBodyBytes),
    useBearerAuth(tokens, config.graphiql),
    useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'authorization'] }),
    ...(config.introspection ? [] : [useDisableIntrospection() as Plugin]),
    EnvelopArmorPlugin({
      maxDepth: { n: limits.maxDepth, ...coded('maxDepth') },
      maxAliases: { n: limits.maxAliases, ...coded('maxAliases') },
      // Counted while parsing, before there is a validation context to report to: a parse error.
      maxTokens: { n: limits.maxTokens },
      // Armor's cost counts each field once whatever the list sizes; useQueryCost counts them.
      costLimit: { enabled: false },
      maxDirectives: { n: 20, ...coded('maxDirectives') },
      blockFieldSuggestion: { enabled: config.production },
    }) as Plugin,
    useQueryCost(config),
    // Heavy operations (estimated cost ≥ limits.heavyCost) wait for a slot, or get SERVER_BUSY.
    useAdmission(limits),
    // A client that disconnects stops its request: no further resolvers (so no further engine calls).
    useExecutionCancellation(),
    useAnswerLimit(limits.maxAnswerBytes),
  ];
}
