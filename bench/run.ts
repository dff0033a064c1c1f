/**
 * `npm run bench`: fleetgraph against raw Engine API calls and the docker CLI, and a bounded load test
 * with a host stopped part-way (a frozen host under 20 clients: bench/frozen-host.ts). Starts three private engines (as the tests do), seeds them with locally
 * built images, runs everything on loopback/unix sockets, writes bench/results/README.md, and cleans up.
 * Ratios are measured in one run on the same machine; absolute numbers depend on it.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checksTable, verdict, type Check } from './checks.js';
import { rawGet as rawGetVia, time } from './engine-calls.js';
import { stopGateway, writeReport } from './report.js';
import { startEngines, type Engine } from '../src/dev/engine.js';
import { seedFleet } from '../test/helpers/fleet.js';
import { buildImageTar, loadImages, type ImageSpec } from '../src/dev/images.js';
import { freePort, spawnGroup, waitFor } from '../test/helpers/process.js';
import { rssOf, runLoad } from './load-test.js';

const run = promisify(execFile);
const EXTRA_IMAGES = Number(process.env.BENCH_IMAGES ?? 150);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 60);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 20);

const FULL = `{ images { totalCount nodes { id parentId repoTags repoDigests created size virtualSize labels { key value } host { name } } } }`;

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p95: at(0.95) };
}

const agent = new http.Agent({ keepAlive: true });
const rawGet = (socket: string, path: string) => rawGetVia(socket, path, agent);

async function seedExtra(engines: Engine[]): Promise<void> {
  // Distinct small images per host, plus the standard fleet: a realistic list per host without pulling.
  await Promise.all(
    engines.map(async (engine, h) => {
      const specs: ImageSpec[] = Array.from({ length: EXTRA_IMAGES }, (_, i) => ({
        layers: [{ files: { [`bench/${engine.name}/${i}.txt`]: `image ${i} on ${engine.name}\n`.repeat(1 + (i % 7)) } }],
        created: new Date(Date.UTC(2023, 0, 1) + (h * 1000 + i) * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        labels: { bench: 'true', index: String(i), team: ['red', 'blue', 'green'][i % 3]! },
        tags: [`bench/${engine.name}-${i % 40}:${Math.floor(i / 40)}`],
      }));
      for (let i = 0; i < specs.length; i += 50) await loadImages(engine.socket, (await buildImageTar(specs.slice(i, i + 50))).tar);
    }),
  );
}

async function main(): Promise<void> {
  const engines = await startEngines(['alpha', 'beta', 'gamma']);
  let server: ReturnType<typeof spawnGroup> | undefined;
  try {
    await seedFleet(engines);
    await seedExtra(engines);
    const perHost = await Promise.all(engines.map(async (e) => ((await rawGet(e.socket, '/images/json')) as unknown[]).length));

    const port = await freePort();
    const url = `http://127.0.0.1:${port}/graphql`;
    const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
    server = spawnGroup(process.execPath, [cli, 'serve', ...engines.flatMap((e) => ['--host', `${e.name}=${e.endpoint}`]), '--port', String(port), '--max-images', '100000'], {
      ...process.env,
      NODE_ENV: 'production',
    });
    await waitFor('the gateway', () => server!.output().includes(`at ${url}`), 30_000, server.output);
    const gql = async (query: string) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      const body = (await res.json()) as { errors?: unknown };
      if (res.status !== 200 || body.errors) throw new Error(`gateway: ${res.status} ${JSON.stringify(body.errors)}`);
      return body;
    };

    // Warm up every path once.
    await gql(FULL);
    await Promise.all(engines.map((e) => rawGet(e.socket, '/images/json')));

    const samples = { raw: [] as number[], rawSequential: [] as number[], gateway: [] as number[], cli: [] as number[] };
    for (let i = 0; i < ITERATIONS; i++) {
      samples.raw.push(await time(() => Promise.all(engines.map((e) => rawGet(e.socket, '/images/json')))));
      samples.rawSequential.push(
        await time(async () => {
          for (const e of engines) await rawGet(e.socket, '/images/json');
        }),
      );
      samples.gateway.push(await time(() => gql(FULL)));
    }
    const cliRuns = Math.min(ITERATIONS, 15);
    for (let i = 0; i < cliRuns; i++) {
      // What people do today: one `docker images` per context, one after the other.
      samples.cli.push(
        await time(async () => {
          for (const e of engines) await run('docker', ['-H', e.endpoint, 'images', '--no-trunc', '--format', '{{json .}}']);
        }),
      );
    }
    const s = { raw: stats(samples.raw), rawSequential: stats(samples.rawSequential), gateway: stats(samples.gateway), cli: stats(samples.cli) };

    // Load: connections for LOAD_SECONDS, gamma stopped at 40% of the run.
    const pid = server.child.pid!;
    await new Promise((r) => setTimeout(r, 1000));
    const rssBefore = await rssOf(pid);
    const load = await runLoad({
      url,
      connections: 8,
      durationSeconds: LOAD_SECONDS,
      query: `{ images { totalCount nodes { id repoTags size host { name } } } hosts { name status } }`,
      midway: { afterMs: LOAD_SECONDS * 400, action: () => engines[2]!.stop() },
    });
    const rssPeak = await rssOf(pid);
    await new Promise((r) => setTimeout(r, 5000));
    const rssAfter = await rssOf(pid);
    const stillServes = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ hosts { name status } }' }) });

    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    const ms = (n: number) => n.toFixed(1);
    const checks: Check[] = [
      { metric: '5xx responses', value: String(load.fiveXx), target: '0', ok: load.fiveXx === 0 },
      { metric: 'client errors / timeouts (hanging requests)', value: `${load.errors} / ${load.timeouts}`, target: '0 / 0', ok: load.errors === 0 && load.timeouts === 0 },
      { metric: 'status counts', value: JSON.stringify(load.statusCounts), target: 'all 2xx', ok: Object.keys(load.statusCounts).every((c) => c.startsWith('2')) },
      { metric: 'requests/s (mean)', value: load.requestsPerSecond.toFixed(0), target: 'reported', ok: true },
      { metric: 'latency p50 / p99 / max ms', value: `${load.latencyP50} / ${load.latencyP99} / ${load.latencyMax}`, target: 'max under the host deadline + 1 s', ok: load.latencyMax <= 5000 + 1000 },
      { metric: 'gateway RSS before / at end / 5 s later', value: `${mb(rssBefore)} / ${mb(rssPeak)} / ${mb(rssAfter)} MiB`, target: 'after ≤ 1.5 × before', ok: rssAfter <= rssBefore * 1.5 },
      { metric: 'still serving afterwards', value: String(stillServes.status), target: '200', ok: stillServes.status === 200 },
    ];
    const row = (name: string, x: { mean: number; p50: number; p95: number }, base: number) => `| ${name} | ${ms(x.mean)} | ${ms(x.p50)} | ${ms(x.p95)} | ${(x.mean / base).toFixed(2)} |`;
    const report = `# fleetgraph benchmark

Run: ${new Date().toISOString()} · ${cpus().length} cores · ${(totalmem() / 1024 ** 3).toFixed(0)} GiB · Node ${process.version} · dockerd 20.10 (vfs) · three engines with ${perHost.join(' / ')} images.
Everything on one machine, over unix sockets and loopback; numbers move with machine load, ratios less so.

## One inventory answer for the whole fleet (${ITERATIONS} runs; docker CLI ${cliRuns})

| how | mean ms | p50 ms | p95 ms | × raw parallel |
| --- | --- | --- | --- | --- |
${row('raw /images/json, 3 hosts in parallel (lower bound)', s.raw, s.raw.mean)}
${row('raw /images/json, hosts one after another', s.rawSequential, s.raw.mean)}
${row('fleetgraph: full ImageSummary query, merged', s.gateway, s.raw.mean)}
${row('docker CLI: `docker -H … images` per host', s.cli, s.raw.mean)}

fleetgraph answers the merged, typed, normalised list in ${(s.gateway.mean / s.raw.mean).toFixed(2)}× the time of the bare parallel engine calls,
and ${(s.cli.mean / s.gateway.mean).toFixed(1)}× faster than the docker CLI looping over hosts.

## Load with a host stopped part-way

${load.requests} requests from 8 connections over ${LOAD_SECONDS} s; engine gamma stopped at ${LOAD_SECONDS * 0.4} s.

${checksTable(checks)}

Verdict: ${verdict(checks)}
`;
    writeReport('README.md', report, checks);
  } finally {
    await stopGateway(server);
    agent.destroy();
    await Promise.all(engines.map((e) => e.destroy()));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
