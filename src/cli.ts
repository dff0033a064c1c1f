#!/usr/bin/env node
/** Module: the command line, the only place that reads process.argv and exits. */
import { parseArgs } from 'node:util';
import { printSchema } from 'graphql';
import { ConfigError, loadConfig, type ConfigInput } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { logFirstReachability } from './startup-probe.js';
import { packageVersion } from './version.js';

const USAGE = `Usage: fleetgraph [serve] [options]
       fleetgraph schema
       fleetgraph --version

Options:
  --host NAME=ENDPOINT     a Docker host (repeatable): unix:///path.sock, tcp://h:2375, tcp://h:2376 or https://h (TLS), ssh://user@h
  --config FILE            YAML or JSON config file (hosts with TLS/SSH settings, options)
  --listen ADDRESS         address to listen on (default 127.0.0.1)
  --port PORT              port (default 4000)
  --host-timeout MS        total deadline per host call (default 5000)
  --max-images N           largest unpaginated list (default 10000)
  --auth-token-file FILE   bearer tokens, one per line: TOKEN [hosts=a,b] (each token once)
  --insecure-no-auth       allow a non-loopback --listen without tokens
  --cors-origin ORIGIN     allow browser requests from ORIGIN (repeatable)
  --max-depth N, --max-aliases N, --max-tokens N, --max-cost N, --max-body-bytes N
                           query limits (defaults 10, 15, 2000, 20000, 102400)
  --mirror                 serve inventories from memory, kept current by each host's /events stream
  --resync-interval S      mirror mode: full reload of every host every S seconds (default 300)
  --no-graphiql            do not serve GraphiQL
  --introspection / --no-introspection
  -v, --version            print the version
  -h, --help
Environment: FLEETGRAPH_HOSTS (name=endpoint,…), DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY,
  FLEETGRAPH_AUTH_TOKENS (entries as in the token file, separated by ";" or newlines: "TOKEN_A hosts=a,b;TOKEN_B"),
  NODE_ENV=production, LOG_LEVEL (info; JSON logs on stderr).
Numbers are validated like the config file's (e.g. --host-timeout 1-600000); a bad value exits with code 2.`;

function parse(argv: string[]): { command: string; input: ConfigInput } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      host: { type: 'string', multiple: true },
      config: { type: 'string' },
      listen: { type: 'string' },
      port: { type: 'string' },
      'host-timeout': { type: 'string' },
      'max-images': { type: 'string' },
      'auth-token-file': { type: 'string' },
      'insecure-no-auth': { type: 'boolean' },
      'cors-origin': { type: 'string', multiple: true },
      'max-depth': { type: 'string' },
      'max-aliases': { type: 'string' },
      'max-tokens': { type: 'string' },
      'max-cost': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      mirror: { type: 'boolean' },
      'resync-interval': { type: 'string' },
      'no-graphiql': { type: 'boolean' },
      introspection: { type: 'boolean' },
      'no-introspection': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (values.version) {
    process.stdout.write(`fleetgraph ${packageVersion()}\n`);
    process.exit(0);
  }
  const input: ConfigInput = {
    ...(values.host ? { hosts: values.host } : {}),
    ...(values.config ? { configFile: values.config } : {}),
    ...(values.listen ? { listen: values.listen } : {}),
    // Strings as typed: loadConfig validates them with the config file's schema.
    ...(values.port !== undefined ? { port: values.port } : {}),
    ...(values['host-timeout'] !== undefined ? { hostTimeoutMs: values['host-timeout'] } : {}),
    ...(values['max-images'] !== undefined ? { maxImages: values['max-images'] } : {}),
    ...(values['auth-token-file'] ? { authTokenFile: values['auth-token-file'] } : {}),
    ...(values['insecure-no-auth'] ? { insecureNoAuth: true } : {}),
    ...(values['cors-origin'] ? { corsOrigins: values['cors-origin'] } : {}),
    limits: Object.fromEntries(
      (
        [
          ['maxDepth', 'max-depth'],
          ['maxAliases', 'max-aliases'],
          ['maxTokens', 'max-tokens'],
          ['maxCost', 'max-cost'],
          ['maxBodyBytes', 'max-body-bytes'],
        ] as const
      )
        .filter(([, flag]) => values[flag] !== undefined)
        .map(([key, flag]) => [key, values[flag]]),
    ),
    ...(values.mirror ? { mirror: true } : {}),
    ...(values['resync-interval'] !== undefined ? { resyncInterval: values['resync-interval'] } : {}),
    ...(values['no-graphiql'] ? { graphiql: false } : {}),
    ...(values.introspection ? { introspection: true } : {}),
    ...(values['no-introspection'] ? { introspection: false } : {}),
  };
  return { command: positionals[0] ?? 'serve', input };
}

/** A bad invocation or config: one line on stderr naming what is wrong, exit code 2. */
function fail(message: string): never {
  process.stderr.write(`fleetgraph: ${message}\n`);
  process.exit(2);
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ');

async function main(): Promise<void> {
  // A rejection nobody handled is logged (its kind, not its text, which may hold paths), never fatal:
  // one bad host or request must not take the server down.
  let logger: Logger | undefined;
  process.on('unhandledRejection', (reason) => {
    const kind = reason instanceof Error ? reason.name : typeof reason;
    if (logger) logger.error({ kind }, `unhandled rejection: ${kind}`);
    else process.stderr.write(`fleetgraph: unhandled rejection: ${kind}\n`);
  });
  let command: string;
  let input: ConfigInput;
  try {
    ({ command, input } = parse(process.argv.slice(2)));
  } catch (err) {
    fail(`${oneLine((err as Error).message)} (see fleetgraph --help)`);
  }
  if (command === 'schema') {
    const { schema } = await import('./schema/index.js');
    process.stdout.write(`${printSchema(schema)}\n`);
    return;
  }
  if (command !== 'serve') fail(`unknown command "${oneLine(command)}" (see fleetgraph --help)`);
  let config;
  try {
    config = loadConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) fail(`config error: ${oneLine(err.message)}`);
    throw err;
  }
  const { startServer } = await import('./server.js');
  logger = createLogger(process.env.LOG_LEVEL ?? 'info');
  const running = await startServer(config, { logger });
  const names = config.hosts.map((h) => h.name);
  logger.info({ hosts: names, url: running.url }, `serving ${names.length} host(s) (${names.join(', ')}) at ${running.url}`);
  void logFirstReachability(running.source, logger);

  const shutdown = (signal: string) => {
    logger?.info({ signal }, `${signal}: finishing in-flight requests`);
    running.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 15_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`fleetgraph: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
