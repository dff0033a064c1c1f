/**
 * `npm run bench:live`: the live parts of issue 12 against real engines. Starts K private dockerd engines
 * with M small images each (--hosts K --images M; default 4 × 1000), a gateway in mirror mode in its own
 * process (bench/gateway.ts), and measures:
 *  - a query answered from the mirror against the raw parallel GET /images/json + JSON.parse (alternating;
 *    nothing changes between runs, so after the first these are answered from the answer cache);
 *  - the same query, and the dashboard query, uncached: each the first query after a change (a tag on
 *    one engine, waited for until the mirror shows it), --runs times;
 *  - a 50-image dashboard query under load (autocannon, --load-seconds, 10 connections), req/s and p99
 *    (a repeated query: answered from the answer cache);
 *  - 100 changes (tag, import, delete in turn) on one engine: the time until a query, a subscriber
 *    (graphql-ws) and a live query (graphql-ws, `@live`) show each;
 *  - the mirror's heap per 1000 images (mirror gateway minus direct-mode gateway, after a full GC);
 *  - heap growth over a soak of events (--seconds, default 60; --minutes 10 for the full run) with the
 *    subscriber and the live query attached.
 * Writes bench/results/live.md and live.json (or `--name N`: N.md, N.json); every printed target is a check.
 */
import http from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checksTable, verdict, type Check } from './checks.js';
import { rawGet as rawGetVia, time } from './engine-calls.js';
import { startGateway, type Gateway } from './gateway-process.js';
import { runLoad } from './load-test.js';
import { writeReport } from './report.js';
import { seed } from './seed.js';
import { engineRequest } from '../src/dev/engine-api.js';
import { startEngines, type Engine } from '../src/dev/engine.js';
import { importImage, tagImage, untagImage } from '../src/dev/images.js';
import { connectWs, type WsConnection } from '../test/helpers/ws.js';
import { numberFlag } from './args.js';

const K = numberFlag('hosts', 4);
const M = numberFlag('images', 1000);
const RUNS = numberFlag('runs', 25);
const LOAD_SECONDS = numberFlag('load-seconds', 10);
const CHANGES = numberFlag('changes', 100);
const SOAK_SECONDS = process.argv.includes('--minutes') ? numberFlag('minutes', 10) * 60 : numberFlag('seconds', 60);
/** Report name under bench/results/ (`--name live-soak` keeps a long soak's report beside the default one). */
const NAME = process.argv.includes('--name') ? process.argv[process.argv.indexOf('--name') + 1]!.replace(/[^a-z0-9-]/gi, '') : 'live';

const WIRE = `{ images { nodes { id parentId repoTags repoDigests created size virtualSize labels { key value } host { name } } } }`;
const DASHBOARD = `{ images(first: 50, orderBy: [{ field: CREATED, direction: DESC }]) { totalCount nodes { id repoTags size created host { name } } } }`;
const TAGS = (host: string) => `{ images(hosts: ["${host}"]) { nodes { id repoTags } } }`;
type TagsResult = { data?: { images: { nodes: Array<{ id: string; repoTags: string[] }> } } };

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};
const MiB = (b: number) => b / 2 ** 20;
interface Memory {
  heapUsedBytes: number;
  rssBytes: number;
  externalBytes: number;
}

async function mirrorReady(gw: Gateway): Promise<void> {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(200)) {
    const r = (await gw.query(`{ hosts { stream inventoryAge } }`).catch(() => undefined)) as { data?: { hosts: Array<{ stream: string; inventoryAge: number | null }> } } | undefined;
    if (r?.data?.hosts.every((h) => h.stream === 'CONNECTED' && h.inventoryAge !== null)) return;
  }
  throw new Error('mirror not loaded in 120 s');
}

/**
 * The time of `q` as the first query after a change: a tag on `engine`, waited for (with another query)
 * until the mirror shows it, so the answer cache holds nothing of this generation for `q`.
 */
