/**
 * Issue 12 against real engines: one shared /events stream per host, the events-fed mirror (--mirror)
 * and the imageEvents subscription. Two private engines (stopped and restarted here, so not the shared
 * fleet); a counting proxy in front of the first counts what that engine receives.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { createTestApp } from '../helpers/app.js';
import { startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { engineRequest, expectOk } from '../../src/dev/engine-api.js';
import { startEngines, type Engine } from '../../src/dev/engine.js';
import { importImage, tagImage, untagImage } from '../../src/dev/images.js';
import { answerView, createLiveApp, engineView, eventually, subscribe, type LiveApp } from '../helpers/live.js';

let a: Engine;
let b: Engine;
let proxy: CountingProxy;
let baseA: string;
const closers: Array<() => void> = [];

interface Ev {
  imageEvents: { host: { name: string }; action: string; imageId: string; reference: string | null; image: { id: string; repoTags: string[] } | null };
}
const SUB = `subscription($hosts: [String!], $actions: [String!]) { imageEvents(hosts: $hosts, actions: $actions) { host { name } action imageId reference image { id repoTags } } }`;
const INVENTORY = `{ hosts { name stream inventoryAge } images { nodes { id repoTags containers host { name } } } }`;

interface Inventory {
  hosts: Array<{ name: string; stream: string; inventoryAge: number | null }>;
  images: { nodes: Array<{ id: string; repoTags: string[]; containers: number | null; host: { name: string } }> };
}

function live(options: Parameters<typeof createLiveApp>[1] = {}): LiveApp {
  const app = createLiveApp([{ name: 'a', endpoint: proxy.endpoint }, { name: 'b', endpoint: b.endpoint }], options);
  closers.push(() => app.close());
  return app;
}




const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const engines = await startEngines(['live-a', 'live-b']);
  a = engines[0]!;
  b = engines[1]!;
  proxy = await startCountingProxy(a.socket);
  baseA = await importImage(a.socket, { tag: 'live/a:base', label: { host: 'a' } });
  await importImage(b.socket, { tag: 'live/b:base', label: { host: 'b' } });
});

afterEach(async () => {
  for (const c of closers.splice(0)) c();
  if (a.pid() === undefined) await a.start();
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all([a?.destroy(), b?.destroy()]);
});

describe('imageEvents subscription', () => {
  it('tag, untag, import and delete on one host reach two subscribers with that host and the action; the engine serves one /events stream', async () => {
    const app = live();
    proxy.reset();
    const s1 = await subscribe<Ev>(app.app, SUB);
    const s2 = await subscribe<Ev>(app.app, SUB, { hosts: ['a'], actions: ['tag', 'delete'] });
    closers.push(s1.close, s2.close);
    await eventually('streams connected', async () => app.hub.stream('a').state, (s) => s === 'CONNECTED');

    await tagImage(a.socket, baseA, 'live/a', 'tagged');
    const tagged = await s1.until((seen) => seen.some((e) => e.imageEvents.action === 'tag'));
    const tag = tagged.find((e) => e.imageEvents.action === 'tag')!.imageEvents;
    expect(tag).toMatchObject({ host: { name: 'a' }, imageId: baseA, reference: 'live/a:tagged' });
    expect(tag.image?.id).toBe(baseA);

    await untagImage(a.socket, 'live/a:tagged');
    const untag = (await s1.until((seen) => seen.some((e) => e.imageEvents.action === 'untag'))).find((e) => e.imageEvents.action === 'untag')!.imageEvents;
    expect(untag).toMatchObject({ host: { name: 'a' }, imageId: baseA });

    const imported = await importImage(a.socket, { tag: 'live/a:imported', label: { n: '1' } });
    const imp = (await s1.until((seen) => seen.some((e) => e.imageEvents.action === 'import'))).find((e) => e.imageEvents.action === 'import')!.imageEvents;
    expect(imp).toMatchObject({ host: { name: 'a' }, imageId: imported });

    expectOk('DELETE', 'image', await engineRequest(a.socket, 'DELETE', `/images/${imported}?force=1`));
    const del = (await s1.until((seen) => seen.some((e) => e.imageEvents.action === 'delete'))).find((e) => e.imageEvents.action === 'delete')!.imageEvents;
    expect(del).toMatchObject({ host: { name: 'a' }, imageId: imported, image: null });

    // The second subscriber asked for host a, tag and delete only: it sees exactly those, in order.
    const second = await s2.until((seen) => seen.some((e) => e.imageEvents.action === 'delete'));
    expect(second.map((e) => [e.imageEvents.host.name, e.imageEvents.action])).toEqual([
      ['a', 'tag'],
      ...second.slice(1, -1).map(() => ['a', 'tag']),
      ['a', 'delete'],
    ]);
    expect(second.every((e) => e.imageEvents.host.name === 'a')).toBe(true);
    // Two subscribers, one stream at the engine.
    expect(proxy.count('GET', '/events')).toBe(1);
  });

  it('a scoped token sees only its hosts; naming another is UNKNOWN_HOST', async () => {
    const app = live({ env: { FLEETGRAPH_AUTH_TOKENS: 'tok-b-only-0123456789 hosts=b' } });
    const auth = { authorization: 'Bearer tok-b-only-0123456789' };
    const refused = await subscribe<Ev>(app.app, SUB, { hosts: ['a'] }, auth);
    closers.push(refused.close);
    const first = await refused.next();
    expect(first.errors?.[0]?.extensions?.code).toBe('UNKNOWN_HOST');

    const s = await subscribe<Ev>(app.app, SUB, {}, auth);
    closers.push(s.close);
    await eventually('b connected', async () => app.hub.stream('b').state, (st) => st === 'CONNECTED');
    expect(app.hub.stream('a').state).toBe('OFF');
    await tagImage(a.socket, baseA, 'live/a', 'hidden');
    await tagImage(b.socket, 'live/b:base', 'live/b', 'seen');
    const seen = await s.until((evs) => evs.some((e) => e.imageEvents.reference === 'live/b:seen'));
    expect(seen.every((e) => e.imageEvents.host.name === 'b')).toBe(true);
    await untagImage(a.socket, 'live/a:hidden');
    await untagImage(b.socket, 'live/b:seen');
  });
});

describe('mirror mode', () => {
  it('answers from memory: no engine call on the request path, and the same answer as the engine', async () => {
    const app = live({ mirror: true });
    const first = await app.query<Inventory>(INVENTORY);
    expect(first.errors).toBeUndefined();
    await eventually('connected', async () => app.hub.stream('a').state, (s) => s === 'CONNECTED');
    proxy.reset();
    const r = await app.query<Inventory>(INVENTORY);
    expect(r.errors).toBeUndefined();
    expect(proxy.requests).toEqual([]);
    expect(answerView(r.data!, 'a')).toEqual(await engineView(a.socket));
    expect(answerView(r.data!, 'b')).toEqual(await engineView(b.socket));
    expect(r.data!.hosts.map((h) => h.stream)).toEqual(['CONNECTED', 'CONNECTED']);
    for (const h of r.data!.hosts) expect(h.inventoryAge).toBeGreaterThanOrEqual(0);
  });

  it('after a burst of 200 changes (160 tags, 40 untags) the mirror equals a fresh direct query, with few reloads', async () => {
    const app = live({ mirror: true });
    await app.query(INVENTORY);
    await eventually('connected', async () => app.hub.stream('a').state, (s) => s === 'CONNECTED');
    proxy.reset();
    // In bursts of 20 at once, as a CI job tagging a release would.
    for (let i = 0; i < 160; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => tagImage(a.socket, baseA, 'live/burst', `t${i + j}`)));
    for (let i = 0; i < 40; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => untagImage(a.socket, `live/burst:t${i + j}`)));
    const want = await engineView(a.socket);
    await eventually('mirror caught up', () => app.query<Inventory>(INVENTORY), (r) => JSON.stringify(answerView(r.data!, 'a')) === JSON.stringify(want));
    // Bursts are coalesced: at most one list reload per two events (63 seen for the 200 on a loaded machine).
    expect(proxy.count('GET', '/images/json')).toBeLessThan(100);
    const direct = createTestApp([{ name: 'a', endpoint: a.endpoint }]);
    closers.push(() => direct.close());
    const fresh = await direct.query<Inventory>(`{ images { nodes { id repoTags host { name } } } }`);
    expect(answerView((await app.query<Inventory>(INVENTORY)).data!, 'a')).toEqual(answerView(fresh.data!, 'a'));
    for (let i = 40; i < 160; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => untagImage(a.socket, `live/burst:t${i + j}`)));
  });

  it('a stopped engine is served stale with HOST_STALE; after its restart, more changes than the engine replays are not lost', async () => {
    // Reconnect pauses of 4 s, then 8 s: the engine is restarted during the second, and changed more
    // than its 256-event buffer can replay before the stream is back, so only the reload can catch up.
    const app = live({ mirror: true, minBackoffMs: 4000, maxBackoffMs: 8000 });
    await app.query(INVENTORY);
    await eventually('connected', async () => app.hub.stream('a').state, (s) => s === 'CONNECTED');
    const before = await engineView(a.socket);

    await a.stop();
    const stoppedAt = Date.now();
    const stale = await eventually('stale', () => app.query<Inventory>(INVENTORY), (r) => (r.errors ?? []).some((e) => e.extensions?.code === 'HOST_STALE'));
    const err = stale.errors!.find((e) => e.extensions?.code === 'HOST_STALE')!;
    expect(err.extensions).toMatchObject({ host: 'a' });
    expect(['RECONNECTING', 'DOWN']).toContain(err.extensions!.stream);
    expect(typeof err.extensions!.inventoryAge).toBe('number');
    expect(answerView(stale.data!, 'a')).toEqual(before);
    expect(stale.data!.hosts[0]!.stream).not.toBe('CONNECTED');
    expect(stale.errors!.filter((e) => e.extensions?.host === 'b')).toEqual([]);

    // After the first failed reconnect (at 4 s), the next is 8 s away.
    const connections = app.hub.stream('a').connections;
    await sleep(Math.max(0, 4500 - (Date.now() - stoppedAt)));
    await a.start();
    const N = 150; // 150 tags + 150 untags: 300 events, more than the 256 the engine keeps
    for (let i = 0; i < N; i += 30) await Promise.all(Array.from({ length: 30 }, (_, j) => tagImage(a.socket, baseA, 'live/restart', `r${i + j}`)));
    for (let i = 0; i < N; i += 30) await Promise.all(Array.from({ length: 30 }, (_, j) => untagImage(a.socket, `live/restart:r${i + j}`)));
    await tagImage(a.socket, baseA, 'live/restart', 'last'); // the only change left after the churn
    // The changes were made while the stream was still away (else this test would not test the reload).
    expect(app.hub.stream('a').connections).toBe(connections);
    const want = await engineView(a.socket);
    expect(want.join('\n')).toContain('live/restart:last');
    const caught = await eventually('reconciled', () => app.query<Inventory>(INVENTORY), (r) => !r.errors && JSON.stringify(answerView(r.data!, 'a')) === JSON.stringify(want), 20_000);
    expect(caught.data!.hosts[0]!.stream).toBe('CONNECTED');
    // And the reconnected stream carries new events again.
    await untagImage(a.socket, 'live/restart:last');
    const after = await engineView(a.socket);
    await eventually('event after reconnect', () => app.query<Inventory>(INVENTORY), (r) => JSON.stringify(answerView(r.data!, 'a')) === JSON.stringify(after));
  });

  it('a live query gets a new result when a tag on the engine changes what it reads', async () => {
    const app = live({ mirror: true });
    await app.query(INVENTORY);
    const s = await subscribe<{ images: { nodes: Array<{ repoTags: string[] }> } }>(app.app, `query @live { images(hosts: ["a"]) { nodes { repoTags } } }`);
    closers.push(s.close);
    const first = await s.next();
    expect(first.data!.images.nodes.flatMap((n) => n.repoTags)).not.toContain('live/a:live');
    await tagImage(a.socket, baseA, 'live/a', 'live');
    const seen = await s.until((r) => r.some((x) => x.images.nodes.some((n) => n.repoTags.includes('live/a:live'))));
    expect(seen.length).toBeGreaterThanOrEqual(1);
    await untagImage(a.socket, 'live/a:live');
  });

  it('--mirror off keeps direct mode: every query reads the engine, stream OFF, inventoryAge null', async () => {
    const app = live();
    proxy.reset();
    const r1 = await app.query<Inventory>(INVENTORY);
    const r2 = await app.query<Inventory>(INVENTORY);
    expect(r1.errors).toBeUndefined();
    expect(r2.data!.hosts).toEqual([
      { name: 'a', stream: 'OFF', inventoryAge: null },
      { name: 'b', stream: 'OFF', inventoryAge: null },
    ]);
    expect(proxy.count('GET', '/images/json')).toBe(2);
    expect(proxy.count('GET', '/events')).toBe(0);
    expect(answerView(r2.data!, 'a')).toEqual(await engineView(a.socket));
  });
});

describe('the server', () => {
  it('with mirror: true builds the mirror and serves imageEvents over SSE on its port', async () => {
    const server = await startServer(loadConfig({ hosts: [`a=${proxy.endpoint}`, `b=${b.endpoint}`], port: 0, mirror: true }, {}));
    closers.push(() => void server.close());
    const post = (body: object, accept = 'application/json') =>
      fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body) });
    await eventually(
      'mirror connected',
      async () => ((await (await post({ query: '{ hosts { stream } }' })).json()) as { data: { hosts: Array<{ stream: string }> } }).data.hosts.map((h) => h.stream),
      (states) => states.every((st) => st === 'CONNECTED'),
    );
    proxy.reset();
    const controller = new AbortController();
    closers.push(() => controller.abort());
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: SUB, variables: { hosts: ['a'], actions: ['tag'] } }),
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    await sleep(200);
    await tagImage(a.socket, baseA, 'live/a', 'served');
    let text = '';
    while (!text.includes('live/a:served')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('"action":"tag"');
    // The mirror's stream serves the subscriber too: no second /events at the engine.
    expect(proxy.count('GET', '/events')).toBe(0);
    controller.abort();
    await untagImage(a.socket, 'live/a:served');
  });
});

