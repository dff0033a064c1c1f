#!/usr/bin/env node
/** Module: the command line (commander), the only place that reads process.argv and exits. */
import { Command, CommanderError } from 'commander';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { packageVersion } from './version.js';
import type { Fleet } from './commands/fleet.js';
import { errorLines } from './commands/fleet-errors.js';
import { checkHosts, hostsTable } from './commands/hosts.js';
import { IMAGES_QUERY, OUTDATED_QUERY, imageFilter, imagesJson, imagesTable, type ImageNode } from './commands/images.js';
import { configInput, hostOptions, serveOptions, updateOptions, withDockerContextsValue } from './commands/options.js';
import { startProgress } from './commands/progress.js';
import { dataTables, parseVariables } from './commands/query.js';

/** A bad invocation or config: one line on stderr naming what is wrong, exit code 2. */
function fail(message: string): never {
  process.stderr.write(`fleetgraph: ${message}\n`);
  process.exit(2);
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();

/** Writes `text`, then exits with `code` once it has been handed to the pipe or terminal. */
function finish(text: string, code: number): Promise<never> {
  return new Promise<never>(() => process.stdout.write(text, () => process.exit(code)));
}

/**
 * The configuration the command's flags name. Modules beyond the parser (config and its SSH/YAML readers,
 * the logger, the schema) are imported by the commands that need them, so --help and --version stay quick.
 */
async function load(cmd: Command): Promise<Config> {
  const { ConfigError, loadConfig } = await import('./config.js');
  try {
    return loadConfig(configInput(cmd));
  } catch (err) {
    if (err instanceof ConfigError) fail(`config error: ${oneLine(err.message)}`);
    throw err;
  }
}

/** The hosts opened for one command, and a progress line on a terminal while it waits for them. */
async function withFleet<T>(cmd: Command, what: (n: number) => string, work: (fleet: Fleet, progress: ReturnType<typeof startProgress>) => Promise<T>): Promise<T> {
  const config = await load(cmd);
  const { openFleet } = await import('./commands/fleet.js');
  const fleet = openFleet(config);
  const progress = startProgress(process.stderr, what(fleet.source.hostNames().length));
  try {
    return await work(fleet, progress);
  } finally {
    progress.done();
    fleet.close();
  }
}

/** `fleetgraph serve` (also with no command): listen until SIGTERM/SIGINT. */
async function serve(cmd: Command): Promise<void> {
  if (cmd.args.length > 0) fail(`unknown command "${oneLine(cmd.args[0]!)}" (see fleetgraph --help)`);
  const config = await load(cmd);
  const { startServer } = await import('./server.js');
  const { createLogger } = await import('./logger.js');
  const { logFirstReachability } = await import('./startup-probe.js');
  const logger: Logger = createLogger(process.env.LOG_LEVEL ?? 'info');
  loggerForRejections = logger;
  const running = await startServer(config, { logger, processMetrics: true });
  const shutdown = (signal: string) => {
    logger.info({ signal }, `${signal}: finishing in-flight requests`);
    running.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 15_000).unref();
  };
  // Before the line that says we serve: a supervisor that signals as soon as it reads it gets a graceful stop.
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  const names = config.hosts.map((h) => h.name);
  logger.info({ hosts: names, url: running.url }, `serving ${names.length} host(s) (${names.join(', ')}) at ${running.url}`);
  void logFirstReachability(running.source, logger);
}

