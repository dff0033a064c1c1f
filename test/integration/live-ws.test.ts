/**
 * Issue 12, GraphQL over WebSocket (graphql-ws) on the gateway's port, against two real engines: the
 * same events as SSE from the same one /events stream per host, the same token scope, the same limits,
 * and no cross-origin browser page. A counting proxy in front of engine a counts its /events connections.
 */
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { startEngines, type Engine } from '../../src/dev/engine.js';
import { importImage, tagImage, untagImage } from '../../src/dev/images.js';
import { eventually as poll, type Subscription } from '../helpers/live.js';
import { connectWs, wsSubscribe, type WsConnection } from '../helpers/ws.js';

const eventually = <T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean) => poll(what, fn, ok, 10_000, 100);

let a: Engine;
let b: Engine;
let proxy: CountingProxy;
let baseA: string;
let server: RunningServer;
const cleanup: Array<() => unknown> = [];

const FULL = 'tok-full-0123456789abcdef';
const ONLY_B = 'tok-b-only-0123456789abc';
const SUB = `subscription($hosts: [String!]) { imageEvents(hosts: $hosts) { host { name } action imageId reference image { id repoTags } } }`;
interface Ev {
  imageEvents: { host: { name: string }; action: string; imageId: string; reference: string | null; image: { id: string; repoTags: string[] } | null };
}

/** An SSE subscription on the server's port, read with fetch. */
function sse<T>(query: string, token: string): Subscription<T> & { opened: Promise<Response> } {
  const controller = new AbortController();
  const queue: Array<{ data?: T }> = [];
  const opened = fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
    signal: controller.signal,
  });
  const reading = (async () => {
    const res = await opened;
    const reader = res.body!.getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += new TextDecoder().decode(value);
      let sep: number;
      while ((sep = buffer.indexOf('\n\n')) >= 0) {
        const data = buffer.slice(0, sep).split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('');
        buffer = buffer.slice(sep + 2);
        if (data) queue.push(JSON.parse(data) as { data?: T });
      }
    }
  })().catch(() => undefined);
  const next = async (timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0) {
      if (Date.now() > deadline) throw new Error('no SSE message in time');
      await new Promise((r) => setTimeout(r, 20));
    }
    return queue.shift()!;
  };
  return {
    opened,
    next,
    async until(done, timeoutMs = 15_000) {
      const seen: T[] = [];
      const deadline = Date.now() + timeoutMs;
      while (!done(seen)) {
        const m = await next(deadline - Date.now());
        if (m.data) seen.push(m.data);
      }
      return seen;
    },
    close: () => {
      controller.abort();
      void reading;
    },
  };
}

function ws(options: Parameters<typeof connectWs>[1]): WsConnection {
  const conn = connectWs(server.url, options);
  cleanup.push(() => conn.dispose());
  return conn;
}


beforeAll(async () => {
  [a, b] = (await startEngines(['ws-a', 'ws-b'])) as [Engine, Engine];
  proxy = await startCountingProxy(a.socket);
  baseA = await importImage(a.socket, { tag: 'ws/a:base', label: { host: 'a' } });
  await importImage(b.socket, { tag: 'ws/b:base', label: { host: 'b' } });
  proxy.reset();
  server = await startServer(
    loadConfig({ hosts: [`a=${proxy.endpoint}`, `b=${b.endpoint}`], port: 0, mirror: true, corsOrigins: ['https://app.example'] }, { FLEETGRAPH_AUTH_TOKENS: `${FULL};${ONLY_B} hosts=b` }),
  );
});

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

afterAll(async () => {
  await server?.close();
  await proxy?.close();
  await Promise.all([a?.destroy(), b?.destroy()]);
});

