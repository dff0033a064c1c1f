/**
 * Module: `npm run bench:abuse`, a bounded abuse run (issue 9). Three private engines (as the tests start them) and
 * one misbehaving fake engine (its image list drips slower than the host deadline) behind one gateway; for
 * ABUSE_SECONDS, several clients send what an attacker would (nested-list bombs, alias bombs, filter bombs at
 * and over the list bound) and what a heavy honest client would (the flat full inventory), while a probe
 * asks a trivial query every 250 ms. Reported as checks (bench/checks.ts): peak RSS stays within a fixed bound and the
 * heap after a full GC (bench/memory-probe.ts) returns to where it was, so nothing is kept; RSS after the load is
 * printed but not a check (V8 and malloc keep freed pages for reuse, so it stays near the peak without a leak). No healthy
 * host is ever reported failed, the misbehaving host only ever fails as itself, and the probe answers within
 * 100 ms plus the time its own engine call takes (measured beside it) throughout.
 * Loopback and unix sockets only; every loop stops by itself. BENCH_NODE_ARGS (e.g. "--cpu-prof") goes to the gateway's node.
 */
import http from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { checksTable, verdict, type Check } from './checks.js';
import { stopGateway, writeReport } from './report.js';
import { rssOf } from './load-test.js';
import { startEngines } from '../src/dev/engine.js';
import { startFakeEngine } from '../test/helpers/fake-engine.js';
import { seedFleet } from '../test/helpers/fleet.js';
import { freePort, spawnGroup, waitFor } from '../test/helpers/process.js';

const ABUSE_SECONDS = Number(process.env.BENCH_ABUSE_SECONDS ?? 20);
const HOST_TIMEOUT_MS = 2000;
const HEALTHY = ['alpha', 'beta', 'gamma'];

/** images → host → images → … : each level an unpaginated list inside a list. */
const NESTED = `{ images { nodes { host { images { nodes { host { images { nodes { host { images { nodes { id } } } } } } } } } } } }`;
const ALIASED = `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: images { nodes { host { images { nodes { id repoTags } } } } }`).join(' ')} }`;
const patterns = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => `*/*-${i}[a-z]*?*:*${'?'.repeat(i % 40)}*`));
const FILTER_AT_BOUND = `{ images(filter: { reference: ${patterns(100)}, labelNot: ["x${'y'.repeat(900)}"] }) { totalCount nodes { id } } }`;
const FILTER_OVER_BOUND = `{ images(filter: { reference: ${patterns(101)} }) { totalCount } }`;
const FLAT = `{ images { totalCount nodes { id parentId repoTags repoDigests created size virtualSize labels { key value } containers host { name } } } }`;
const PROBE = `{ hosts(names: ["alpha"]) { name status } }`;

interface Answer {
  status: number;
  body: { data?: { hosts?: Array<{ name: string; status: string }>; images?: unknown }; errors?: Array<{ extensions?: { code?: string; host?: string } }> };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function post(url: string, query: string): Promise<Answer> {
  const body = JSON.stringify({ query });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] });
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function rawImages(socket: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: socket, path: '/images/json', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(performance.now() - t0));
      })
      .on('error', reject);
  });
}

/** The gateway's heap in use after a full GC, from bench/memory-probe.ts (SIGUSR2, one line on stderr). */
async function heapAfterGc(server: ReturnType<typeof spawnGroup>): Promise<number> {
  const seen = server.output().split('memory-probe heapUsed=').length;
  server.signal('SIGUSR2');
  await waitFor('the memory probe', () => server.output().split('memory-probe heapUsed=').length > seen, 10_000, server.output);
  return Number(/memory-probe heapUsed=(\d+)/.exec(server.output().split('memory-probe heapUsed=').slice(-1).map((t) => `memory-probe heapUsed=${t}`)[0]!)![1]);
}

