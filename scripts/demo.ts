/**
 * Module: `npm run demo`: private engines seeded with sample images (src/dev/sample-fleet.ts; nothing
 * pulled), the gateway over them, its URLs on stdout, and everything stopped and removed on Ctrl-C/SIGTERM.
 *
 * Options: --port N (default 4000; 0 picks a free one), --json (one JSON line with the URLs and each
 * engine's name, endpoint, socket, dir and dockerd pid, for scripts and tests, instead of the text).
 * Exit codes: 0 after a requested stop, 1 when start-up fails, 2 for a usage problem or when dockerd or
 * root is missing (with what is needed on stderr).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { destroyAllEnginesSync, liveEngines, startEngines, type Engine } from '../src/dev/engine.js';
import { preflight } from '../src/dev/preflight.js';
import { SAMPLE_HOSTS, seedSampleFleet } from '../src/dev/sample-fleet.js';

const say = (text: string) => process.stderr.write(`fleetgraph demo: ${text}\n`);

/**
 * A Ctrl-C in a terminal reaches this process twice: from the terminal (whole foreground group) and again
 * from npm, which forwards SIGINT to its script. Only a signal this long after the first one forces.
 */
const ECHO_MS = 1_000;
const SERVER_CLOSE_MS = 3_000;

let stopping: Promise<void> | undefined;
let firstSignalAt = 0;
let server: RunningServer | undefined;

async function stop(): Promise<void> {
  // Engines first registered while start-up was under way are stopped as well (their start then fails).
  const closing = server?.close();
  if (closing) {
    const late = setTimeout(() => server?.server.closeAllConnections(), SERVER_CLOSE_MS);
    await closing;
    clearTimeout(late);
  }
  await Promise.all(liveEngines().map((e) => e.destroy().catch((err: unknown) => say(`engine ${e.name}: ${(err as Error).message}`))));
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    if (Date.now() - firstSignalAt < ECHO_MS) return;
    say(`${signal} again: killing the engines and removing their files now`);
    destroyAllEnginesSync();
    process.exit(130);
  }
  firstSignalAt = Date.now();
  say(`${signal}: stopping the gateway and the engines (again to force)`);
  stopping = stop().then(
    () => {
      say('stopped; engines and their temp dirs removed');
      process.exit(0);
    },
    (err: unknown) => {
      say(`stopping failed: ${(err as Error).message}`);
      destroyAllEnginesSync();
      process.exit(1);
    },
  );
}

function usage(message: string): never {
  say(`${message}\nusage: npm run demo [-- --port N] [--json]`);
  process.exit(2);
}

function text(url: string, engines: Engine[]): string {
  const base = url.replace(/\/graphql$/, '/');
  const width = Math.max(...engines.map((e) => e.name.length));
  return [
    `fleetgraph demo: ${engines.length} private Docker engines seeded with sample images (made locally, nothing pulled)`,
    '',
    `  GraphiQL     ${url}`,
    `  Fleet page   ${base}`,
    '',
    ...engines.map((e) => `  ${e.name.padEnd(width)}   ${e.endpoint}`),
    '',
    `The docker CLI can look too: DOCKER_HOST=${engines[0]!.endpoint} docker images`,
    'Ctrl-C stops the gateway and the engines and removes their files.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  let options: { port: string; json: boolean };
  try {
    const { values } = parseArgs({ options: { port: { type: 'string', default: '4000' }, json: { type: 'boolean', default: false } }, strict: true });
    options = { port: values.port, json: values.json };
  } catch (err) {
    usage((err as Error).message);
  }
  if (!/^\d{1,5}$/.test(options.port) || Number(options.port) > 65535) usage(`--port must be a number from 0 to 65535, got ${JSON.stringify(options.port)}`);

  const check = preflight(process.env, process.getuid?.());
  if (check.problems.length > 0) {
    for (const p of check.problems) say(p);
    process.exit(2);
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (!options.json) say(`starting ${SAMPLE_HOSTS.length} private engines (${SAMPLE_HOSTS.join(', ')}) with ${check.dockerd}…`);
  const engines = await startEngines([...SAMPLE_HOSTS], { dockerd: check.dockerd! });
  if (stopping) return;
  await seedSampleFleet(engines);
  if (stopping) return;
  const config = loadConfig({ hosts: engines.map((e) => `${e.name}=${e.endpoint}`), port: options.port });
  server = await startServer(config, { logger: createLogger(process.env['LOG_LEVEL'] ?? 'warn') }).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EADDRINUSE' ? new Error(`port ${options.port} is in use: npm run demo -- --port 4100 (or --port 0 for any free port)`) : err;
  });
  if (stopping) return;
  if (options.json) {
    const hosts = engines.map((e) => ({ name: e.name, endpoint: e.endpoint, socket: e.socket, dir: e.dir, pid: e.pid() }));
    process.stdout.write(`${JSON.stringify({ graphiql: server.url, fleetPage: server.url.replace(/\/graphql$/, '/'), hosts })}\n`);
  } else {
    process.stdout.write(text(server.url, engines));
  }
}

main().catch((err: unknown) => {
  if (stopping) return; // a start-up step failed because the engines were being stopped
  say(`start-up failed: ${(err as Error).message}`);
  void stop().finally(() => process.exit(1));
});
