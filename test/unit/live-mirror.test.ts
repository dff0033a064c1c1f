/**
 * MirrorSource over the in-process fake source and a hand-driven event stream: reload coalescing, no
 * source call on the request path, HOST_STALE while the stream is down or a reload fails.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { LiveHub } from '../../src/live/hub.js';
import { MirrorSource } from '../../src/live/mirror.js';
import { queryApp } from '../helpers/app.js';
import { StubStream } from '../helpers/live.js';
import { fakeId, fakeImage, fakeSource, type FakeSourceSpec } from '../helpers/fake-source.js';

function setup(spec: FakeSourceSpec) {
  const source = fakeSource(spec);
  const streams = new Map<string, StubStream>(source.hostNames().map((h) => [h, new StubStream()]));
  const hub = { stream: (h: string) => streams.get(h)!, close: () => undefined } as unknown as LiveHub;
  const mirror = new MirrorSource(source, hub, { resyncMs: 600_000, debounceMs: 20 }).start();
  const config = loadConfig({ hosts: source.hostNames().map((h) => `${h}=unix:///nonexistent/${h}.sock`) }, {});
  const app = createApp({ source: mirror, config, live: hub });
  return { source, streams, mirror, query: <T>(q: string) => queryApp<T>(app, q) };
}

const Q = `{ hosts { name stream inventoryAge } images { nodes { id host { name } } } }`;
interface A {
  hosts: Array<{ name: string; stream: string; inventoryAge: number | null }>;
  images: { nodes: Array<{ id: string; host: { name: string } }> };
}

describe('MirrorSource', () => {
  it('serves from memory (no source call per query); a burst of 100 events costs at most two reloads', async () => {
    const spec: FakeSourceSpec = { images: { h: [fakeImage({ id: fakeId(1) })], k: [] } };
    const { source, streams, mirror, query } = setup(spec);
    const first = await query<A>(Q);
    expect(first.errors).toBeUndefined();
    expect(first.data!.images.nodes.map((n) => n.id)).toEqual([fakeId(1)]);
    const loads = source.count('images', 'h');
    expect(loads).toBe(1);
    for (let i = 0; i < 5; i++) await query(Q);
    expect(source.count('images')).toBe(2); // h and k, once each at start

    spec.images!.h = Array.from({ length: 100 }, (_, i) => fakeImage({ id: fakeId(i + 10) }));
    for (let i = 0; i < 100; i++) streams.get('h')!.emit('tag', fakeId(i + 10));
    await new Promise((r) => setTimeout(r, 5));
    await mirror.whenCurrent('h');
    expect(source.count('images', 'h') - loads).toBeGreaterThanOrEqual(1);
    expect(source.count('images', 'h') - loads).toBeLessThanOrEqual(2);
    expect(source.count('images', 'k')).toBe(1);
    const after = await query<A>(Q);
    expect(after.data!.images.nodes.filter((n) => n.host.name === 'h')).toHaveLength(100);
    mirror.close();
  });

  it('events spread over a slow reload: never two reloads of a host at once, and one queued at most', async () => {
    const spec: FakeSourceSpec = { images: { h: [fakeImage({ id: fakeId(1) })] } };
    const { source, streams, mirror } = setup(spec);
    await mirror.images('h');
    let inFlight = 0;
    let most = 0;
    let reloads = 0;
    const plain = source.images.bind(source);
    source.images = async (host) => {
      reloads++;
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 40));
      inFlight--;
      return plain(host);
    };
    for (let i = 0; i < 60; i++) {
      streams.get('h')!.emit('tag', fakeId(i));
      await new Promise((r) => setTimeout(r, 5));
    }
    await mirror.whenCurrent('h');
    expect(most).toBe(1);
    expect(reloads).toBeLessThanOrEqual(12);
    mirror.close();
  });

  it('a host whose stream is down, or whose last reload failed, is served stale with HOST_STALE and its age; never silently', async () => {
    const spec: FakeSourceSpec = { images: { h: [fakeImage({ id: fakeId(1) })], k: [fakeImage({ id: fakeId(2) })] } };
    const { streams, mirror, query } = setup(spec);
    expect((await query<A>(Q)).errors).toBeUndefined();

    streams.get('h')!.setState('DOWN');
    const down = await query<A>(Q);
    expect(down.data!.images.nodes.map((n) => n.id)).toEqual([fakeId(1), fakeId(2)]);
    expect(down.data!.hosts[0]).toMatchObject({ name: 'h', stream: 'DOWN' });
    expect(down.errors).toHaveLength(1);
    expect(down.errors![0]!.extensions).toMatchObject({ code: 'HOST_STALE', host: 'h', stream: 'DOWN' });
    expect(typeof down.errors![0]!.extensions!.inventoryAge).toBe('number');

    // Stream back, but the reload it asks for fails: still stale.
    spec.fail = { h: 'HOST_TIMEOUT' };
    streams.get('h')!.setState('CONNECTED');
    for (const l of streams.get('h')!.listeners) l.connected?.();
    await new Promise((r) => setTimeout(r, 5));
    await mirror.whenCurrent('h');
    const failed = await query<A>(Q);
    expect(failed.errors?.map((e) => [e.extensions?.code, e.extensions?.host, e.extensions?.stream])).toEqual([['HOST_STALE', 'h', 'CONNECTED']]);
    expect(failed.data!.images.nodes).toHaveLength(2);

    delete spec.fail;
    streams.get('h')!.emit('tag', fakeId(1));
    await new Promise((r) => setTimeout(r, 5));
    await mirror.whenCurrent('h');
    expect((await query<A>(Q)).errors).toBeUndefined();
    mirror.close();
  });

  it('a host never read is reported with its own error, not as stale', async () => {
    const { mirror, query } = setup({ images: { h: [], k: [fakeImage({ id: fakeId(2) })] }, fail: { h: 'HOST_UNREACHABLE' } });
    const r = await query<A>(Q);
    expect(r.data!.images.nodes.map((n) => n.id)).toEqual([fakeId(2)]);
    expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.host])).toEqual([['HOST_UNREACHABLE', 'h']]);
    expect(r.data!.hosts[0]!.inventoryAge).toBeNull();
    mirror.close();
  });
});
