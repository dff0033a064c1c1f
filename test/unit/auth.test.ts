import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config.js';
import { createFakeApp, fakeId, fakeImage, fakeSource } from '../helpers/fake-source.js';
import { scratchDir } from '../helpers/scratch.js';

/**
 * Bearer tokens: without one, 401 and nothing about the fleet; a scoped token's requests see only its
 * hosts (lists, errors, counts, host lookups), and the other hosts are never asked.
 */

const TOKEN_ALL = 'all-hosts-token-0123456789';
const TOKEN_A = 'a-only-token-0123456789';
const TOKEN_AB = 'a-and-b-token-0123456789';
// A token file, as --auth-token-file reads it (the env form cannot scope a token to two hosts).
const dir = scratchDir('fleetgraph-auth-');
const TOKENS: ConfigInput = {};
beforeAll(() => {
  TOKENS.authTokenFile = join(dir(), 'tokens');
  writeFileSync(TOKENS.authTokenFile, `${TOKEN_ALL}\n${TOKEN_A} hosts=a\n# comment\n${TOKEN_AB} hosts=a,b\n`);
});
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

const SHARED = fakeImage({ id: fakeId(1), repoTags: ['shared:1'], created: 300 });
const ON_B = fakeImage({ id: fakeId(2), repoTags: ['web:1'], created: 200 });
const ON_C = fakeImage({ id: fakeId(3), repoTags: ['web:1'], created: 100 });

/** Host b fails; c holds a drifting tag. */
const fleet = () =>
  fakeSource({ hosts: ['a', 'b', 'c'], images: { a: [SHARED], b: [SHARED, ON_B], c: [SHARED, ON_C] }, fail: { b: 'HOST_UNREACHABLE' } });

describe('without a valid token', () => {
  it.each([
    ['no header', {}],
    ['a wrong token', bearer('wrong-token-0123456789')],
    ['a token as Basic', { authorization: `Basic ${TOKEN_ALL}` }],
    ['a token with a suffix', bearer(`${TOKEN_ALL}x`)],
  ])('%s: 401 UNAUTHENTICATED, no host named, no host asked', async (_what, headers) => {
    const s = fleet();
    const res = await createFakeApp(s, TOKENS).query(`{ hosts { name } images { totalCount } }`, {}, headers);
    expect(res.status).toBe(401);
    expect(res).toEqual({ status: 401, errors: [{ message: 'a valid bearer token is required (Authorization: Bearer <token>)', extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(s.count('images')).toBe(0);
  });

  it('with no tokens configured, every request sees every host', async () => {
    const res = await createFakeApp(fleet()).query<{ hosts: Array<{ name: string }> }>(`{ hosts { name } }`);
    expect(res.status).toBe(200);
    expect(res.data!.hosts).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
  });
});

describe('a scoped token', () => {
  it('sees its hosts only: lists, counts, groups, drift; other hosts are never asked', async () => {
    const s = fleet();
    const res = await createFakeApp(s, TOKENS).query<{
      hosts: Array<{ name: string }>;
      images: { totalCount: number; nodes: Array<{ host: { name: string } }> };
      fleet: { hostCount: number; hostsAnswered: number };
      imageGroups: { nodes: Array<{ id: string; hostCount: number; hosts: Array<{ name: string }> }> };
      tagDrift: unknown[];
      c: unknown;
      a: { name: string };
    }>(
      `{ hosts { name } images { totalCount nodes { host { name } } } fleet { hostCount hostsAnswered }
         imageGroups { nodes { id hostCount hosts { name } } } tagDrift { tag } c: host(name: "c") { name } a: host(name: "a") { name } }`,
      {},
      bearer(TOKEN_A),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      hosts: [{ name: 'a' }],
      images: { totalCount: 1, nodes: [{ host: { name: 'a' } }] },
      fleet: { hostCount: 1, hostsAnswered: 1 },
      imageGroups: { nodes: [{ id: SHARED.id, hostCount: 1, hosts: [{ name: 'a' }] }] },
      tagDrift: [],
      c: null,
      a: { name: 'a' },
    });
    expect(s.calls.images).toEqual({ a: 1 });
  });

  it("reports errors of its own hosts only, and only its hosts' data", async () => {
    const s = fleet();
    const res = await createFakeApp(s, TOKENS).query<{ images: { nodes: Array<{ id: string; host: { name: string } }> }; hosts: Array<{ name: string; status: string }> }>(
      `{ images { nodes { id host { name } } } hosts { name status } }`,
      {},
      bearer(TOKEN_AB),
    );
    expect(res.data).toEqual({ images: { nodes: [{ id: SHARED.id, host: { name: 'a' } }] }, hosts: [{ name: 'a', status: 'UP' }, { name: 'b', status: 'UNREACHABLE' }] });
    expect(res.errors!.map((e) => [e.path, e.extensions])).toEqual([[['images'], { code: 'HOST_UNREACHABLE', host: 'b' }]]);
    expect(s.calls.images).toEqual({ a: 1, b: 1 });
  });

  it('a failing host outside the scope is never reported', async () => {
    const s = fakeSource({ hosts: ['a', 'b'], images: { a: [SHARED] }, fail: { b: 'HOST_TIMEOUT' } });
    const res = await createFakeApp(s, {}, { FLEETGRAPH_AUTH_TOKENS: `${TOKEN_A} hosts=a` }).query(`{ images { totalCount } fleet { hostCount } }`, {}, bearer(TOKEN_A));
    expect(res).toEqual({ status: 200, data: { images: { totalCount: 1 }, fleet: { hostCount: 1 } } });
    expect(s.count('images', 'b')).toBe(0);
  });

  it('naming a hidden host reads exactly like naming one that does not exist', async () => {
    const t = createFakeApp(fleet(), TOKENS);
    for (const [field, arg] of [
      ['images', 'hosts'],
      ['imageGroups', 'hosts'],
      ['fleet', 'hosts'],
      ['hosts', 'names'],
    ] as const) {
      const sel = field === 'fleet' ? 'hostCount' : field === 'hosts' ? 'name' : 'totalCount';
      const hidden = await t.query(`{ ${field}(${arg}: ["c"]) { ${sel} } }`, {}, bearer(TOKEN_A));
      const missing = await t.query(`{ ${field}(${arg}: ["nosuch"]) { ${sel} } }`, {}, bearer(TOKEN_A));
      expect(hidden.errors!.map((e) => [e.message, e.extensions])).toEqual([[`${arg}: unknown host "c"`, { code: 'UNKNOWN_HOST', argument: arg, hosts: ['c'] }]]);
      expect(JSON.stringify(hidden).replaceAll('"c"', '"X"').replaceAll('\\"c\\"', '\\"X\\"')).toBe(JSON.stringify(missing).replaceAll('"nosuch"', '"X"').replaceAll('\\"nosuch\\"', '\\"X\\"'));
    }
  });

  it('the unscoped token sees every host', async () => {
    const res = await createFakeApp(fleet(), TOKENS).query<{ hosts: Array<{ name: string }> }>(`{ hosts { name } }`, {}, bearer(TOKEN_ALL));
    expect(res.data!.hosts).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
  });
});
