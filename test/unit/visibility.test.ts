import { describe, expect, it } from 'vitest';
import { HostVisibility } from '../../src/visibility.js';

/**
 * The one rule for which hosts a request may see (used by the GraphQL context and /readyz): every host
 * without tokens; with tokens, a valid token's hosts (every host for an unscoped token), in
 * configuration order; no host at all without a valid token.
 */
const HOSTS = ['a', 'b', 'c'];
const ALL = 'all-hosts-token-0123456789';
const CB = 'c-and-b-token-0123456789';
const bearer = (t: string) => `Bearer ${t}`;

describe('HostVisibility', () => {
  it('without tokens: every host, whatever the request presents', () => {
    const v = new HostVisibility([], HOSTS);
    expect(v.tokens.enabled).toBe(false);
    for (const auth of [null, undefined, '', bearer(ALL)]) expect(v.visibleHosts(auth)).toEqual(HOSTS);
  });

  it('with tokens: the token decides, in configuration order; no valid token sees nothing', () => {
    const v = new HostVisibility([{ token: ALL }, { token: CB, hosts: ['c', 'b'] }], HOSTS);
    expect(v.tokens.enabled).toBe(true);
    expect(v.visibleHosts(bearer(ALL))).toEqual(HOSTS);
    expect(v.visibleHosts(bearer(CB))).toEqual(['b', 'c']);
    for (const auth of [null, undefined, '', bearer('wrong-token-0123456789'), `Basic ${ALL}`]) expect(v.visibleHosts(auth)).toBeUndefined();
  });
});