async function firstAfterChange(gw: Gateway, engine: Engine, base: string, tag: string, q: string): Promise<number> {
  await tagImage(engine.socket, base, 'bench/uncached', tag);
  const probe = `{ image(ref: "bench/uncached:${tag}", hosts: ["${engine.name}"]) { id } }`;
  for (const deadline = Date.now() + 10_000; ; await sleep(5)) {
    const r = (await gw.query(probe)) as { data?: { image: unknown[] } };
    if (r.data?.image.length) break;
    if (Date.now() > deadline) throw new Error(`bench:live: tag ${tag} not seen in 10 s`);
  }
  return time(() => gw.query(q));
}

/** What one change looks like once it has landed: in a list of the host's images, and as an event. */
interface Change {
  action: 'tag' | 'import' | 'delete';
  landed: (nodes: Array<{ id: string; repoTags: string[] }>) => boolean;
  isEvent: (e: { action: string; imageId: string; reference: string | null }) => boolean;
}

/** Tag, import, delete (the image imported before), in turn, on `engine`; the times until each is seen. */
async function changeLatency(gw: Gateway, ws: WsConnection, engine: Engine, base: string, n: number) {
  const events: Array<{ at: number; e: { action: string; imageId: string; reference: string | null } }> = [];
  const lives: Array<{ at: number; nodes: Array<{ id: string; repoTags: string[] }> }> = [];
  const stopSub = ws.client.subscribe<{ imageEvents: { action: string; imageId: string; reference: string | null } }>(
    { query: `subscription { imageEvents(hosts: ["${engine.name}"]) { action imageId reference } }` },
    { next: (m) => m.data && events.push({ at: performance.now(), e: m.data.imageEvents }), error: () => undefined, complete: () => undefined },
  );
  const stopLive = ws.client.subscribe<{ images: { nodes: Array<{ id: string; repoTags: string[] }> } }>(
    { query: `query @live ${TAGS(engine.name)}` },
    { next: (m) => m.data && lives.push({ at: performance.now(), nodes: m.data.images.nodes }), error: () => undefined, complete: () => undefined },
  );
  await sleep(1000);
  const lat = { query: [] as number[], subscriber: [] as number[], live: [] as number[], missed: 0 };
  let imported: string | undefined;
  for (let i = 0; i < n; i++) {
    let change: Change;
    const t0 = performance.now();
    if (i % 3 === 0 || (i % 3 === 2 && !imported)) {
      const ref = `bench/live:t${i}`;
      await tagImage(engine.socket, base, 'bench/live', `t${i}`);
      change = { action: 'tag', landed: (ns) => ns.some((x) => x.repoTags.includes(ref)), isEvent: (e) => e.action === 'tag' && e.reference === ref };
    } else if (i % 3 === 1) {
      const id = await importImage(engine.socket, { tag: `bench/live:i${i}`, label: { i: String(i) } });
      imported = id;
      change = { action: 'import', landed: (ns) => ns.some((x) => x.id === id), isEvent: (e) => e.action === 'import' && e.imageId === id };
    } else {
      const id = imported!;
      imported = undefined;
      await engineRequest(engine.socket, 'DELETE', `/images/${id}?force=1`);
      change = { action: 'delete', landed: (ns) => !ns.some((x) => x.id === id), isEvent: (e) => e.action === 'delete' && e.imageId === id };
    }
    const deadline = t0 + 5000;
    let q: number | undefined;
    while (q === undefined && performance.now() < deadline) {
      const r = (await gw.query(TAGS(engine.name)).catch(() => undefined)) as TagsResult | undefined;
      if (r?.data && change.landed(r.data.images.nodes)) q = performance.now() - t0;
      else await sleep(10);
    }
    while (performance.now() < deadline && !(events.some((x) => x.at >= t0 && change.isEvent(x.e)) && lives.some((x) => x.at >= t0 && change.landed(x.nodes)))) await sleep(10);
    const s = events.find((x) => x.at >= t0 && change.isEvent(x.e));
    const l = lives.find((x) => x.at >= t0 && change.landed(x.nodes));
    // A change not seen in 5 s counts as 5 s (it fails the 1 s target), and is counted as missed.
    if (q === undefined || !s || !l) lat.missed++;
    lat.query.push(q ?? 5000);
    lat.subscriber.push(s ? s.at - t0 : 5000);
    lat.live.push(l ? l.at - t0 : 5000);
  }
  stopSub();
  stopLive();
  return lat;
}