function program(): Command {
  const root = new Command('fleetgraph')
    .description('A GraphQL gateway over a fleet of Docker engines, and the commands to ask it from a shell.')
    .version(`fleetgraph ${packageVersion()}`, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help (also: fleetgraph COMMAND --help)')
    .showSuggestionAfterError(true)
    .exitOverride()
    // Errors are printed by main, as one line (commander would add a second line for a suggestion).
    .configureOutput({ outputError: () => {} })
    .addHelpText('after', '\nWith no command, fleetgraph serves (fleetgraph serve --help lists its options).');

  updateOptions(serveOptions(hostOptions(root.command('serve', { isDefault: true }).description('serve the GraphQL API (the default command)'))))
    .allowExcessArguments(true)
    .action((_opts, cmd: Command) => serve(cmd));

  root
    .command('schema')
    .description('print the GraphQL schema (SDL)')
    .action(async () => {
      const [{ schema }, { printSchema }] = await Promise.all([import('./schema/index.js'), import('graphql')]);
      await finish(`${printSchema(schema)}\n`, 0);
    });

  hostOptions(root.command('hosts').description('check every configured host: status or error code, API and engine version, image count, latency; exits 1 when any host is down'))
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const checks = await withFleet(cmd, (n) => `checking ${n} host(s)`, (fleet, progress) => checkHosts(fleet.source, progress));
      await finish(opts.json ? `${JSON.stringify(checks, null, 2)}\n` : hostsTable(checks), checks.every((c) => c.status === 'UP') ? 0 : 1);
    });

  updateOptions(hostOptions(root.command('query').argument('<graphql>', 'the operation, e.g. \'{ hosts { name status } }\'').description('run one GraphQL operation in-process against the configured hosts (no server); exits 1 when the answer has errors')))
    .option('--variables <json>', 'variables as a JSON object')
    .option('--format <format>', 'json (the whole answer) or table (lists and connection nodes as rows)', 'json')
    .action(async (query: string, opts: { variables?: string; format: string }, cmd: Command) => {
      if (opts.format !== 'json' && opts.format !== 'table') fail(`--format: expected json or table, got "${oneLine(opts.format)}"`);
      let variables: Record<string, unknown> | undefined;
      try {
        variables = parseVariables(opts.variables);
      } catch (err) {
        fail((err as Error).message);
      }
      const result = await withFleet(cmd, (n) => `asking ${n} host(s)`, (fleet) => fleet.run(query, variables));
      const failed = (result.errors?.length ?? 0) > 0;
      if (opts.format === 'json') await finish(`${JSON.stringify(result, null, 2)}\n`, failed ? 1 : 0);
      process.stderr.write(errorLines(result));
      await finish(result.data ? dataTables(result.data) : '', failed ? 1 : 0);
    });

  updateOptions(hostOptions(root.command('images').description("the fleet's images, as `docker images` lists them, with a HOST column; exits 1 when a host could not be read")))
    .option('--filter <key=value>', 'as docker images --filter: reference=, label=, dangling=, before=, since= (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--format <format>', 'table or json', 'table')
    .option('--outdated', 'only tags whose registry now has another image (needs --check-updates); JSON adds each image\'s updates')
    .action(async (opts: { filter?: string[]; format: string; outdated?: boolean }, cmd: Command) => {
      if (opts.format !== 'json' && opts.format !== 'table') fail(`--format: expected table or json, got "${oneLine(opts.format)}"`);
      let filter;
      try {
        filter = imageFilter(opts.filter ?? []);
      } catch (err) {
        fail((err as Error).message);
      }
      const result = await withFleet(cmd, (n) => `listing images on ${n} host(s)`, (fleet) => {
        if (!opts.outdated) return fleet.run(IMAGES_QUERY, { filter });
        // Opt-in stays explicit: --outdated alone never contacts a registry.
        if (!fleet.config.updates.enabled) fail('--outdated needs --check-updates (or checkUpdates: true in the config file)');
        return fleet.run(OUTDATED_QUERY, { filter: { ...filter, updateStatus: ['OUTDATED'] } });
      });
      process.stderr.write(errorLines(result));
      const nodes = ((result.data?.images as { nodes?: ImageNode[] } | undefined)?.nodes ?? []) as ImageNode[];
      await finish(opts.format === 'json' ? imagesJson(nodes) : imagesTable(nodes, filter.reference), result.errors?.length ? 1 : 0);
    });
  return root;
}

let loggerForRejections: Logger | undefined;

async function main(): Promise<void> {
  // A rejection nobody handled is logged (its kind, not its text, which may hold paths), never fatal:
  // one bad host or request must not take the server down.
  process.on('unhandledRejection', (reason) => {
    const kind = reason instanceof Error ? reason.name : typeof reason;
    if (loggerForRejections) loggerForRejections.error({ kind }, `unhandled rejection: ${kind}`);
    else process.stderr.write(`fleetgraph: unhandled rejection: ${kind}\n`);
  });
  try {
    await program().parseAsync(withDockerContextsValue(process.argv.slice(2)), { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(0);
    fail(`${oneLine(err.message.replace(/^error: /, ''))} (see fleetgraph --help)`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`fleetgraph: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
