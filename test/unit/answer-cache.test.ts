/**
 * Mirror mode's answer cache (src/live/answer-cache.ts) over the in-process fake source and hand-driven
 * event streams: a repeated query is not executed again, any mirror change or stream state change
 * invalidates, token scopes never share an answer, time-dependent fields and answers with errors are
 * never cached, and the cache is bounded. A hit is seen as a query that did not read the mirror.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { LiveHub } from '../../src/live/hub.js';
import { MirrorSource } from '../../src/live/mirror.js';
import { AnswerCache } from '../../src/live/answer-cache.js';
import { queryApp } from '../helpers/app.js';
import { StubStream, subscribe } from '../helpers/live.js';
import { fakeId, fakeImage, fakeSource, type FakeSourceSpec } from '../helpers/fake-source.js';

const TOKEN_H = 'token-for-host-h-0001';
const TOKEN_K = 'token-for-host-k-0001';

function setup(spec: FakeSourceSpec, env: NodeJS.ProcessEnv = {}) {
  const source = fakeSource(spec);
  const streams = new Map<string, StubStream>(source.hostNames().map((h) => [h, new StubStream()]));
  const hub = { stream: (h: string) => streams.get(h)!, close: () => undefined } as unknown as LiveHub;
  let now = 1_000_000;
  const mirror = new MirrorSource(source, hub, { resyncMs: 600_000, debounceMs: 5, now: () => now }).start();
  // Every execution reads the mirror's image lists (one call per host per request); a cached answer reads nothing.
  let reads = 0;
  const images = mirror.images.bind(mirror);
  mirror.images = (h) => {
    reads++;
    return images(h);
  };
  const config = loadConfig({ hosts: source.hostNames().map((h) => `${h}=unix:///nonexistent/${h}.sock`) }, env);
  const app = createApp({ source: mirror, config, live: hub });
  return {
    app,
    streams,
    mirror,
    reads: () => reads,
    advance: (ms: number) => (now += ms),
    query: <T>(q: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => queryApp<T>(app, q, variables, headers),
  };
}

const IMAGES = `{ images(first: 50) { totalCount nodes { id repoTags host { name } } } }`;
interface Images {
  images: { totalCount: number; nodes: Array<{ id: string; repoTags: string[]; host: { name: string } }> };
}

async function changed(s: ReturnType<typeof setup>, host: string) {
  s.streams.get(host)!.emit('tag', fakeId(1));
  await new Promise((r) => setTimeout(r, 20));
  await s.mirror.whenCurrent(host);
}

describe('answer cache (mirror mode)', () => {
  it('answers a repeated query without executing it; a change of a host invalidates', async () => {
    const spec: FakeSourceSpec = { images: { h: [fakeImage({ id: fakeId(1), repoTags: ['a:1'] })], k: [fakeImage({ id: fakeId(2) })] } };
    const s = setup(spec);
    // Loaded first: an answer computed while the mirror changed (here, its first load) is not kept.
    await Promise.all(['h', 'k'].map((h) => s.mirror.whenCurrent(h)));
    const first = await s.query<Images>(IMAGES);
    expect(first.errors).toBeUndefined();
    const reads = s.reads();
    expect(reads).toBeGreaterThan(0);
    const again = await s.query<Images>(IMAGES);
    expect(again).toEqual(first);
    expect(s.reads()).toBe(reads);

    // Written as stored bytes with yoga's headers; an SSE request for the same query still gets an event stream.
    const res = await s.app.fetch('http://fleetgraph/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: IMAGES }) });
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = Buffer.from(await res.arrayBuffer());
    expect(JSON.parse(body.toString())).toEqual({ data: first.data });
    // The length said is the body's (a socket would otherwise cut the answer or wait for more).
    expect(res.headers.get('content-length')).toBe(String(body.length));
    const sse = await s.app.fetch('http://fleetgraph/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query: IMAGES }) });
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await sse.text()).toContain(JSON.stringify({ data: first.data }));
    expect(s.reads()).toBe(reads);

    spec.images!.h = [fakeImage({ id: fakeId(1), repoTags: ['a:1', 'a:2'] })];
    await changed(s, 'h');
    const after = await s.query<Images>(IMAGES);
    expect(s.reads()).toBeGreaterThan(reads);
    expect(after.data!.images.nodes.find((n) => n.id === fakeId(1))!.repoTags).toEqual(['a:1', 'a:2']);
    s.mirror.close();
  });

  it('variables and operation names are part of the key', async () => {
    const s = setup({ images: { h: [fakeImage({ id: fakeId(1), size: 1 }), fakeImage({ id: fakeId(2), size: 2 })] } });
    const Q = `query Q($n: Int) { images(first: $n, orderBy: [{ field: SIZE, direction: ASC }]) { nodes { id } } }`;
    const one = await s.query<Images>(Q, { n: 1 });
    const two = await s.query<Images>(Q, { n: 2 });
    expect(one.data!.images.nodes.map((n) => n.id)).toEqual([fakeId(1)]);
    expect(two.data!.images.nodes.map((n) => n.id)).toEqual([fakeId(1), fakeId(2)]);
    s.mirror.close();
  });

  it('two tokens with different host scopes never share an answer', async () => {
    const s = setup(
      { images: { h: [fakeImage({ id: fakeId(1) })], k: [fakeImage({ id: fakeId(2) })] } },
      { FLEETGRAPH_AUTH_TOKENS: `${TOKEN_H} hosts=h;${TOKEN_K} hosts=k` },
    );
    const ids = async (token: string) => (await s.query<Images>(IMAGES, undefined, { authorization: `Bearer ${token}` })).data!.images.nodes.map((n) => n.id);
    for (let i = 0; i < 2; i++) {
      expect(await ids(TOKEN_H)).toEqual([fakeId(1)]);
      expect(await ids(TOKEN_K)).toEqual([fakeId(2)]);
    }
    const unauthenticated = await s.query(IMAGES);
    expect(unauthenticated.status).toBe(401);
    s.mirror.close();
  });

  it('inventoryAge (and other time-dependent fields) are never frozen', async () => {
    const s = setup({ images: { h: [fakeImage({ id: fakeId(1) })] } });
    const Q = `{ hosts { name inventoryAge } images { totalCount } }`;
    const first = await s.query<{ hosts: Array<{ inventoryAge: number }> }>(Q);
    s.advance(7000);
    const reads = s.reads();
    const later = await s.query<{ hosts: Array<{ inventoryAge: number }> }>(Q);
    expect(later.data!.hosts[0]!.inventoryAge - first.data!.hosts[0]!.inventoryAge).toBe(7);
    expect(s.reads()).toBeGreaterThan(reads);
    // The other fields and the updateStatus filter are executed every time as well.
    for (const q of [
      `{ hosts { apiVersion } }`,
      `{ hosts { error { at } } }`,
      `{ images(first: 1) { nodes { updates { status } } } }`,
      `{ fleet { outdatedCount } }`,
      `{ images(first: 1, filter: { updateStatus: [OUTDATED] }) { totalCount } }`,
    ]) {
      await s.query(q);
      const before = s.reads();
      const r = await s.query(q);
      expect(r.errors, q).toBeUndefined();
      if (q.includes('images') || q.includes('fleet')) expect(s.reads(), q).toBeGreaterThan(before);
    }
    const V = `query($f: ImageFilter) { images(first: 1, filter: $f) { totalCount } }`;
    await s.query(V, { f: { updateStatus: ['OUTDATED'] } });
    const before = s.reads();
    await s.query(V, { f: { updateStatus: ['OUTDATED'] } });
    expect(s.reads()).toBeGreaterThan(before);
    s.mirror.close();
  });

  it('a host whose stream is down is never served from the cache without its HOST_STALE error', async () => {
    const s = setup({ images: { h: [fakeImage({ id: fakeId(1) })], k: [] } });
    expect((await s.query(IMAGES)).errors).toBeUndefined();
    expect((await s.query(IMAGES)).errors).toBeUndefined();
    s.streams.get('h')!.setState('RECONNECTING');
    for (let i = 0; i < 2; i++) {
      const stale = await s.query<Images>(IMAGES);
      expect(stale.errors?.map((e) => [e.extensions?.code, e.extensions?.host])).toEqual([['HOST_STALE', 'h']]);
      expect(stale.data!.images.totalCount).toBe(1);
    }
    s.streams.get('h')!.setState('CONNECTED');
    expect((await s.query(IMAGES)).errors).toBeUndefined();
    s.mirror.close();
  });

  it('a @live query is live beside a cached plain one', async () => {
    const spec: FakeSourceSpec = { images: { h: [fakeImage({ id: fakeId(1) })] } };
    const s = setup(spec);
    await s.query(IMAGES);
    await s.query(IMAGES);
    const sub = await subscribe<Images>(s.app, `query @live ${IMAGES}`);
    expect((await sub.next()).data!.images.totalCount).toBe(1);
    spec.images!.h = [fakeImage({ id: fakeId(1) }), fakeImage({ id: fakeId(2) })];
    await changed(s, 'h');
    await sub.until((seen) => seen.some((d) => d.images.totalCount === 2));
    sub.close();
    expect((await s.query<Images>(IMAGES)).data!.images.totalCount).toBe(2);
    s.mirror.close();
  });

  it('answers with errors are not cached', async () => {
    const s = setup({ images: { h: [fakeImage({ id: fakeId(1) })] } });
    const BAD = `{ images(first: -1) { totalCount } }`;
    for (let i = 0; i < 2; i++) {
      const before = s.reads();
      const r = await s.query(BAD);
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(s.reads()).toBeGreaterThan(before);
    }
    s.mirror.close();
  });
});

describe('AnswerCache', () => {
  it('is bounded by entries and by bytes, least recently used first, and holds one generation', () => {
    const bytes = (t: string) => ({ parts: [Buffer.from(t)], length: Buffer.byteLength(t) });
    let generation = 0;
    const cache = new AnswerCache(() => generation, 3, 8000);
    cache.set('a', 0, bytes('x'.repeat(100)));
    cache.set('b', 0, bytes('x'.repeat(100)));
    cache.set('c', 0, bytes('x'.repeat(100)));
    expect(cache.get('a')).toBeDefined();
    cache.set('d', 0, bytes('x'.repeat(100)));
    // b was the least recently used.
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.get('d')].map((t) => t !== undefined)).toEqual([true, false, true, true]);
    expect(cache.size).toBe(3);
    cache.set('e', 0, bytes('x'.repeat(900)));
    cache.set('f', 0, bytes('x'.repeat(900)));
    expect(cache.get('f')).toBeDefined();
    expect(cache.bytes).toBeLessThanOrEqual(8000);
    // Larger than a quarter of the bytes: not kept.
    cache.set('big', 0, bytes('x'.repeat(2100)));
    expect(cache.get('big')).toBeUndefined();
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, 0, bytes('x'.repeat(i * 10)));
    expect(cache.size).toBeLessThanOrEqual(3);
    expect(cache.bytes).toBeLessThanOrEqual(8000);
    // An answer begun at an older generation is not kept; a new generation drops everything.
    generation = 1;
    cache.set('old', 0, bytes('x'));
    expect(cache.get('old')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
    cache.set('new', 1, bytes('y'));
    expect(Buffer.concat(cache.get('new')!.parts).toString()).toBe('y');
  });
});