async function main(): Promise<void> {
  const engines = await startEngines(HEALTHY);
  const odd = await startFakeEngine('odd');
  // Drips its image list slower than the deadline: a host that is up but never answers in time.
  odd.set('/images/json', 'drip');
  let server: ReturnType<typeof spawnGroup> | undefined;
  try {
    await seedFleet(engines);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/graphql`;
    const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
    const hosts = [...engines.map((e) => `${e.name}=${e.endpoint}`), `odd=${odd.endpoint}`];
    const probe = fileURLToPath(new URL('./memory-probe.js', import.meta.url));
    server = spawnGroup(process.execPath, ['--expose-gc', '--import', probe, ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), cli, 'serve', ...hosts.flatMap((h) => ['--host', h]), '--port', String(port), '--host-timeout', String(HOST_TIMEOUT_MS)], {
      ...process.env,
      NODE_ENV: 'production',
    });
    await waitFor('the gateway', () => server!.output().includes(`at ${url}`), 30_000, server.output);
    const pid = server.child.pid!;
    await post(url, FLAT);
    const rssBefore = await rssOf(pid);
    const heapBefore = await heapAfterGc(server);

    const end = Date.now() + ABUSE_SECONDS * 1000;
    const tally = { requests: 0, refused: 0, answered: 0, http5xx: 0, healthyFailed: [] as string[], oddOtherThanItself: 0 };
    const note = (a: Answer) => {
      tally.requests++;
      const codes = (a.body.errors ?? []).map((e) => e.extensions?.code);
      // SERVER_BUSY (503) is admission control refusing a heavy query with a code, not a failure.
      if (a.status >= 500 && !codes.includes('SERVER_BUSY')) tally.http5xx++;
      if (codes.includes('QUERY_LIMIT_EXCEEDED') || codes.includes('BAD_USER_INPUT') || codes.includes('SERVER_BUSY')) tally.refused++;
      else tally.answered++;
      for (const e of a.body.errors ?? []) {
        const host = e.extensions?.host;
        if (host && HEALTHY.includes(host)) tally.healthyFailed.push(`${host}: ${e.extensions?.code}`);
        if (host === 'odd' && !['HOST_TIMEOUT', 'HOST_CIRCUIT_OPEN', 'HOST_UNREACHABLE'].includes(e.extensions?.code ?? '')) tally.oddOtherThanItself++;
      }
    };
    const abuser = async (query: string) => {
      while (Date.now() < end) note(await post(url, query).catch(() => ({ status: 599, body: {} })));
    };
    let rssPeak = rssBefore;
    const sampler = (async () => {
      while (Date.now() < end) {
        rssPeak = Math.max(rssPeak, await rssOf(pid));
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const probes: Array<{ ms: number; engineMs: number; ok: boolean }> = [];
    const prober = (async () => {
      while (Date.now() < end) {
        const [engineMs, [ms, answer]] = await Promise.all([
          rawImages(engines[0]!.socket),
          (async () => {
            const t0 = performance.now();
            const a = await post(url, PROBE).catch(() => ({ status: 599, body: {} }) as Answer);
            return [performance.now() - t0, a] as const;
          })(),
        ]);
        probes.push({ ms, engineMs, ok: answer.status === 200 && answer.body.data?.hosts?.[0]?.status === 'UP' });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await Promise.all([abuser(NESTED), abuser(NESTED), abuser(ALIASED), abuser(FILTER_AT_BOUND), abuser(FILTER_OVER_BOUND), abuser(FLAT), prober, sampler]);
    await new Promise((r) => setTimeout(r, 3000));
    const rssAfter = await rssOf(pid);
    const heapAfter = await heapAfterGc(server);

    const worst = probes.reduce((w, p) => (p.ms - p.engineMs > w.ms - w.engineMs ? p : w), probes[0]!);
    const sorted = probes.map((p) => p.ms - p.engineMs).sort((a, b) => a - b);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
    const checks: Check[] = [
      { metric: 'abusive and heavy requests sent (refused with a code / answered)', value: `${tally.requests} (${tally.refused} / ${tally.answered})`, target: 'reported', ok: tally.requests > 0 },
      { metric: 'HTTP 5xx (other than SERVER_BUSY)', value: String(tally.http5xx), target: '0', ok: tally.http5xx === 0 },
      { metric: 'healthy hosts reported failed', value: tally.healthyFailed.length ? tally.healthyFailed.slice(0, 5).join(', ') : 'none', target: 'none', ok: tally.healthyFailed.length === 0 },
      { metric: 'misbehaving host failing as anything but itself', value: String(tally.oddOtherThanItself), target: '0', ok: tally.oddOtherThanItself === 0 },
      { metric: 'gateway RSS before / peak / 3 s after', value: `${mb(rssBefore)} / ${mb(rssPeak)} / ${mb(rssAfter)} MiB`, target: 'peak ≤ before + 512 MiB', ok: rssPeak <= rssBefore + 512 * 1024 * 1024 },
      { metric: 'heap in use after a full GC, before / 3 s after', value: `${mb(heapBefore)} / ${mb(heapAfter)} MiB`, target: 'after ≤ before + 16 MiB (nothing kept)', ok: heapAfter <= heapBefore + 16 * 1024 * 1024 },
      { metric: `probe ${PROBE}: answers UP`, value: `${probes.filter((p) => p.ok).length} of ${probes.length}`, target: 'all', ok: probes.length > 0 && probes.every((p) => p.ok) },
      {
        metric: 'probe time minus its engine call (p50 / p99 / max ms)',
        value: `${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} / ${sorted[Math.floor(sorted.length * 0.99)]!.toFixed(0)} / ${(worst.ms - worst.engineMs).toFixed(0)} (worst: ${worst.ms.toFixed(0)} ms with the engine at ${worst.engineMs.toFixed(0)} ms)`,
        target: '≤ 100 ms throughout',
        ok: worst.ms - worst.engineMs <= 100,
      },
    ];
    const report = `# fleetgraph abuse run

Run: ${new Date().toISOString()} · ${cpus().length} cores · ${(totalmem() / 1024 ** 3).toFixed(0)} GiB · Node ${process.version} · ${ABUSE_SECONDS} s · load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min; other work shares this machine).
Hosts: ${HEALTHY.join(', ')} (dockerd, seeded as in the tests) and \`odd\` (a fake engine whose image list drips past the ${HOST_TIMEOUT_MS} ms deadline).
Clients: 2 × nested-list bomb, 1 × 15-alias nested bomb, 1 × reference filter of 100 patterns (at the bound) plus a 900-character labelNot,
1 × 101 patterns (over it), 1 × the flat full inventory, each in a loop; a probe (\`${PROBE}\`) every 250 ms beside a raw \`/images/json\` to alpha.

${checksTable(checks)}

Verdict: ${verdict(checks)}
`;
    writeReport('abuse.md', report, checks);
  } finally {
    await stopGateway(server);
    agent.destroy();
    await odd.stop();
    await Promise.all(engines.map((e) => e.destroy()));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
