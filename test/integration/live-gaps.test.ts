/**
 * Issue 12, gaps in the event stream against a real engine: a partition between gateway and engine
 * (a proxy that stops forwarding) while the engine changes more than its 256-event buffer can replay,
 * and a frozen engine (SIGSTOP past the host deadline). In both the mirror reports HOST_STALE while cut
 * off and, once the engine is back, reloads and equals the engine's own list: nothing is lost.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { startEngine, type Engine } from '../../src/dev/engine.js';
import { importImage, tagImage, untagImage } from '../../src/dev/images.js';
import { createLiveApp, engineView, eventually as poll, type LiveApp } from '../helpers/live.js';

let a: Engine;
let proxy: CountingProxy;
let base: string;
const closers: Array<() => void> = [];

const INVENTORY = `{ hosts { name stream } images { nodes { id repoTags } } }`;
interface Inventory {
  hosts: Array<{ name: string; stream: string }>;
  images: { nodes: Array<{ id: string; repoTags: string[] }> };
}
type Answer = Awaited<ReturnType<LiveApp['query']>> & { data?: Inventory | null };

/** Polls as the other live tests do, with this file's longer patience (a cut-off stream heals on its backoff). */
const eventually = <T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean) => poll(what, fn, ok, 20_000, 100);
const view = (r: Answer) => (r.data?.images.nodes ?? []).map((n) => `${n.id} ${[...n.repoTags].sort().join(',')}`).sort();
const staleOf = (r: Answer) => (r.errors ?? []).find((e) => e.extensions?.code === 'HOST_STALE');


/** A mirror over the proxy: 1 s host deadline, a 1 s heartbeat, quick reconnects. */
function mirror(): LiveApp {
  const app = createLiveApp([{ name: 'a', endpoint: proxy.endpoint }], { mirror: true, heartbeatMs: 1000, minBackoffMs: 200, maxBackoffMs: 1000, input: { hostTimeoutMs: 1000 } });
  closers.push(() => app.close());
  return app;
}

/** `n` tags then `n` untags of `repo`, `width` at a time, then one tag `repo:last` that remains. */
async function churn(repo: string, n: number, width = 25): Promise<void> {
  for (let i = 0; i < n; i += width) await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, j) => tagImage(a.socket, base, repo, `c${i + j}`)));
  for (let i = 0; i < n; i += width) await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, j) => untagImage(a.socket, `${repo}:c${i + j}`)));
  await tagImage(a.socket, base, repo, 'last');
}

beforeAll(async () => {
  a = await startEngine('gaps-a');
  proxy = await startCountingProxy(a.socket);
  base = await importImage(a.socket, { tag: 'gaps/a:base', label: { host: 'a' } });
});

afterEach(() => {
  proxy.resume();
  if (a.pid() !== undefined) a.signal('SIGCONT');
  for (const c of closers.splice(0)) c();
});

afterAll(async () => {
  await proxy?.close();
  await a?.destroy();
});

describe('the mirror across gaps in the event stream', () => {
  it('a partition while the engine makes 301 changes: HOST_STALE while cut off, then equal to the engine', async () => {
    const app = mirror();
    await eventually('connected', () => app.query<Inventory>(INVENTORY), (r) => !r.errors && r.data!.hosts[0]!.stream === 'CONNECTED');
    const before = await engineView(a.socket);
    const connections = app.hub.stream('a').connections;

    proxy.pause();
    // 150 tags + 150 untags + 1 tag: more than the 256 events the engine keeps for a `since=` replay.
    await churn('gaps/cut', 150);
    const cut = await eventually('stale while cut off', () => app.query<Inventory>(INVENTORY), (r) => staleOf(r) !== undefined);
    expect(staleOf(cut)!.extensions).toMatchObject({ host: 'a' });
    expect(view(cut)).toEqual(before);
    expect(app.hub.stream('a').connections).toBe(connections);

    proxy.resume();
    const want = await engineView(a.socket);
    expect(want.join('\n')).toContain('gaps/cut:last');
    const healed = await eventually('reconciled', () => app.query<Inventory>(INVENTORY), (r) => !r.errors && JSON.stringify(view(r)) === JSON.stringify(want));
    expect(healed.data!.hosts[0]!.stream).toBe('CONNECTED');
    expect(app.hub.stream('a').connections).toBeGreaterThan(connections);
    await untagImage(a.socket, 'gaps/cut:last');
  });

  it('a SIGSTOPped engine past the host deadline is served stale; after SIGCONT the changes queued and made since are all in the mirror', async () => {
    const app = mirror();
    await eventually('connected', () => app.query<Inventory>(INVENTORY), (r) => !r.errors && r.data!.hosts[0]!.stream === 'CONNECTED');
    const before = await engineView(a.socket);

    a.signal('SIGSTOP');
    // Tags sent to the frozen engine wait in its socket's backlog and happen on SIGCONT.
    const queued = Promise.all(Array.from({ length: 20 }, (_, i) => tagImage(a.socket, base, 'gaps/frozen', `q${i}`)));
    const stale = await eventually('stale while frozen', () => app.query<Inventory>(INVENTORY), (r) => staleOf(r) !== undefined);
    expect(['RECONNECTING', 'DOWN']).toContain(staleOf(stale)!.extensions!.stream);
    expect(view(stale)).toEqual(before);

    a.signal('SIGCONT');
    await queued;
    await churn('gaps/after', 140);
    const want = await engineView(a.socket);
    expect(want.join('\n')).toContain('gaps/frozen:q19');
    await eventually('reconciled', () => app.query<Inventory>(INVENTORY), (r) => !r.errors && JSON.stringify(view(r)) === JSON.stringify(want) && r.data!.hosts[0]!.stream === 'CONNECTED');
    await Promise.all([...Array.from({ length: 20 }, (_, i) => untagImage(a.socket, `gaps/frozen:q${i}`)), untagImage(a.socket, 'gaps/after:last')]);
  });
});
