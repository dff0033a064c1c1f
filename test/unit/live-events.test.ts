/**
 * HostEventStream against a scripted /events server on a unix socket: shapes and faults a real engine
 * will not produce on demand (a replay after since=, an over-long line, a stream cut mid-line), and what the
 * imageEvents subscription makes of Podman's lines (test/integration/podman-live.test.ts has the real ones).
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { HostRegistry } from '../../src/docker/hosts.js';
import { HostEventStream, parseEventLine, sinceParam, type EngineEvent } from '../../src/live/events.js';
import { createLiveApp, subscribe } from '../helpers/live.js';

interface Served {
  method: string;
  path: string;
  query: URLSearchParams;
}

const line = (t: bigint, action: string, id: string, name?: string) =>
  JSON.stringify({ Type: 'image', Action: action, Actor: { ID: id, Attributes: name ? { name } : {} }, time: Number(t / 1_000_000_000n), timeNano: 0 }).replace('"timeNano":0', `"timeNano":${t}`) + '\n';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Each connection to /events gets the next script: lines to write, then whether to end the response. */
async function scriptedEngine(scripts: Array<{ lines: string[]; end: boolean }>): Promise<{ endpoint: string; served: Served[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-events-'));
  const socket = join(dir, 'e.sock');
  const served: Served[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    served.push({ method: req.method ?? '', path: url.pathname.replace(/^\/v\d+\.\d+/, ''), query: url.searchParams });
    const script = scripts[n++];
    if (!script) return; // later connections just hang open
    res.writeHead(200, { 'content-type': 'application/json', 'api-version': '1.41' });
    res.flushHeaders();
    for (const l of script.lines) res.write(l);
    if (script.end) res.end();
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { endpoint: `unix://${socket}`, served };
}

function streamTo(endpoint: string, maxLineBytes?: number): HostEventStream {
  const config = loadConfig({ hosts: [`e=${endpoint}`] }, {});
  const registry = new HostRegistry(config.hosts, { maxResponseBytes: 1024 * 1024 });
  cleanups.push(() => registry.close());
  const stream = new HostEventStream(registry.client('e'), { types: ['image'], minBackoffMs: 10, maxBackoffMs: 20, ...(maxLineBytes ? { maxLineBytes } : {}) });
  cleanups.push(() => stream.stop());
  return stream;
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ID1 = 'sha256:' + '1'.repeat(64);
const ID2 = 'sha256:' + '2'.repeat(64);

describe('HostEventStream', () => {
  it('reconnects with since= the last event and drops the replayed ones (including the one at exactly since)', async () => {
    const t1 = 1_700_000_000_100_000_000n;
    const t2 = 1_700_000_000_200_000_005n;
    const t3 = 1_700_000_000_300_000_000n;
    const engine = await scriptedEngine([
      { lines: [line(t1, 'tag', ID1, 'a:1'), line(t2, 'tag', ID1, 'a:2')], end: true },
      // The engine replays from its buffer, including the event whose timeNano equals since.
      { lines: [line(t1, 'tag', ID1, 'a:1'), line(t2, 'tag', ID1, 'a:2'), line(t2, 'untag', ID2), line(t3, 'delete', ID2)], end: false },
    ]);
    const stream = streamTo(engine.endpoint);
    const seen: EngineEvent[] = [];
    let connects = 0;
    stream.subscribe({ event: (e) => seen.push(e), connected: () => connects++ });
    await until(() => seen.length >= 4);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.map((e) => [e.action, e.name ?? e.id])).toEqual([
      ['tag', 'a:1'],
      ['tag', 'a:2'],
      ['untag', ID2],
      ['delete', ID2],
    ]);
    expect(connects).toBe(2);
    expect(engine.served.map((s) => [s.method, s.path])).toEqual([
      ['GET', '/events'],
      ['GET', '/events'],
    ]);
    expect(engine.served[0]!.query.get('since')).toBeNull();
    expect(engine.served[1]!.query.get('since')).toBe(sinceParam(t2));
    expect(sinceParam(t2)).toBe('1700000000.200000005');
    expect(JSON.parse(engine.served[0]!.query.get('filters')!)).toEqual({ type: ['image'] });
    expect(stream.state).toBe('CONNECTED');
  });

  it('delivers a live event stamped before one already delivered (Podman writes untag, then the earlier-stamped remove)', async () => {
    const t1 = 1_700_000_000_100_000_000n;
    const t2 = 1_700_000_000_200_000_000n;
    const engine = await scriptedEngine([
      { lines: [line(t2, 'untag', ID1, 'a:1'), line(t2 - 10_000n, 'delete', ID1, 'a:1')], end: true },
      // After the reconnect (since=t2) a replay of both, then a new event stamped before since: dropped as replay.
      { lines: [line(t2 - 10_000n, 'delete', ID1, 'a:1'), line(t2, 'untag', ID1, 'a:1'), line(t1, 'tag', ID2, 'b:1'), line(t2 + 1n, 'tag', ID2, 'b:2')], end: false },
    ]);
    const stream = streamTo(engine.endpoint);
    const seen: EngineEvent[] = [];
    stream.subscribe({ event: (e) => seen.push(e) });
    await until(() => seen.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.map((e) => [e.action, e.name])).toEqual([
      ['untag', 'a:1'],
      ['delete', 'a:1'],
      ['tag', 'b:2'],
    ]);
    expect(engine.served[1]!.query.get('since')).toBe(sinceParam(t2));
  });

  it('a line over the bound ends the connection (and a reconnect follows); lines split across chunks are joined', async () => {
    const t = 1_700_000_000_000_000_000n;
    const whole = line(t + 1n, 'tag', ID1, 'b:1');
    const engine = await scriptedEngine([
      { lines: ['{"Type":"image","x":"' + 'x'.repeat(5000)], end: false },
      { lines: [whole.slice(0, 20), whole.slice(20)], end: false },
    ]);
    const stream = streamTo(engine.endpoint, 1024);
    const seen: EngineEvent[] = [];
    stream.subscribe({ event: (e) => seen.push(e) });
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ action: 'tag', name: 'b:1', id: ID1 });
    expect(stream.connections).toBe(2);
  });

  it('one connection for every listener; closed after the last leaves; DOWN after repeated failures', async () => {
    const engine = await scriptedEngine([{ lines: [], end: false }]);
    const stream = streamTo(engine.endpoint);
    const off1 = stream.subscribe({});
    const off2 = stream.subscribe({});
    await until(() => stream.state === 'CONNECTED');
    await new Promise((r) => setTimeout(r, 50));
    expect(engine.served).toHaveLength(1);
    off1();
    expect(stream.state).toBe('CONNECTED');
    off2();
    expect(stream.state).toBe('OFF');

    const nowhere = streamTo('unix:///nonexistent/fleetgraph-events.sock');
    const states: string[] = [];
    nowhere.subscribe({ state: (s) => states.push(s) });
    await until(() => nowhere.state === 'DOWN');
    expect(states[0]).toBe('RECONNECTING');
  });
});

