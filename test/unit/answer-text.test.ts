import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { acceptedJsonType } from '../../src/answer-limit.js';
import { answerBytes } from '../../src/answer-text.js';
import { loadConfig } from '../../src/config.js';
import { bulkSource } from '../helpers/bulk-source.js';

const text = async (v: unknown, max = Infinity, slice?: number) => {
  const out = await answerBytes(v, max, undefined, slice);
  return out && Buffer.concat(out.parts).toString('utf8');
};
const nullProto = (o: Record<string, unknown>) => Object.assign(Object.create(null) as Record<string, unknown>, o);
const node = (i: number) => nullProto({ id: `sha256:${i}`, repoTags: [`a/b:${i}`, 'é ü € 𝄞 "q" \\ \n \u0001'], size: i * 1.5, labels: [{ key: 'k', value: String(i) }], host: { name: 'h' }, none: null, u: undefined });

describe('answerBytes (the answer written in slices)', () => {
  const values: unknown[] = [
    null,
    {},
    [],
    'text "with" \\ quotes',
    { a: 1, b: 'two', c: [1, 2, 3], d: { e: null, f: true, g: false }, u: undefined, fn: () => 1 },
    [undefined, () => 1, Symbol('s'), 1],
    { data: { images: { nodes: Array.from({ length: 3000 }, (_, i) => node(i)) } }, stringify: JSON.stringify },
    { data: { hosts: Array.from({ length: 5 }, (_, h) => ({ name: `h${h}`, images: { nodes: Array.from({ length: 400 }, (_, i) => node(i)), sparse: [undefined, null] } })) } },
    Array.from({ length: 200 }, (_, i) => Array.from({ length: 200 }, (_, j) => (i * j) % 7 === 0 ? { n: -0, m: 1e300 } : [i, j, 'x'])),
    { date: new Date(0), nested: { deep: { deeper: Array.from({ length: 100 }, (_, i) => ({ i, when: new Date(i) })) } } },
  ];
  it.each(values.map((v, i) => [i, v]))('value %i: the same bytes as JSON.stringify, in pieces', async (_i, v) => {
    expect(await text(v)).toBe(JSON.stringify(v));
    expect(await text(v, Infinity, 1)).toBe(JSON.stringify(v));
  });

  it('gives up (undefined) once past the cap, without writing the rest', async () => {
    const big = { data: { nodes: Array.from({ length: 20_000 }, (_, i) => node(i)) } };
    const size = Buffer.byteLength(JSON.stringify(big));
    expect(await answerBytes(big, size - 1)).toBeUndefined();
    expect((await answerBytes(big, 100_000))).toBeUndefined();
    expect((await answerBytes(big, size))?.length).toBe(size);
  });

  it('yields to the event loop while writing a big answer, and stops once the request aborts', async () => {
    const big = { data: { nodes: Array.from({ length: 5000 }, (_, i) => node(i)) } };
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const tick = setImmediate(() => ticks++);
    try {
      await answerBytes(big, Infinity);
    } finally {
      clearInterval(timer);
      clearImmediate(tick);
    }
    expect(ticks).toBeGreaterThan(0);
    const controller = new AbortController();
    const reason = new Error('gone');
    const done = answerBytes(big, Infinity, controller.signal);
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
  });

  it('errors are not its business: the answer-limit plugin leaves results with errors to yoga', async () => {
    // (kept here to show the shape it never gets: a GraphQLError's toJSON is written whole if it ever did)
    const err = new GraphQLError('x', { extensions: { code: 'C' } });
    expect(await text({ errors: [err] })).toBe(JSON.stringify({ errors: [err] }));
  });
});

describe('acceptedJsonType (the media type yoga gives a regular answer)', () => {
  it.each([
    [undefined, 'application/json'],
    ['*/*', 'application/json'],
    ['application/json', 'application/json'],
    ['application/graphql-response+json', 'application/graphql-response+json'],
    ['application/graphql-response+json, application/json;q=0.9', 'application/graphql-response+json'],
    ['application/json, application/graphql-response+json', 'application/json'],
    ['application/*', 'application/json'],
    ['text/html', undefined],
    ['application/json; charset=latin1', undefined],
  ])('Accept %s -> %s', (accept, type) => {
    expect(acceptedJsonType(new Request('http://x/graphql', { headers: accept ? { accept } : {} }))).toBe(type);
  });
});

describe('big answers through the app', () => {
  const hosts = ['a', 'b', 'c'];
  const appOver = (maxAnswerBytes = 64 * 1024 * 1024) => {
    const source = bulkSource(hosts, 3000);
    const config = loadConfig({ hosts: hosts.map((h) => `${h}=unix:///${h}.sock`), maxImages: 10_000, limits: { maxCost: 10_000_000, maxAnswerBytes } }, {});
    return { source, app: createApp({ source, config }) };
  };
  const post = async (app: ReturnType<typeof createApp>, query: string, accept?: string): Promise<Response> =>
    app.fetch('http://fleetgraph/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) }, body: JSON.stringify({ query }) });
  const BIG = '{ images { nodes { id repoTags size labels { key value } host { name } } } }';

  it('small queries are answered while a big answer is being written', async () => {
    const { source, app } = appOver();
    // Every image's labels are read by execution (only): when all have been read, the big answer is executed.
    const read = new Set<object>();
    const images = source.images.bind(source);
    source.images = async (host) =>
      (await images(host)).map((image) => {
        const { labels, ...rest } = image;
        return Object.defineProperty(rest, 'labels', { enumerable: true, get: () => (read.add(rest), labels) }) as typeof image;
      });
    // Set when the big answer's Response exists, i.e. its bytes have all been built (before they are read).
    let bigDone = false;
    const big = post(app, BIG).then(async (res) => {
      bigDone = true;
      return { res, body: await res.text() };
    });
    let duringWrite = 0;
    for (let i = 0; !bigDone && i < 10_000; i++) {
      // a macrotask between small queries, so the big one can go on (a small one may need none)
      await new Promise((r) => setImmediate(r));
      const small = await (await post(app, '{ hosts { name } }')).json();
      expect(small).toEqual({ data: { hosts: hosts.map((name) => ({ name })) } });
      if (read.size === 9000 && !bigDone) duringWrite++;
    }
    expect(read.size).toBe(9000);
    expect(duringWrite).toBeGreaterThan(0);
    const { res, body } = await big;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    const parsed = JSON.parse(body) as { data: { images: { nodes: unknown[] } } };
    expect(parsed.data.images.nodes).toHaveLength(9000);
    // byte for byte what JSON.stringify makes of the same answer
    expect(body).toBe(JSON.stringify(parsed));
  });

  it('keeps the content type yoga negotiates, and the answer-size cap', async () => {
    const { app } = appOver();
    const res = await post(app, '{ images(first: 1) { nodes { id } } }', 'application/graphql-response+json');
    expect(res.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(((await res.json()) as { data: unknown }).data).toBeTruthy();
    const capped = await post(appOver(100_000).app, BIG);
    expect(capped.status).toBe(200);
    const body = (await capped.json()) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> };
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['RESPONSE_TOO_LARGE']);
  });
});
