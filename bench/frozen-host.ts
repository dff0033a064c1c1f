/**
 * `node dist/bench/frozen-host.js` (part of `npm run bench`): three private engines behind a gateway with the
 * default 5 s host deadline; one is frozen (SIGSTOP) while 20 clients ask in a loop (bench/frozen-load.ts).
 * Writes bench/results/frozen-host.md.
 */
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { checksTable, verdict } from './checks.js';
import { frozenHostRun } from './frozen-load.js';
import { stopGateway, writeReport } from './report.js';
import { startEngines } from '../src/dev/engine.js';
import { seedFleet } from '../test/helpers/fleet.js';
import { freePort, spawnGroup, waitFor } from '../test/helpers/process.js';

const DEADLINE_MS = 5000;

async function main(): Promise<void> {
  const engines = await startEngines(['alpha', 'beta', 'gamma']);
  let server: ReturnType<typeof spawnGroup> | undefined;
  try {
    await seedFleet(engines);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/graphql`;
    const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
    server = spawnGroup(process.execPath, [cli, 'serve', ...engines.flatMap((e) => ['--host', `${e.name}=${e.endpoint}`]), '--port', String(port), '--host-timeout', String(DEADLINE_MS)], {
      ...process.env,
      NODE_ENV: 'production',
    });
    await waitFor('the gateway', () => server!.output().includes(`at ${url}`), 30_000, server.output);
    const load = loadavg();
    const checks = await frozenHostRun({ url, frozen: 'beta', healthy: ['alpha', 'gamma'], deadlineMs: DEADLINE_MS, freeze: () => engines[1]!.signal('SIGSTOP'), thaw: () => engines[1]!.signal('SIGCONT') });
    const report = `# fleetgraph: a frozen host under load

Run: ${new Date().toISOString()} · ${cpus().length} cores · Node ${process.version} · load average at the start ${load.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min; other work shares this machine).
Engines alpha, beta and gamma (dockerd, seeded as in the tests); beta SIGSTOPped for the whole run; host deadline ${DEADLINE_MS} ms.

${checksTable(checks)}

Verdict: ${verdict(checks)}
`;
    writeReport('frozen-host.md', report, checks);
  } finally {
    await stopGateway(server);
    await Promise.all(engines.map((e) => e.destroy()));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