describe('parseEventLine', () => {
  it('reads current and old (status/id) shapes; ignores what is not an event', () => {
    expect(parseEventLine('h', line(5n, 'tag', ID1, 'r:t'), ['image'])).toMatchObject({ host: 'h', type: 'image', action: 'tag', id: ID1, name: 'r:t', timeNano: 5n });
    expect(parseEventLine('h', JSON.stringify({ status: 'untag', id: ID1, time: 3 }), ['image'])).toMatchObject({ type: 'image', action: 'untag', timeNano: 3_000_000_000n });
    expect(parseEventLine('h', 'not json', ['image'])).toBeUndefined();
    expect(parseEventLine('h', '42', ['image'])).toBeUndefined();
    expect(parseEventLine('h', JSON.stringify({ Type: 'image' }), ['image'])).toBeUndefined();
  });
});

describe('imageEvents from Podman-shaped lines', () => {
  it('gives bare hex IDs in ImageSummary form; a loadfromarchive has no image and its archive path is not passed on', async () => {
    const hex = 'a'.repeat(64);
    const engine = await scriptedEngine([
      {
        lines: [
          line(1_700_000_000_000_000_001n, 'loadfromarchive', '', '/tmp/podman/api_load.tar123'),
          line(1_700_000_000_000_000_002n, 'tag', hex, 'docker.io/live/pod'),
          line(1_700_000_000_000_000_003n, 'delete', hex, 'docker.io/live/pod:1'),
        ],
        end: false,
      },
    ]);
    const app = createLiveApp([{ name: 'pod', endpoint: engine.endpoint }]);
    cleanups.push(() => app.close());
    const s = await subscribe<{ imageEvents: { host: { name: string }; action: string; imageId: string | null; reference: string | null } }>(
      app.app,
      'subscription { imageEvents { host { name } action imageId reference } }',
    );
    cleanups.push(s.close);
    const seen = await s.until((evs) => evs.length >= 3, 5_000);
    expect(seen.map((e) => e.imageEvents)).toEqual([
      { host: { name: 'pod' }, action: 'loadfromarchive', imageId: null, reference: null },
      { host: { name: 'pod' }, action: 'tag', imageId: `sha256:${hex}`, reference: 'docker.io/live/pod' },
      { host: { name: 'pod' }, action: 'delete', imageId: `sha256:${hex}`, reference: 'docker.io/live/pod:1' },
    ]);
  });
});

describe('ImageEvent.image when the engine fails a list once', () => {
  it('asks once more: Podman answers 500 to a list made while another request changes its storage', async () => {
    const hex = 'b'.repeat(64);
    const dir = mkdtempSync(join(tmpdir(), 'fg-events-'));
    const socket = join(dir, 'e.sock');
    let lists = 0;
    const server = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/v\d+\.\d+/, '');
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json', 'api-version': '1.41' }).end(JSON.stringify(body));
      if (path === '/events') {
        res.writeHead(200, { 'content-type': 'application/json', 'api-version': '1.41' });
        res.write(line(1_700_000_000_000_000_001n, 'tag', hex, 'docker.io/live/pod:1'));
        return;
      }
      if (path === '/images/json') {
        if (++lists === 1) return json(500, { message: 'layer not known' });
        return json(200, [{ Id: `sha256:${hex}`, ParentId: '', RepoTags: ['docker.io/live/pod:1'], RepoDigests: [], Created: 1_700_000_000, Size: 1, SharedSize: -1, VirtualSize: 1, Labels: {}, Containers: -1 }]);
      }
      json(404, { message: 'no such path' });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    cleanups.push(() => {
      server.closeAllConnections();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const app = createLiveApp([{ name: 'pod', endpoint: `unix://${socket}` }]);
    cleanups.push(() => app.close());
    const s = await subscribe<{ imageEvents: { action: string; image: { id: string; repoTags: string[] } | null } }>(app.app, 'subscription { imageEvents { action image { id repoTags } } }');
    cleanups.push(s.close);
    const [seen] = await s.until((evs) => evs.length >= 1, 5_000);
    expect(seen!.imageEvents).toEqual({ action: 'tag', image: { id: `sha256:${hex}`, repoTags: ['docker.io/live/pod:1'] } });
    expect(lists).toBe(2);
  });
});
