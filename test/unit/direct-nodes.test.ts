import { execute, getOperationAST, parse, type ExecutionResult, type FieldNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { answerBytes } from '../../src/answer-text.js';
import { loadConfig } from '../../src/config.js';
import { createContext } from '../../src/context.js';
import { DirectNodes, splice } from '../../src/schema/direct-nodes.js';
import { prefetch } from '../../src/schema/prefetch.js';
import { schema } from '../../src/schema/index.js';
import { createFakeApp, fakeContainer, fakeId, fakeImage, fakeSource, type FakeSourceSpec } from '../helpers/fake-source.js';

/**
 * Connection nodes written straight to JSON text (direct-nodes.ts) must be, byte for byte, what the
 * ordinary execution writes: graphql-js's own executor (no jit, no plugins) over the same source is the
 * oracle, and the app's answer through app.fetch is compared with it as text.
 */
const images = {
  a: [
    fakeImage({
      id: fakeId(1),
      parentId: fakeId(9),
      repoTags: ['a/b:c', 'x"y:1', 'ünï/cödé:😀'],
      repoDigests: ['a/b@sha256:' + 'f'.repeat(64)],
      created: 0,
      size: 2 ** 53 - 1,
      virtualSize: null,
      labels: { 'q"uote': 'back\\slash', ctl: '\u0001\n\t\u001f', emoji: '😀', lone: '\ud800', 'é': 'ü', '': '', '<script>': '\u2028\u2029' },
    }),
    fakeImage({ id: fakeId(2), created: 253_402_300_799, size: 0, virtualSize: 5, labels: {} }),
  ],
  b: [
    fakeImage({ id: fakeId(3), repoTags: ['b:1', 'a:2'], created: 1_700_000_000, size: 77, labels: { z: '1', a: '2' } }),
    fakeImage({ id: fakeId(1), created: 1_700_000_001, size: 12 }),
  ],
};

/** Containers and shared sizes for the fields that read them (images with containers / sharedSize null). */
const details: Omit<FakeSourceSpec, 'images'> = {
  containers: {
    a: [fakeContainer({ id: 'c1', imageId: fakeId(2), names: ['web'], state: 'running' }), fakeContainer({ id: 'c2', imageId: fakeId(2) })],
    b: [fakeContainer({ id: 'c3', imageId: fakeId(1) })],
  },
  sharedSizes: { a: { [fakeId(2)]: 7 }, b: { [fakeId(1)]: null } },
};
const withDetails = {
  a: images.a.map((i, n) => (n === 1 ? { ...i, containers: null, sharedSize: null } : i)),
  b: images.b.map((i, n) => (n === 1 ? { ...i, containers: null, sharedSize: null } : i)),
};

function setup(imagesByHost: Record<string, ReturnType<typeof fakeImage>[]> = images, shared = false, spec: Omit<FakeSourceSpec, 'images'> = {}) {
  const source = fakeSource({ images: imagesByHost, ...spec });
  // shared: the very same record objects on every call (as an engine's unchanged items keep theirs).
  if (shared) source.images = (host) => Promise.resolve(imagesByHost[host] ?? []);
  const t = createFakeApp(source);
  const config = loadConfig({ hosts: source.hostNames().map((h) => `${h}=unix:///nonexistent/${h}.sock`) }, {});
  /** graphql-js's executor, with (direct) or without connection nodes written as text. */
  const reference = async (query: string, variables?: Record<string, unknown>, direct = false) => {
    const ctx = createContext({ source, config });
    const document = parse(query);
    if (direct) {
      ctx.directNodes = new DirectNodes(1e9);
      // As the app does first (prefetch.ts): the per-host answers the fields read are asked for, and then settled.
      prefetch(ctx, getOperationAST(document)!.selectionSet.selections as FieldNode[], {}, variables ?? {});
    }
    const result = (await execute({ schema, document, contextValue: ctx, variableValues: variables })) as ExecutionResult;
    if (ctx.partialErrors.size > 0) result.errors = [...(result.errors ?? []), ...ctx.partialErrors.list()];
    if (ctx.directNodes) splice(result.data, ctx.directNodes);
    return { result, splices: ctx.directNodes?.splices.length ?? 0 };
  };
  const answer = async (query: string, variables?: Record<string, unknown>) => {
    const res = await t.app.fetch('http://fleetgraph/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return res.text();
  };
  return { reference, answer };
}

const WIRE = '{ images { nodes { id parentId repoTags repoDigests created size virtualSize labels { key value } host { name } } } }';

describe('connection nodes written as text', () => {
  it.each([
    ['the wire fields', WIRE, 1],
    [
      'aliases, __typename, any order, a field twice under two names',
      '{ all: images { n: nodes { __typename host { __typename n: name } labels { __typename v: value k: key } size id i2: id createdAt virtualSize parentId repoDigests repoTags created } totalCount } }',
      1,
    ],
    ['two lists under aliases', '{ a: images(hosts: ["a"]) { nodes { id } } b: images(hosts: ["b"], orderBy: [{ field: SIZE, direction: ASC }]) { totalCount nodes { size } } }', 2],
    ['lists inside a list (Host.images)', '{ hosts { name images { nodes { id repoTags } } } }', 2],
    ['a page with variables', 'query Q($n: Int) { images(first: $n) { pageInfo { hasNextPage } nodes { id } } }', 1],
    [
      'every field, those reading container lists and shared sizes too',
      '{ images { totalCount nodes { id parentId repoTags repoDigests created createdAt size sharedSize virtualSize containers inUse usedBy { id names image imageId state status created createdAt host { name } __typename } labels { key value } host { name } } } }',
      1,
    ],
  ])('%s: the same text as graphql-js, written directly', async (_name, query, lists) => {
    const { reference, answer } = setup(withDetails, false, details);
    const variables = { n: 3 };
    const plain = await reference(query, variables);
    expect(plain.result.errors).toBeUndefined();
    const direct = await reference(query, variables, true);
    // The lists were written as text (the test fails if the direct path was not taken) ...
    expect(direct.splices).toBe(lists);
    // ... and read back, and as the answer's bytes, they are what the executor wrote.
    expect(JSON.stringify(direct.result)).toBe(JSON.stringify(plain.result));
    const bytes = await answerBytes(direct.result, 1e9);
    expect(Buffer.concat(bytes!.parts).toString('utf8')).toBe(JSON.stringify(plain.result));
    expect(await answer(query, variables)).toBe(JSON.stringify(plain.result));
  });

  it.each([
    ['a field with arguments', '{ images { nodes { id label(key: "ctl") } } }'],
    ['a fragment', '{ images { nodes { ...F } } } fragment F on ImageSummary { id size }'],
    ['an inline fragment', '{ images { nodes { ... on ImageSummary { id } } } }'],
    ['a directive', '{ images { nodes { id size @include(if: true) } } }'],
  ])('%s: left to the executor, the same text', async (_name, query) => {
    const { reference, answer } = setup();
    const plain = await reference(query);
    expect(plain.result.errors).toBeUndefined();
    const direct = await reference(query, undefined, true);
    expect(direct.splices).toBe(0);
    expect(await answer(query)).toBe(JSON.stringify(plain.result));
  });

  it('records met again (the same objects) are written from their last text only for the same selection and host', async () => {
    const same = fakeImage({ id: fakeId(5), repoTags: ['s:1'], labels: { k: 'v' } });
    const { reference, answer } = setup({ a: [...images.a, same], b: [...images.b, same] }, true);
    const queries = [
      WIRE,
      '{ images { nodes { host { name } id } } }',
      WIRE,
      '{ hosts { images { nodes { labels { value } host { name } } } } }',
      '{ images { nodes { host { name } id } } }',
    ];
    for (const query of [...queries, ...queries]) expect(await answer(query)).toBe(JSON.stringify((await reference(query)).result));
  });

  it("the text of fields that read the request's answers is not kept: a container started since is seen", async () => {
    const spec = structuredClone(details);
    const { reference, answer } = setup(withDetails, true, spec);
    const query = '{ images { nodes { id containers inUse usedBy { id } } } }';
    const before = await answer(query);
    expect(before).toBe(JSON.stringify((await reference(query)).result));
    spec.containers!.b!.push(fakeContainer({ id: 'c9', imageId: fakeId(1) }));
    const after = await answer(query);
    expect(after).not.toBe(before);
    expect(after).toBe(JSON.stringify((await reference(query)).result));
  });

  it('a host whose container list failed: the same nulls, and its error at the same path as from the executor', async () => {
    const { reference, answer } = setup(withDetails, false, { ...details, fail: { b: { containers: 'HOST_UNREACHABLE' } } });
    const query = '{ images { nodes { id containers inUse usedBy { id } } } }';
    const plain = await reference(query);
    const direct = await reference(query, undefined, true);
    expect(direct.splices).toBe(1);
    expect(JSON.stringify(direct.result)).toBe(JSON.stringify(plain.result));
    const body = JSON.parse(await answer(query)) as ExecutionResult;
    expect(body.data).toEqual(plain.result.data);
    expect(body.errors?.map((e) => [e.path, e.extensions?.code, e.extensions?.host])).toEqual(plain.result.errors?.map((e) => [e.path, e.extensions?.code, e.extensions?.host]));
    expect(body.errors).toHaveLength(3);
  });

  it('a value the schema cannot carry: the executor answers (its error and nulls), not the text', async () => {
    const bad = { a: [fakeImage({ id: fakeId(1) }), fakeImage({ id: fakeId(2), size: 2 ** 60 })] };
    const { reference, answer } = setup(bad);
    const plain = await reference(WIRE);
    expect(plain.result.errors?.length).toBeGreaterThan(0);
    const direct = await reference(WIRE, undefined, true);
    expect(direct.splices).toBe(0);
    const body = JSON.parse(await answer(WIRE)) as ExecutionResult;
    expect(body.data).toEqual(plain.result.data);
    // (graphql-js stops at the item's first unsafe number, graphql-jit reports each: size and virtualSize.)
    const answered = body.errors!.map((e) => JSON.stringify([e.message, e.path]));
    for (const e of plain.result.errors!) expect(answered).toContain(JSON.stringify([e.message, e.path]));
  });
});
