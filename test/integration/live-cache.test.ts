/**
 * Mirror mode's answer cache (src/live/answer-cache.ts) against real engines: a cached answer gives way
 * to the next one after a tag, an untag and a delete on an engine (checked against the engine's own
 * list); two tokens with different host scopes get their own answers; inventoryAge is not frozen; a host
 * whose engine stopped is answered with HOST_STALE, never from the cache. Two private engines.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engineRequest, expectOk } from '../../src/dev/engine-api.js';
import { startEngines, type Engine } from '../../src/dev/engine.js';
import { importImage, tagImage, untagImage } from '../../src/dev/images.js';
import { answerView, createLiveApp, engineView, eventually, type LiveApp } from '../helpers/live.js';

let a: Engine;
let b: Engine;
let baseA: string;
const closers: Array<() => void> = [];

const TOKEN_A = 'cache-token-host-a-0001';
const TOKEN_B = 'cache-token-host-b-0001';
const DASHBOARD = `{ images(first: 50, orderBy: [{ field: CREATED, direction: DESC }]) { totalCount nodes { id repoTags host { name } } } }`;
interface Dashboard {
  images: { totalCount: number; nodes: Array<{ id: string; repoTags: string[]; host: { name: string } }> };
}

function live(options: Parameters<typeof createLiveApp>[1] = {}): LiveApp {
  const app = createLiveApp([{ name: 'a', endpoint: a.endpoint }, { name: 'b', endpoint: b.endpoint }], { mirror: true, ...options });
  closers.push(() => app.close());
  return app;
}



/** Counts the mirror reads of image lists: every executed query makes one per host, a cached answer none. */
function countReads(app: LiveApp): () => number {
  let reads = 0;
  const mirror = app.mirror!;
  const images = mirror.images.bind(mirror);
  mirror.images = (h) => {
    reads++;
    return images(h);
  };
  return () => reads;
}


async function settled(app: LiveApp): Promise<void> {
  await eventually('connected', async () => ['a', 'b'].map((h) => app.hub.stream(h).state), (s) => s.every((x) => x === 'CONNECTED'));
  await Promise.all(['a', 'b'].map((h) => app.mirror!.whenCurrent(h)));
}

beforeAll(async () => {
  [a, b] = (await startEngines(['cache-a', 'cache-b'])) as [Engine, Engine];
  baseA = await importImage(a.socket, { tag: 'cache/a:base', label: { host: 'a' } });
  await importImage(b.socket, { tag: 'cache/b:base', label: { host: 'b' } });
});

afterEach(async () => {
  for (const c of closers.splice(0)) c();
  if (a.pid() === undefined) await a.start();
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy()]);
});

describe('mirror answer cache', () => {
  it('a tag, an untag and a delete on an engine each reach the next answer of a cached query', async () => {
    const app = live();
    const reads = countReads(app);
    await settled(app);
    const first = await app.query<Dashboard>(DASHBOARD);
    expect(first.errors).toBeUndefined();
    expect(answerView(first.data!, 'a')).toEqual(await engineView(a.socket));
    const before = reads();
    expect((await app.query<Dashboard>(DASHBOARD)).data).toEqual(first.data);
    expect(reads()).toBe(before);

    const imported = await importImage(a.socket, { tag: 'cache/a:doomed', label: { n: '1' } });
    const changes: Array<[string, () => Promise<void>]> = [
      ['tag', () => tagImage(a.socket, baseA, 'cache/a', 'tagged')],
      ['untag', () => untagImage(a.socket, 'cache/a:tagged')],
      ['delete', async () => void expectOk('DELETE', `/images/${imported}`, await engineRequest(a.socket, 'DELETE', `/images/${imported}?force=1`))],
    ];
    for (const [what, change] of changes) {
      // Cached first (a repeat reads nothing), then the change on the engine.
      await settled(app);
      await app.query(DASHBOARD);
      const cachedReads = reads();
      await app.query(DASHBOARD);
      expect(reads(), what).toBe(cachedReads);
      await change();
      const want = await engineView(a.socket);
      const seen = await eventually(what, () => app.query<Dashboard>(DASHBOARD), (r) => JSON.stringify(answerView(r.data!, 'a')) === JSON.stringify(want));
      expect(seen.errors, what).toBeUndefined();
      expect(answerView(seen.data!, 'b'), what).toEqual(await engineView(b.socket));
    }
    expect((await engineView(a.socket)).join('\n')).not.toContain(imported);
  });

  it('two tokens with different host scopes get their own answers, each the engine`s', async () => {
    const app = live({ env: { FLEETGRAPH_AUTH_TOKENS: `${TOKEN_A} hosts=a;${TOKEN_B} hosts=b` } });
    await settled(app);
    for (let i = 0; i < 3; i++) {
      const ra = await app.query<Dashboard>(DASHBOARD, undefined, { authorization: `Bearer ${TOKEN_A}` });
      const rb = await app.query<Dashboard>(DASHBOARD, undefined, { authorization: `Bearer ${TOKEN_B}` });
      expect(ra.data!.images.nodes.every((n) => n.host.name === 'a')).toBe(true);
      expect(rb.data!.images.nodes.every((n) => n.host.name === 'b')).toBe(true);
      expect(answerView(ra.data!, 'a')).toEqual(await engineView(a.socket));
      expect(answerView(rb.data!, 'b')).toEqual(await engineView(b.socket));
    }
  });

  it('inventoryAge is not frozen by the cache', async () => {
    const app = live();
    await settled(app);
    const Q = `{ hosts { name inventoryAge } images(first: 5) { totalCount } }`;
    const ages = async () => (await app.query<{ hosts: Array<{ inventoryAge: number }> }>(Q)).data!.hosts[0]!.inventoryAge;
    const first = await ages();
    await new Promise((r) => setTimeout(r, 1100));
    expect((await ages()) - first).toBeGreaterThanOrEqual(1);
  });

  it('a stopped engine is answered with HOST_STALE, not from the cache', async () => {
    const app = live({ minBackoffMs: 2000, maxBackoffMs: 4000 });
    await settled(app);
    const fresh = await app.query<Dashboard>(DASHBOARD);
    expect(fresh.errors).toBeUndefined();
    expect((await app.query<Dashboard>(DASHBOARD)).errors).toBeUndefined();
    await a.stop();
    const stale = await eventually('stale', () => app.query<Dashboard>(DASHBOARD), (r) => (r.errors ?? []).some((e) => e.extensions?.code === 'HOST_STALE'));
    expect(stale.errors!.map((e) => [e.extensions?.code, e.extensions?.host])).toEqual([['HOST_STALE', 'a']]);
    expect(stale.data).toEqual(fresh.data);
    // Every further answer while it is down says so too.
    for (let i = 0; i < 3; i++) expect((await app.query<Dashboard>(DASHBOARD)).errors?.map((e) => e.extensions?.code)).toEqual(['HOST_STALE']);
  });
});
