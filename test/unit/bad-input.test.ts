import { describe, expect, it } from 'vitest';
import { createFakeApp, fakeId, fakeImage, fakeSource } from '../helpers/fake-source.js';

/** Bad arguments get one error with a stable code naming the argument; checks that need no data ask no host. */

const OLD = fakeImage({ id: fakeId('a0'), repoTags: ['app:old'], created: 100 });
const NEW = fakeImage({ id: fakeId('a1'), repoTags: ['app:new'], created: 200 });
const source = () => fakeSource({ hosts: ['a', 'b'], images: { a: [OLD, NEW], b: [NEW] } });

describe('arguments checked before any host is asked', () => {
  it.each([
    ['a label entry without a key', '{ images(filter: { label: ["=x"] }) { totalCount } }', 'filter.label[0]: expected key or key=value', 'filter.label'],
    ['an empty labelNot entry', '{ images(filter: { labelNot: ["a", ""] }) { totalCount } }', 'filter.labelNot[1]: expected key or key=value', 'filter.labelNot'],
    ['a bad reference pattern', '{ images(filter: { reference: ["[a"] }) { totalCount } }', 'filter.reference[0]: "[a" is not a valid pattern', 'filter.reference'],
    ['an ID that is not hex', '{ images(filter: { ids: ["zz"] }) { totalCount } }', 'filter.ids[0]: "zz" is not an image ID or ID prefix', 'filter.ids'],
    ['an empty before', '{ images(filter: { before: "" }) { totalCount } }', 'filter.before: an image reference is required', 'filter.before'],
    ['an empty since, in imageGroups', '{ imageGroups(filter: { since: "" }) { totalCount } }', 'filter.since: an image reference is required', 'filter.since'],
    ['a bad filter in fleet', '{ fleet(filter: { label: [""] }) { imageCount } }', 'filter.label[0]: expected key or key=value', 'filter.label'],
    ['a bad filter in tagDrift', '{ tagDrift(filter: { ids: ["sha256:xyz"] }) { tag } }', 'filter.ids[0]: "sha256:xyz" is not an image ID or ID prefix', 'filter.ids'],
  ])('%s: BAD_USER_INPUT', async (_what, query, message, argument) => {
    const s = source();
    const res = await createFakeApp(s).query(query);
    expect(res.status).toBe(200);
    expect(res.errors!.map((e) => [e.message, e.extensions])).toEqual([[message, { code: 'BAD_USER_INPUT', argument }]]);
    expect(s.count('images')).toBe(0);
  });

  it('unknown host names: UNKNOWN_HOST naming each unknown one (once), not the known one', async () => {
    const s = source();
    const res = await createFakeApp(s).query(`{ images(hosts: ["a", "x", "y", "x"]) { totalCount } }`);
    expect(res.errors!.map((e) => [e.message, e.extensions])).toEqual([['hosts: unknown hosts "x", "y"', { code: 'UNKNOWN_HOST', argument: 'hosts', hosts: ['x', 'y'] }]]);
    expect(s.count('images')).toBe(0);
  });

  it('host(name:) with an unknown name is null, not an error', async () => {
    expect(await createFakeApp(source()).query(`{ host(name: "nope") { name } }`)).toEqual({ status: 200, data: { host: null } });
  });
});

describe('arguments checked against the data', () => {
  it('first/last below zero: BAD_USER_INPUT naming the argument', async () => {
    const t = createFakeApp(source());
    for (const arg of ['first', 'last']) {
      const res = await t.query(`{ images(${arg}: -1) { totalCount } }`);
      expect(res.errors!.map((e) => [e.message, e.extensions])).toEqual([[`${arg} must be zero or more`, { code: 'BAD_USER_INPUT', argument: arg }]]);
    }
  });

  it('an ID prefix matching two images is ambiguous', async () => {
    const res = await createFakeApp(source()).query(`{ images(filter: { ids: ["00"] }) { totalCount } }`);
    expect(res.errors!.map((e) => [e.message, e.extensions])).toEqual([['filter.ids[0]: "00" is ambiguous (2 images)', { code: 'BAD_USER_INPUT', argument: 'filter.ids' }]]);
  });

  it('before/since resolve on each host; a reference missing on a host is REFERENCE_NOT_FOUND for that host only', async () => {
    const res = await createFakeApp(source()).query<{ images: { nodes: Array<{ id: string; host: { name: string } }> } }>(
      `{ images(filter: { before: "app:new" }) { nodes { id host { name } } } }`,
    );
    // on b, app:new is its oldest image: nothing before it; on a, OLD is
    expect(res.data!.images.nodes).toEqual([{ id: OLD.id, host: { name: 'a' } }]);
    expect(res.errors).toBeUndefined();
    const missing = await createFakeApp(source()).query<{ images: { nodes: Array<{ id: string }> } }>(`{ images(filter: { since: "app:old" }) { nodes { id } } }`);
    expect(missing.data!.images.nodes).toEqual([{ id: NEW.id }]);
    expect(missing.errors!.map((e) => [e.message, e.path, e.extensions])).toEqual([
      ['filter.since: no image "app:old" on host "b"', ['images'], { code: 'REFERENCE_NOT_FOUND', argument: 'filter.since', host: 'b' }],
    ]);
  });

  it('a variable of the wrong type: BAD_USER_INPUT, no host asked', async () => {
    const s = source();
    const res = await createFakeApp(s).query(`query Q($n: Int) { images(first: $n) { totalCount } }`, { n: 'ten' });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.message).toMatch(/^Variable "\$n" got invalid value "ten"/);
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(s.count('images')).toBe(0);
  });
});
