import type { AuthToken } from './config.js';
import { TokenChecker } from './security.js';

/**
 * Module: the one place that decides which hosts a request may see, from its Authorization header.
 * Built once per app (createApp, or the server, which shares it with the app): the GraphQL context asks
 * it once per request (createContext's `visibleHosts`; resolvers only read that list), and /readyz asks
 * it for its own answer. Hosts outside a request's list do not exist for that request.
 */
export class HostVisibility {
  /** The bearer tokens, digested once; the auth plugin uses the same checker. */
  readonly tokens: TokenChecker;

  constructor(
    tokens: readonly AuthToken[],
    private readonly hostNames: readonly string[],
  ) {
    this.tokens = new TokenChecker(tokens);
  }

  /**
   * Every host when no tokens are configured; otherwise the presented token's hosts (every host for
   * an unscoped token), in configuration order; undefined when no valid token is presented.
   */
  visibleHosts(authorization: string | null | undefined): readonly string[] | undefined {
    if (!this.tokens.enabled) return this.hostNames;
    const token = this.tokens.check(authorization ?? null);
    if (!token) return undefined;
    const scope = token.hosts;
    return scope ? this.hostNames.filter((h) => scope.includes(h)) : this.hostNames;
  }
}
