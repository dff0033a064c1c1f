/**
 * Issue #4, bad input: unknown host names, invalid arguments and cursors, page sizes over the maximum
 * and malformed requests get a clear error with extensions.code, never an HTTP 500, never a call to an
 * engine, and the app keeps serving afterwards. Fake engines only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { startFakeEngine, type FakeEngine } from '../helpers/fake-engine.js';

const MAX_IMAGES = 10;

let a: FakeEngine;
let b: FakeEngine;
let app: TestApp;

beforeAll(async () => {
  a = await startFakeEngine('a');
  b = await startFakeEngine('b');
  app = createTestApp(
    [
      { name: 'a', endpoint: a.endpoint },
      { name: 'b', endpoint: b.endpoint },
    ],
    { hostTimeoutMs: 2000, maxImages: MAX_IMAGES },
  );
});

afterAll(async () => {
  app?.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

interface RawResult {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }> };
}

/** A POST as a client sends it; `accept` defaults to what most clients send. */
async function post(body: string, accept = 'application/graphql-response+json, application/json;q=0.9'): Promise<RawResult> {
  const res = await app.app.fetch('http://fleetgraph/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept }, body });
  const text = await res.text();
  let parsed: RawResult['body'];
  try {
    parsed = JSON.parse(text) as RawResult['body'];
  } catch {
    throw new Error(`HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: parsed };
}

const gql = (query: string, variables?: Record<string, unknown>) => post(JSON.stringify({ query, variables }));

async function expectStillServing(): Promise<void> {
  const r = await app.query<{ images: { totalCount: number } }>('{ images { totalCount } }');
  expect(r.status).toBe(200);
  expect(r.errors).toBeUndefined();
  expect(r.data!.images.totalCount).toBe(4);
}

/** The one error of `r`: a clear message and the code, at the field (when `path` is given). */
function expectOneError(r: RawResult, code: string, extra: Record<string, unknown> = {}, path?: unknown[]): void {
  expect(r.status).not.toBe(500);
  expect(r.body.errors, JSON.stringify(r.body)).toHaveLength(1);
  const [e] = r.body.errors!;
  expect(e!.extensions).toMatchObject({ code, ...extra });
  expect(e!.message.length).toBeGreaterThan(10);
  expect(e!.message).not.toMatch(/Unexpected error/i);
  if (path) expect(e!.path).toEqual(path);
}

describe('unknown host names', () => {
  it.each([
    ['images(hosts:)', '{ images(hosts: ["nope"]) { totalCount } }', 'hosts', ['images']],
    ['images(hosts:) among known ones', '{ images(hosts: ["a", "nope", "b"]) { totalCount } }', 'hosts', ['images']],
    ['hosts(names:)', '{ hosts(names: ["a", "nope"]) { name } }', 'names', ['hosts']],
    ['image(hosts:)', '{ image(ref: "fake/a:1", hosts: ["nope"]) { id } }', 'hosts', ['image']],
    ['imageGroups(hosts:)', '{ imageGroups(hosts: ["nope"]) { totalCount } }', 'hosts', ['imageGroups']],
    ['tagDrift(hosts:)', '{ tagDrift(hosts: ["nope"]) { tag } }', 'hosts', ['tagDrift']],
    ['fleet(hosts:)', '{ fleet(hosts: ["nope"]) { __typename } }', 'hosts', ['fleet']],
  ])('%s: UNKNOWN_HOST naming the host and the argument, no engine call', async (_what, query, argument, path) => {
    a.reset();
    b.reset();
    const r = await gql(query);
    expect(r.status).toBe(200);
    expectOneError(r, 'UNKNOWN_HOST', { argument, hosts: ['nope'] }, path);
    expect(r.body.errors![0]!.message).toContain('"nope"');
    expect(a.count() + b.count()).toBe(0);
    await expectStillServing();
  });

  it('several unknown names are all named, and the known one is not', async () => {
    const r = await gql('{ images(hosts: ["x", "a", "y"]) { totalCount } }');
    expectOneError(r, 'UNKNOWN_HOST', { hosts: ['x', 'y'] });
    expect(r.body.errors![0]!.message).toMatch(/"x".*"y"/);
    expect(r.body.errors![0]!.message).not.toContain('"a"');
  });

  it('host(name:) with an unknown name is null, not an error', async () => {
    const r = await gql('{ host(name: "nope") { name } }');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ data: { host: null } });
  });
});

describe('invalid arguments', () => {
  it.each([
    ['a label entry without a key', '{ images(filter: { label: ["=x"] }) { totalCount } }', 'BAD_USER_INPUT', 'filter.label'],
    ['a labelNot entry that is empty', '{ images(filter: { labelNot: [""] }) { totalCount } }', 'BAD_USER_INPUT', 'filter.labelNot'],
    ['a bad reference pattern', '{ images(filter: { reference: ["[a"] }) { totalCount } }', 'BAD_USER_INPUT', 'filter.reference'],
    ['an ID that is not hex', '{ images(filter: { ids: ["zz"] }) { totalCount } }', 'BAD_USER_INPUT', 'filter.ids'],
    ['an empty before', '{ images(filter: { before: "" }) { totalCount } }', 'BAD_USER_INPUT', 'filter.before'],
    ['a negative first', '{ images(first: -1) { totalCount } }', 'BAD_USER_INPUT', 'first'],
    ['a negative last', '{ images(last: -1) { totalCount } }', 'BAD_USER_INPUT', 'last'],
    ['an image ref of only "sha256:"', '{ image(ref: "sha256:") { id } }', 'BAD_USER_INPUT', 'ref'],
    ['an empty image ref', '{ image(ref: "") { id } }', 'BAD_USER_INPUT', 'ref'],
    ['an image ref Docker calls an invalid reference format', '{ image(ref: "Nginx:latest") { id } }', 'BAD_USER_INPUT', 'ref'],
    ['an image ref with an empty tag', '{ image(ref: "nginx:") { id } }', 'BAD_USER_INPUT', 'ref'],
    ['an image ref over 512 characters', `{ image(ref: "${'a'.repeat(513)}") { id } }`, 'BAD_USER_INPUT', 'ref'],
  ])('%s: %s', async (_what, query, code, argument) => {
    const r = await gql(query);
    expect(r.status).toBe(200);
    expectOneError(r, code, { argument });
    await expectStillServing();
  });

  it.each([
    ['a date that is not a date', '{ images(filter: { createdAfter: "yesterday" }) { totalCount } }'],
    ['an unknown enum value', '{ images(orderBy: [{ field: NOPE }]) { totalCount } }'],
    ['an unknown argument', '{ images(nope: 1) { totalCount } }'],
    ['a string for an Int', '{ images(first: "ten") { totalCount } }'],
    ['a missing required argument', '{ image { id } }'],
    ['an unknown field', '{ nope }'],
  ])('%s: 400 with GRAPHQL_VALIDATION_FAILED', async (_what, query) => {
    const r = await gql(query);
    expect(r.status).toBe(400);
    expectOneError(r, 'GRAPHQL_VALIDATION_FAILED');
    await expectStillServing();
  });

  it.each([
    ['a string for an Int variable', { n: 'ten' }],
    ['an Int variable over 32 bits', { n: 2 ** 40 }],
    ['a fraction for an Int variable', { n: 1.5 }],
  ])('%s: 400 with a code', async (_what, variables) => {
    const r = await gql('query Q($n: Int) { images(first: $n) { totalCount } }', variables);
    expect(r.status).toBe(400);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors![0]!.message).toContain('$n');
    expect(r.body.errors![0]!.extensions?.code, JSON.stringify(r.body.errors)).toEqual(expect.any(String));
    await expectStillServing();
  });
});

/** Refused by whichever check comes first (validation, cost limit, resolver): never a 500, always a code. */
function expectCodedRejection(r: RawResult): void {
  expect([200, 400]).toContain(r.status);
  expect(r.body.errors?.length).toBeGreaterThanOrEqual(1);
  for (const e of r.body.errors!) expect(e.extensions?.code, JSON.stringify(e)).toEqual(expect.any(String));
}

describe('numbers out of range', () => {
  it.each([
    ['an Int literal over 32 bits', '{ images(first: 2147483648) { totalCount } }'],
    ['the largest Int', '{ images(first: 2147483647) { totalCount } }'],
    ['imageGroups with the largest Int', '{ imageGroups(last: 2147483647) { totalCount } }'],
  ])('%s is refused with a code', async (_what, query) => {
    const r = await gql(query);
    expectCodedRejection(r);
    await expectStillServing();
  });

  it('first over the default maximum (no maxImages configured) is refused with a code', async () => {
    const fresh = createTestApp([{ name: 'a', endpoint: a.endpoint }], { hostTimeoutMs: 2000 });
    try {
      const max = fresh.config.maxImages;
      const res = await fresh.app.fetch('http://fleetgraph/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query: `{ images(first: ${max + 1}) { totalCount } }` }),
      });
      expectCodedRejection({ status: res.status, body: (await res.json()) as RawResult['body'] });
    } finally {
      fresh.close();
    }
  });
});

describe('cursors', () => {
  const forged = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  it.each([
    ['not base64url', 'not a cursor!'],
    ['base64url of something else', Buffer.from('hello world').toString('base64url')],
    ['JSON of the wrong shape', forged({ v: 1 })],
    ['a future version', forged({ v: 2, s: 'x', k: [1] })],
    ['a key of the wrong arity', forged({ v: 1, s: 'x', k: [] })],
    ['a key with objects in it', forged({ v: 1, s: 'x', k: [{}, {}, {}] })],
    ['empty-ish', '_'],
    ['very long', 'A'.repeat(20_000)],
  ])('after: %s is INVALID_CURSOR', async (_what, cursor) => {
    const r = await gql('query Q($c: String) { images(first: 1, after: $c) { totalCount } }', { c: cursor });
    expect(r.status).toBe(200);
    expectOneError(r, 'INVALID_CURSOR', { argument: 'after' }, ['images']);
  });

  it('before: a bad cursor is INVALID_CURSOR naming before', async () => {
    const r = await gql('{ images(last: 1, before: "%%%") { totalCount } }');
    expectOneError(r, 'INVALID_CURSOR', { argument: 'before' }, ['images']);
  });

  it('a real cursor of a different query is STALE_CURSOR', async () => {
    const first = await gql('{ images(first: 1, orderBy: [{ field: SIZE }]) { pageInfo { endCursor } } }');
    expect(first.body.errors).toBeUndefined();
    const cursor = (first.body.data as { images: { pageInfo: { endCursor: string } } }).images.pageInfo.endCursor;
    expect(cursor).toEqual(expect.any(String));
    // The same cursor pages on in its own query…
    const same = await gql('query Q($c: String) { images(first: 1, after: $c, orderBy: [{ field: SIZE }]) { totalCount } }', { c: cursor });
    expect(same.body.errors).toBeUndefined();
    // …and is refused in another (same sort key shape, other direction).
    const other = await gql('query Q($c: String) { images(first: 1, after: $c, orderBy: [{ field: SIZE, direction: DESC }]) { totalCount } }', { c: cursor });
    expectOneError(other, 'STALE_CURSOR', { argument: 'after' }, ['images']);
    const otherHosts = await gql('query Q($c: String) { images(hosts: ["a"], first: 1, after: $c, orderBy: [{ field: SIZE }]) { totalCount } }', { c: cursor });
    expectOneError(otherHosts, 'STALE_CURSOR', { argument: 'after' }, ['images']);
    await expectStillServing();
  });
});

describe('page sizes', () => {
  it.each([
    ['images(first:)', `{ images(first: ${MAX_IMAGES + 1}) { totalCount } }`, 'first', ['images']],
    ['images(last:)', `{ images(last: ${MAX_IMAGES + 1}) { totalCount } }`, 'last', ['images']],
    ['imageGroups(first:)', `{ imageGroups(first: ${MAX_IMAGES + 1}) { totalCount } }`, 'first', ['imageGroups']],
    ['hosts { images(first:) }', `{ hosts { images(first: ${MAX_IMAGES + 1}) { totalCount } } }`, 'first', undefined],
  ])('%s over the maximum is PAGE_TOO_LARGE with the maximum', async (_what, query, argument, path) => {
    const r = await gql(query);
    expect(r.status).toBe(200);
    expect(r.body.errors!.length).toBeGreaterThanOrEqual(1);
    for (const e of r.body.errors!) {
      expect(e.extensions).toMatchObject({ code: 'PAGE_TOO_LARGE', argument, max: MAX_IMAGES });
      expect(e.message).toContain(String(MAX_IMAGES));
    }
    if (path) expect(r.body.errors![0]!.path).toEqual(path);
    await expectStillServing();
  });

  it('first at the maximum is fine', async () => {
    const r = await gql(`{ images(first: ${MAX_IMAGES}) { totalCount edges { cursor } } }`);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });
});

describe('malformed requests (yoga)', () => {
  it('a syntactically invalid query is a 400 with GRAPHQL_PARSE_FAILED', async () => {
    const r = await post(JSON.stringify({ query: '{ images { ' }), 'application/graphql-response+json');
    expect(r.status).toBe(400);
    expectOneError(r, 'GRAPHQL_PARSE_FAILED');
    expect(r.body.errors![0]!.message).toMatch(/^Syntax Error/);
  });

  it('a legacy application/json client gets the same error, and never a 500', async () => {
    const r = await post(JSON.stringify({ query: '{ images { ' }), 'application/json');
    expect([200, 400]).toContain(r.status);
    expectOneError(r, 'GRAPHQL_PARSE_FAILED');
  });

  it.each([
    ['a body that is not JSON', 'not json'],
    ['a query that is not a string', JSON.stringify({ query: 1 })],
    ['variables that are not an object', JSON.stringify({ query: '{ images { totalCount } }', variables: 'x' })],
    ['no query at all', JSON.stringify({})],
  ])('%s: 400 with BAD_REQUEST', async (_what, body) => {
    const r = await post(body, 'application/graphql-response+json');
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    await expectStillServing();
  });
});