describe('graphql-ws on the gateway port', () => {
  it('an SSE and a WebSocket subscriber (and the mirror) see the same tag from one /events stream at the engine', async () => {
    const conn = ws({ token: FULL });
    await conn.acked;
    const overWs = wsSubscribe<Ev>(conn, SUB, { hosts: ['a'] });
    const overSse = sse<Ev>(SUB, FULL);
    cleanup.push(overWs.close, overSse.close);
    expect((await overSse.opened).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    await tagImage(a.socket, baseA, 'ws/a', 'both');
    const isTag = (seen: Ev[]) => seen.some((e) => e.imageEvents.reference === 'ws/a:both');
    const [w, s] = await Promise.all([overWs.until(isTag), overSse.until(isTag)]);
    for (const seen of [w, s]) expect(seen.find((e) => e.imageEvents.reference === 'ws/a:both')!.imageEvents).toMatchObject({ host: { name: 'a' }, action: 'tag', imageId: baseA, image: { id: baseA } });
    // The mirror, the SSE and the WebSocket subscriber: one stream at the engine since the server started.
    expect(proxy.count('GET', '/events')).toBe(1);
    await untagImage(a.socket, 'ws/a:both');
  });

  it('queries and @live queries run over the socket with the same answers as over HTTP', async () => {
    const conn = ws({ token: FULL });
    const q = `{ images(hosts: ["a"]) { nodes { id repoTags } } }`;
    const overHttp = async () => ((await (await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${FULL}` }, body: JSON.stringify({ query: q }) })).json()) as { data: unknown }).data;
    const overWs = async () => (await wsSubscribe(conn, q).next()).data;
    // Both read the mirror, which may still be taking in the previous test's untag: equal once it has.
    await eventually('same answer', async () => [await overWs(), await overHttp()], ([w, h]) => JSON.stringify(w) === JSON.stringify(h) && w !== undefined);

    const liveQ = wsSubscribe<{ images: { nodes: Array<{ repoTags: string[] }> } }>(conn, `query @live { images(hosts: ["a"]) { nodes { repoTags } } }`);
    cleanup.push(liveQ.close);
    expect((await liveQ.next()).data!.images.nodes.flatMap((n) => n.repoTags)).not.toContain('ws/a:live');
    await tagImage(a.socket, baseA, 'ws/a', 'live');
    await liveQ.until((seen) => seen.some((r) => r.images.nodes.some((n) => n.repoTags.includes('ws/a:live'))));
    await untagImage(a.socket, 'ws/a:live');
  });

  it('a scoped token sees only its hosts (naming another is UNKNOWN_HOST); the token may come in the upgrade request', async () => {
    const conn = ws({ headerToken: ONLY_B });
    const refused = wsSubscribe<Ev>(conn, SUB, { hosts: ['a'] });
    expect((await refused.next()).errors?.[0]?.extensions?.code).toBe('UNKNOWN_HOST');
    const all = wsSubscribe<Ev>(conn, SUB);
    cleanup.push(all.close);
    const hosts = wsSubscribe<{ hosts: Array<{ name: string }> }>(conn, `{ hosts { name } }`);
    expect((await hosts.next()).data!.hosts).toEqual([{ name: 'b' }]);
    await tagImage(a.socket, baseA, 'ws/a', 'hidden');
    await tagImage(b.socket, 'ws/b:base', 'ws/b', 'seen');
    const seen = await all.until((evs) => evs.some((e) => e.imageEvents.reference === 'ws/b:seen'));
    expect(seen.map((e) => e.imageEvents.host.name)).toEqual(seen.map(() => 'b'));
    await untagImage(a.socket, 'ws/a:hidden');
    await untagImage(b.socket, 'ws/b:seen');
  });

  it('a bad or missing token is refused with 4403 before any operation', async () => {
    for (const options of [{ token: 'not-a-token-0123456789' }, {}]) {
      const conn = ws(options);
      await expect(conn.acked).rejects.toThrow();
      expect(await conn.closed).toBe(4403);
    }
  });

  it('a page from another origin cannot open the socket; the configured CORS origin and the gateway itself can', async () => {
    const evil = ws({ token: FULL, origin: 'https://evil.example' });
    await expect(evil.acked).rejects.toThrow();
    expect(await evil.closed).not.toBe(1000);
    for (const origin of ['https://app.example', new URL(server.url).origin]) {
      const ok = ws({ token: FULL, origin });
      await ok.acked;
    }
  });

  it('keeps the limits of HTTP: query cost and payload size; and bounds operations per socket and the wait for connection_init', async () => {
    const conn = ws({ token: FULL });
    const costly = wsSubscribe(conn, `{ images { nodes { host { images { nodes { host { images { nodes { id } } } } } } } } }`);
    expect((await costly.next()).errors?.[0]?.extensions?.code).toBe('QUERY_LIMIT_EXCEEDED');

    const subs = Array.from({ length: 21 }, () => wsSubscribe<Ev>(conn, SUB));
    cleanup.push(...subs.map((s) => s.close));
    expect((await subs[20]!.next()).errors?.[0]?.extensions?.code).toBe('QUERY_LIMIT_EXCEEDED');

    // A message over the body limit (100 KiB by default) closes the socket (1009: message too big).
    const big = ws({ token: FULL });
    await big.acked;
    const huge = wsSubscribe(big, `{ hosts { name } }`, { pad: 'x'.repeat(200 * 1024) });
    cleanup.push(huge.close);
    expect(await big.closed).toBe(1009);

    // Connected but never initialised: closed by the server (4408) after its 3 s deadline.
    const raw = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const code = await new Promise<number>((resolve) => raw.on('close', (c) => resolve(c)));
    expect(code).toBe(4408);
  });
});