/** Tags and untags on every engine for `seconds`, ~10 changes/s each, with a subscriber and a live query attached. */
async function soak(gw: Gateway, ws: WsConnection, engines: Engine[], bases: string[], seconds: number) {
  const stopSub = ws.client.subscribe({ query: `subscription { imageEvents { action imageId } }` }, { next: () => undefined, error: () => undefined, complete: () => undefined });
  const stopLive = ws.client.subscribe({ query: `query @live { hosts { name imageCount } }` }, { next: () => undefined, error: () => undefined, complete: () => undefined });
  const samples: Array<{ at: number } & Memory> = [];
  const t0 = Date.now();
  let i = 0;
  let nextSample = t0 + 5000;
  samples.push({ at: 0, ...(await gw.ask<Memory>('memory')) });
  while (Date.now() - t0 < seconds * 1000) {
    await Promise.all(engines.map((e, h) => (i % 2 === 0 ? tagImage(e.socket, bases[h]!, 'bench/soak', `s${i % 40}`) : untagImage(e.socket, `bench/soak:s${(i - 1) % 40}`))));
    i++;
    await sleep(100);
    if (Date.now() >= nextSample) {
      samples.push({ at: (Date.now() - t0) / 1000, ...(await gw.ask<Memory>('memory')) });
      nextSample += Math.max(5000, (seconds * 1000) / 12);
    }
  }
  if (i % 2 === 1) await Promise.all(engines.map((e) => untagImage(e.socket, `bench/soak:s${(i - 1) % 40}`)));
  await sleep(1000);
  samples.push({ at: (Date.now() - t0) / 1000, ...(await gw.ask<Memory>('memory')) });
  stopSub();
  stopLive();
  return { changes: i * engines.length, samples };
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const names = Array.from({ length: K }, (_, i) => `l${i}`);
  const t0 = Date.now();
  const engines = await startEngines(names);
  const gateways: Gateway[] = [];
  const sockets: WsConnection[] = [];
  try {
    await seed(engines, M);
    const bases = await Promise.all(engines.map((e) => importImage(e.socket, { tag: `bench/live:base`, label: { bench: 'live' } })));
    const perHost = await Promise.all(engines.map(async (e) => ((await rawGetVia(e.socket, '/images/json', agent)) as unknown[]).length));
    const total = perHost.reduce((a, b) => a + b, 0);
    process.stderr.write(`bench:live: ${K} engines, ${perHost.join('/')} images, seeded in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    const hosts = engines.map((e) => `${e.name}=${e.endpoint}`);

    // maxImages 20 000: room for 4 × 1000 and more, and the unpaginated wire query stays under the default maxCost
    // (a list without first counts as maxImages items). Memory: the same fleet in direct mode (nothing held) and in mirror mode, both after a full GC,
    // after a wire query the answer cache does not keep (it selects inventoryAge); then the cache's share, holding the wire answer.
    const WARM = WIRE.replace('{ images', '{ hosts { inventoryAge } images');
    const direct = await startGateway({ hosts, maxImages: 20_000 });
    gateways.push(direct);
    await direct.query(WARM);
    const directMem = await direct.ask<Memory>('memory');
    await direct.stop();
    gateways.pop();

    const gw = await startGateway({ hosts, maxImages: 20_000, mirror: true });
    gateways.push(gw);
    await mirrorReady(gw);
    await gw.query(WARM);
    const mirrorMem = await gw.ask<Memory>('memory');
    const perThousand = (mirrorMem.heapUsedBytes + mirrorMem.externalBytes - directMem.heapUsedBytes - directMem.externalBytes) / (total / 1000);
    const wireText = JSON.stringify(await gw.query(WIRE));
    const cachedMem = await gw.ask<Memory>('memory');
    const cacheHeap = cachedMem.heapUsedBytes + cachedMem.externalBytes - mirrorMem.heapUsedBytes - mirrorMem.externalBytes;

    // Mirror query against the raw parallel fetch, alternating.
    const raw = () => Promise.all(engines.map((e) => rawGetVia(e.socket, '/images/json', agent)));
    const rawMs: number[] = [];
    const mirrorMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      rawMs.push(await time(raw));
      mirrorMs.push(await time(() => gw.query(WIRE)));
    }
    const ratio = pct(mirrorMs, 50) / pct(rawMs, 50);
    const uncachedWireMs: number[] = [];
    const uncachedDashboardMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      uncachedWireMs.push(await firstAfterChange(gw, engines[0]!, bases[0]!, `w${i}`, WIRE));
      uncachedDashboardMs.push(await firstAfterChange(gw, engines[0]!, bases[0]!, `d${i}`, DASHBOARD));
    }
    for (let i = 0; i < RUNS; i++) await Promise.all([untagImage(engines[0]!.socket, `bench/uncached:w${i}`), untagImage(engines[0]!.socket, `bench/uncached:d${i}`)]);
    const uncachedRatio = pct(uncachedWireMs, 50) / pct(rawMs, 50);

    const load = await runLoad({ url: gw.url, connections: 10, durationSeconds: LOAD_SECONDS, query: DASHBOARD });

    const ws = connectWs(gw.url);
    sockets.push(ws);
    await ws.acked;
    const lat = await changeLatency(gw, ws, engines[0]!, bases[0]!, CHANGES);
    const soaked = await soak(gw, ws, engines, bases, SOAK_SECONDS);
    const first = soaked.samples[1] ?? soaked.samples[0]!;
    const last = soaked.samples.at(-1)!;
    const growth = last.heapUsedBytes - first.heapUsedBytes;
    const growthOk = growth <= Math.max(4 * 2 ** 20, 0.1 * first.heapUsedBytes);
    const load1 = loadavg();

    const ms = (x: number) => x.toFixed(1);
    const p99 = (xs: number[]) => pct(xs, 99);
    const checks: Check[] = [
      { metric: `mirror query, wire fields, ${K} × ${M}, repeated: answer cache (× raw parallel fetch)`, value: `${ratio.toFixed(3)} (${ms(pct(mirrorMs, 50))} / ${ms(pct(rawMs, 50))} ms)`, target: '≤ 0.20', ok: ratio <= 0.2 },
      { metric: `mirror query, wire fields, first after a change: executed (× raw parallel fetch)`, value: `${uncachedRatio.toFixed(3)} (${ms(pct(uncachedWireMs, 50))} / ${ms(pct(rawMs, 50))} ms)`, target: 'reported', ok: true },
      { metric: '50-image dashboard query, repeated (answer cache), 10 connections (req/s)', value: `${load.requestsPerSecond.toFixed(0)} (p99 ${load.latencyP99} ms, ${load.fiveXx} 5xx, ${load.errors} errors)`, target: '≥ 1000', ok: load.requestsPerSecond >= 1000 && load.fiveXx === 0 && load.errors === 0 },
      { metric: `change → query result, p99 of ${CHANGES}`, value: `${ms(p99(lat.query))} ms`, target: '≤ 1000 ms', ok: p99(lat.query) <= 1000 },
      { metric: `change → subscriber (graphql-ws), p99 of ${CHANGES}`, value: `${ms(p99(lat.subscriber))} ms`, target: '≤ 1000 ms', ok: p99(lat.subscriber) <= 1000 },
      { metric: `change → live query (graphql-ws), p99 of ${CHANGES}`, value: `${ms(p99(lat.live))} ms`, target: '≤ 1000 ms', ok: p99(lat.live) <= 1000 },
      { metric: 'changes not seen within 5 s', value: String(lat.missed), target: '0', ok: lat.missed === 0 },
      { metric: 'mirror heap per 1000 images', value: `${MiB(perThousand).toFixed(2)} MiB`, target: 'reported', ok: true },
      { metric: 'answer cache holding the wire answer', value: `${MiB(cacheHeap).toFixed(2)} MiB (the answer: ${MiB(wireText.length).toFixed(2)} MiB of JSON)`, target: 'reported', ok: true },
      { metric: `heap growth over ${SOAK_SECONDS} s of events (${soaked.changes} changes)`, value: `${MiB(growth).toFixed(2)} MiB (${MiB(first.heapUsedBytes).toFixed(1)} → ${MiB(last.heapUsedBytes).toFixed(1)})`, target: '≤ max(4 MiB, 10 %)', ok: growthOk },
    ];
    const dist = (name: string, xs: number[]) => `| ${name} | ${ms(pct(xs, 50))} | ${ms(pct(xs, 90))} | ${ms(p99(xs))} | ${ms(Math.max(...xs))} |`;
    const report = `# fleetgraph live (issue 12): mirror, events, subscriptions

Run: ${new Date().toISOString()} · ${cpus().length} cores (${cpus()[0]?.model ?? '?'}) · ${(totalmem() / 1024 ** 3).toFixed(0)} GiB · Node ${process.version} ·
K = ${K} engines × M = ${M} images (${perHost.join(' / ')}; ${total} in all) · unix sockets · gateway in its own process, \`--mirror\`.
Machine load average (1/5/15 min) at start ${load0.map((x) => x.toFixed(1)).join(' / ')}, at end ${load1.map((x) => x.toFixed(1)).join(' / ')}: the machine is shared
with other jobs, so absolute numbers are what this machine gave at that moment.

| query | median ms | p90 ms |
| --- | --- | --- |
| raw: parallel GET /images/json + JSON.parse | ${ms(pct(rawMs, 50))} | ${ms(pct(rawMs, 90))} |
| fleetgraph mirror: wire fields, repeated (answer cache) | ${ms(pct(mirrorMs, 50))} | ${ms(pct(mirrorMs, 90))} |
| fleetgraph mirror: wire fields, first query after a change (executed) | ${ms(pct(uncachedWireMs, 50))} | ${ms(pct(uncachedWireMs, 90))} |
| fleetgraph mirror: dashboard, first query after a change (executed) | ${ms(pct(uncachedDashboardMs, 50))} | ${ms(pct(uncachedDashboardMs, 90))} |

The mirror's answer cache (src/live/answer-cache.ts) keeps error-free answers until the mirror changes: a repeated
query is written from it without executing; the first query after a change executes. ${RUNS} runs of each.

Dashboard (\`${DASHBOARD}\`), repeated (answer cache), autocannon, 10 connections, ${LOAD_SECONDS} s: ${load.requests} requests, ${load.requestsPerSecond.toFixed(0)} req/s,
p50 ${load.latencyP50} ms, p99 ${load.latencyP99} ms, max ${load.latencyMax} ms.

${CHANGES} changes on ${engines[0]!.name} (tag, import, delete in turn), ms from the engine call to:

| seen by | p50 | p90 | p99 | max |
| --- | --- | --- | --- | --- |
${dist('a query (polled every 10 ms)', lat.query)}
${dist('an imageEvents subscriber (graphql-ws)', lat.subscriber)}
${dist('a live query (graphql-ws, @live, throttle 250 ms)', lat.live)}

Memory after a full GC: direct-mode gateway heap ${MiB(directMem.heapUsedBytes).toFixed(1)} MiB, mirror-mode ${MiB(mirrorMem.heapUsedBytes).toFixed(1)} MiB
(RSS ${MiB(mirrorMem.rssBytes).toFixed(0)} MiB). Soak, heap after GC: ${soaked.samples.map((s) => `${s.at.toFixed(0)} s ${MiB(s.heapUsedBytes).toFixed(1)}`).join(' · ')} MiB.

## Targets (issue 12)

${checksTable(checks)}

Verdict: ${verdict(checks)}
`;
    writeFileSync(fileURLToPath(new URL(`../../bench/results/${NAME}.json`, import.meta.url)), JSON.stringify({ at: new Date().toISOString(), machineLoad: { start: load0, end: load1 }, K, M, perHost, runs: RUNS, rawMs, mirrorMs, uncachedWireMs, uncachedDashboardMs, load, latency: lat, memory: { direct: directMem, mirror: mirrorMem, perThousand, cachedWire: cachedMem, cacheHeap, wireBytes: wireText.length }, soak: soaked, checks }, null, 2) + '\n');
    writeReport(`${NAME}.md`, report, checks);
  } finally {
    for (const s of sockets) await s.dispose();
    for (const g of gateways) await g.stop();
    agent.destroy();
    await Promise.all(engines.map((e) => e.destroy()));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:live: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
