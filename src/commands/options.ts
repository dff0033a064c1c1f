import type { Command } from 'commander';
import type { ConfigInput } from '../config.js';

/**
 * Module: the flags that configure hosts (every command that talks to engines) and the server (serve),
 * mapped onto ConfigInput as typed: loadConfig validates them with the config file's schema.
 */

const repeat = (v: string, prev: string[] = []) => [...prev, v];

const ENVIRONMENT = `
Environment: FLEETGRAPH_HOSTS (name=endpoint,…), DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY, DOCKER_CONFIG
  (where --docker-contexts looks), FLEETGRAPH_AUTH_TOKENS (entries as in the token file, separated by ";" or
  newlines: "TOKEN_A hosts=a,b;TOKEN_B"), FLEETGRAPH_UI (true/false: the fleet page at /), NODE_ENV=production,
  LOG_LEVEL (info; JSON logs on stderr).
Numbers are validated like the config file's (e.g. --host-timeout 1-600000); a bad value exits with code 2.`;

export function hostOptions(cmd: Command): Command {
  return cmd
    .option('--host <name=endpoint>', 'a Docker host (repeatable): unix:///path.sock, tcp://h:2375, tcp://h:2376 or https://h (TLS), ssh://user@h', repeat)
    .option('--config <file>', 'YAML or JSON config file (hosts with TLS/SSH settings, options)')
    .option('--docker-contexts [which]', "also the docker CLI's contexts as hosts ($DOCKER_CONFIG or ~/.docker); =all includes default")
    .option('--host-timeout <ms>', 'total deadline per host call (default 5000)')
    .option('--max-images <n>', 'largest unpaginated list (default 10000)')
    .addHelpText('after', ENVIRONMENT);
}

/** Registry update checks (serve, query, images): off unless --check-updates. */
export function updateOptions(cmd: Command): Command {
  return cmd
    .option('--check-updates', 'compare tags with their registries (HEAD of the manifest; never a pull); off by default, and then no registry is contacted')
    .option('--registry-allow <host>', 'only these registries may be contacted, e.g. ghcr.io or 127.0.0.1:5000 (repeatable; default any)', repeat)
    .option('--registry-auth <file>', 'registry credentials, a JSON file shaped like ~/.docker/config.json (auths); read besides $DOCKER_CONFIG/config.json')
    .option('--update-interval <s>', 'reuse a registry answer this many seconds (default 21600)')
    .option('--registry-timeout <ms>', 'deadline of one registry check (default 10000)');
}

export function serveOptions(cmd: Command): Command {
  return cmd
    .option('--listen <address>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port (default 4000)')
    .option('--auth-token-file <file>', 'bearer tokens, one per line: TOKEN [hosts=a,b] (each token once)')
    .option('--insecure-no-auth', 'allow a non-loopback --listen without tokens')
    .option('--cors-origin <origin>', 'allow browser requests from ORIGIN (repeatable)', repeat)
    .option('--max-depth <n>', 'query depth limit (default 10)')
    .option('--max-aliases <n>', 'aliases per query (default 15)')
    .option('--max-tokens <n>', 'tokens per query (default 2000)')
    .option('--max-cost <n>', 'estimated cost per query, list sizes counted (default 1000000)')
    .option('--max-body-bytes <n>', 'request body size (default 102400)')
    .option('--max-answer-bytes <n>', "an answer's JSON size; past it RESPONSE_TOO_LARGE (default 67108864)")
    .option('--heavy-cost <n>', 'estimated cost from which a query is heavy and waits for a slot (default 100000)')
    .option('--max-heavy <n>', 'heavy queries running at once (default 2)')
    .option('--max-heavy-queued <n>', 'heavy queries waiting at once; past it SERVER_BUSY (default 16)')
    .option('--mirror', "serve inventories from memory, kept current by each host's /events stream")
    .option('--resync-interval <s>', 'mirror mode: full reload of every host every S seconds (default 300)')
    .option('--no-graphiql', 'do not serve GraphiQL')
    .option('--ui', 'serve the fleet page at / (default: not in production)')
    .option('--no-ui', 'do not serve the fleet page')
    .option('--introspection', 'allow introspection (default: not in production)')
    .option('--no-introspection', 'refuse introspection');
}

/**
 * `--docker-contexts` takes an optional value, which commander would take from the next word
 * (`--docker-contexts hosts` would swallow the command, and `query --docker-contexts '{…}'` the
 * operation): bare, it becomes `--docker-contexts=true`, so a value is only ever given with "=".
 */
export function withDockerContextsValue(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((a, i) => (a === '--docker-contexts' && (end < 0 || i < end) ? '--docker-contexts=true' : a));
}

/** commander's names for --max-depth etc. are the config's limit keys. */
const LIMITS = ['maxDepth', 'maxAliases', 'maxTokens', 'maxCost', 'maxBodyBytes', 'maxAnswerBytes', 'heavyCost', 'maxHeavy', 'maxHeavyQueued'] as const;

export function configInput(cmd: Command): ConfigInput {
  const o = cmd.opts<Record<string, string | string[] | boolean | undefined>>();
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const given = (k: string) => cmd.getOptionValueSource(k) === 'cli';
  const contexts = str('dockerContexts');
  const limits = Object.fromEntries(LIMITS.filter((k) => str(k) !== undefined).map((k) => [k, str(k)!]));
  return {
    ...(Array.isArray(o.host) ? { hosts: o.host } : {}),
    ...(str('config') ? { configFile: str('config')! } : {}),
    ...(str('listen') ? { listen: str('listen')! } : {}),
    ...(str('port') !== undefined ? { port: str('port')! } : {}),
    ...(str('hostTimeout') !== undefined ? { hostTimeoutMs: str('hostTimeout')! } : {}),
    ...(str('maxImages') !== undefined ? { maxImages: str('maxImages')! } : {}),
    ...(str('authTokenFile') ? { authTokenFile: str('authTokenFile')! } : {}),
    ...(o.insecureNoAuth === true ? { insecureNoAuth: true } : {}),
    ...(Array.isArray(o.corsOrigin) ? { corsOrigins: o.corsOrigin } : {}),
    ...(contexts !== undefined ? { dockerContexts: contexts === 'true' ? true : contexts === 'false' ? false : contexts } : {}),
    limits,
    ...(o.mirror === true ? { mirror: true } : {}),
    ...(str('resyncInterval') !== undefined ? { resyncInterval: str('resyncInterval')! } : {}),
    ...(o.checkUpdates === true ? { checkUpdates: true } : {}),
    ...(Array.isArray(o.registryAllow) ? { registryAllow: o.registryAllow } : {}),
    ...(str('registryAuth') ? { registryAuthFile: str('registryAuth')! } : {}),
    ...(str('updateInterval') !== undefined ? { updateInterval: str('updateInterval')! } : {}),
    ...(str('registryTimeout') !== undefined ? { registryTimeoutMs: str('registryTimeout')! } : {}),
    ...(given('graphiql') && o.graphiql === false ? { graphiql: false } : {}),
    ...(given('introspection') ? { introspection: o.introspection === true } : {}),
    ...(given('ui') ? { ui: o.ui === true } : {}),
  };
}
