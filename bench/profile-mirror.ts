/**
 * Module: the gateway's CPU per request in mirror mode, in-process (no engine, no socket): a MirrorSource
 * over K × M made-up images (the bench's fakeList shapes) with hand-driven event streams, queried through
 * app.fetch. `node [--cpu-prof] dist/bench/profile-mirror.js [--hosts 4] [--images 1000] [--runs 200]
 * [--query dashboard|wire] [--change] [--http]`: prints ms per request; with --change, an event before every
 * request, so every answer is computed afresh (the uncached path); with --http, over node:http on loopback
 * (a connection per request, the body read and JSON.parse'd, as bench/live.ts's client does). Profile
 * first, then change.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { InventorySource } from '../src/docker/source.js';
import { normalizeImageList, type ImageRecord } from '../src/docker/normalize.js';
import type { LiveHub } from '../src/live/hub.js';
import { MirrorSource } from '../src/live/mirror.js';
import { StubStream } from '../test/helpers/live.js';
import { fakeList } from './engine-calls.js';
import { flag, numberFlag } from './args.js';

const K = numberFlag('hosts', 4);
const M = numberFlag('images', 1000);
const RUNS = numberFlag('runs', 200);
const CHANGE = process.argv.includes('--change');
const QUERIES: Record<string, string> = {
  wire: `{ images { nodes { id parentId repoTags repoDigests created size virtualSize labels { key value } host { name } } } }`,
  trivial: `{ __typename }`,
  dashboard: `{ images(first: 50, orderBy: [{ field: CREATED, direction: DESC }]) { totalCount nodes { id repoTags size created host { name } } } }`,
};
const query = QUERIES[flag('query', 'dashboard')]!;

const hosts = Array.from({ length: K }, (_, i) => `p${i}`);
const lists = new Map<string, ImageRecord[]>();
for (const h of hosts) lists.set(h, await normalizeImageList(fakeList(h, M)));
const direct: InventorySource = {
  hostNames: () => hosts,
  // A new array each load, as a reload from an engine gives.
  images: (h) => Promise.resolve([...lists.get(h)!]),
  containers: () => Promise.resolve([]),
  version: () => Promise.resolve({ version: '27.0.0', apiVersion: '1.47', minApiVersion: '1.24', os: 'linux', arch: 'amd64', kernelVersion: null }),
  sharedSizes: () => Promise.resolve(new Map()),
  breakerState: () => 'closed',
  negotiatedApiVersion: () => '1.47',
};
const streams = new Map(hosts.map((h) => [h, new StubStream()]));
const hub = { stream: (h: string) => streams.get(h)!, close: () => undefined } as unknown as LiveHub;
const mirror = new MirrorSource(direct, hub, { resyncMs: 600_000, debounceMs: 0 }).start();
const config = loadConfig({ hosts: hosts.map((h) => `${h}=unix:///nonexistent/${h}.sock`), maxImages: 20_000, mirror: true }, {});
const app = createApp({ source: mirror, config: { ...config, limits: { ...config.limits, maxCost: 1_000_000_000 } }, live: hub });

const HTTP = process.argv.includes('--http');
let url = '';
let server: http.Server | undefined;
if (HTTP) {
  server = http.createServer((req, res) => void app(req, res));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}
const agent = new http.Agent({ keepAlive: false });
const overHttp = (body: string) =>
  new Promise<string>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        JSON.parse(text);
        resolve(text);
      });
    });
    req.on('error', reject);
    req.end(body);
  });

let tick = 0;
const post = async () => {
  if (CHANGE) {
    // A tag on one host: its list is reloaded (a new array, one image's tags changed) before the query.
    const h = hosts[tick++ % K]!;
    const list = lists.get(h)!;
    list[0] = { ...list[0]!, repoTags: [`bench/changed:${tick}`] };
    streams.get(h)!.emit('tag', list[0].id);
    await new Promise((r) => setTimeout(r, 1));
    await mirror.whenCurrent(h);
  }
  if (HTTP) {
    const text = await overHttp(JSON.stringify({ query }));
    if (text.includes('"errors"')) throw new Error(`profile-mirror: ${text.slice(0, 300)}`);
    return;
  }
  const res = await app.fetch('http://fleetgraph/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"errors"')) throw new Error(`profile-mirror: ${res.status} ${text.slice(0, 300)}`);
};
for (let i = 0; i < 20; i++) await post();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < RUNS; i++) await post();
const wall = (performance.now() - t0) / RUNS;
const cpu = process.cpuUsage(cpu0);
console.log(`${RUNS} requests${CHANGE ? ', each after a change' : ''}: ${wall.toFixed(2)} ms each, CPU ${((cpu.user + cpu.system) / 1000 / RUNS).toFixed(2)} ms each`);
mirror.close();
server?.close();
agent.destroy();
