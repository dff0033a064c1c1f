import { readFileSync } from 'node:fs';
import { resolve as resolvePath, dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { check, ConfigError, fail, fileHostSchema, firstIssue, parseHostSpec, resolveHost, whole, type FileHost, type HostConfig } from './config-hosts.js';
import { readDockerContexts, type DockerContextsSetting } from './docker-contexts.js';
import { REGISTRY_HOST, updateSettings, type UpdateSettings } from './config-updates.js';
import { checkTokens, parseTokenEnv, parseTokenFile, tokenSchema, type AuthToken, type SourcedToken } from './config-tokens.js';

export { ConfigError, parseHostSpec, parseTokenEnv, parseTokenFile };
export type { AuthToken, UpdateSettings };
export type { HostConfig, SshSettings, TlsFiles } from './config-hosts.js';

/**
 * Configuration: where the hosts are and how the gateway behaves. Flags, environment and the config file
 * are each mapped onto one shape, {@link settingsSchema}, and validated by it (same bounds, same one-line
 * errors naming the flag, variable or entry); then merged. The only I/O is reading the config file and
 * the files it names (hosts' key material is read in config-hosts.ts), so a bad path fails at start-up.
 */

// A `name: endpoint` map is the short form of the list; both become the list before validation, so an
// error names the entry, not "hosts: Invalid input" from a union.
const hostListSchema = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v).map(([name, endpoint]) => ({ name, endpoint })) : v),
  z.array(fileHostSchema).min(1, 'is empty: list at least one host, or leave hosts: out to serve DOCKER_HOST'),
);

export const settingsSchema = z
  .object({
    hosts: hostListSchema.optional(),
    hostTimeoutMs: whole(1, 600_000).optional(),
    maxImages: whole(1, 1_000_000).optional(),
    maxResponseBytes: whole(1, 1024 * 1024 * 1024).optional(),
    listen: z.string().min(1, 'is empty').optional(),
    port: whole(0, 65535).optional(),
    corsOrigins: z.array(z.string().url('is not an origin URL (e.g. https://app.example)')).optional(),
    tokens: z.array(tokenSchema).optional(),
    dockerContexts: z.custom<DockerContextsSetting>((v) => v === true || v === false || v === 'all', 'expected true, false or "all"').optional(),
    mirror: z.boolean().optional(),
    ui: z.boolean().optional(),
    resyncIntervalSeconds: whole(1, 86_400).optional(),
    checkUpdates: z.boolean().optional(),
    updateIntervalSeconds: whole(1, 7 * 86_400).optional(),
    registryTimeoutMs: whole(1, 600_000).optional(),
    registryAllow: z.array(z.string().regex(REGISTRY_HOST, 'is not a registry host[:port] (e.g. ghcr.io, 127.0.0.1:5000, docker.io)')).max(1000).optional(),
    registryAuthFile: z.string().min(1, 'is empty').optional(),
    limits: z
      .object({
        maxDepth: whole(1, 1000),
        maxAliases: whole(0, 1000),
        maxTokens: whole(1, 1_000_000),
        maxCost: whole(1, 1_000_000_000),
        maxBodyBytes: whole(1, 64 * 1024 * 1024),
        maxAnswerBytes: whole(1, 1024 * 1024 * 1024),
        heavyCost: whole(1, 1_000_000_000),
        maxHeavy: whole(1, 1000),
        maxHeavyQueued: whole(0, 100_000),
      })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

type Settings = z.output<typeof settingsSchema>;

/** The flag each setting comes from, so a flag's error names the flag the user typed. */
const FLAG_NAMES: Record<string, string> = {
  listen: '--listen',
  port: '--port',
  hostTimeoutMs: '--host-timeout',
  maxImages: '--max-images',
  resyncIntervalSeconds: '--resync-interval',
  updateIntervalSeconds: '--update-interval',
  registryTimeoutMs: '--registry-timeout',
  registryAllow: '--registry-allow',
  registryAuthFile: '--registry-auth',
  corsOrigins: '--cors-origin',
  dockerContexts: '--docker-contexts',
  ui: '--ui',
  'limits.maxDepth': '--max-depth',
  'limits.maxAliases': '--max-aliases',
  'limits.maxTokens': '--max-tokens',
  'limits.maxCost': '--max-cost',
  'limits.maxBodyBytes': '--max-body-bytes',
  'limits.maxAnswerBytes': '--max-answer-bytes',
  'limits.heavyCost': '--heavy-cost',
  'limits.maxHeavy': '--max-heavy',
  'limits.maxHeavyQueued': '--max-heavy-queued',
};

/**
 * `raw` through {@link settingsSchema}; on failure, one line naming the flag, the host entry (`host "e1"`)
 * or the file's key. A misspelt key is reported before the required key it leaves missing.
 */
function validate(raw: unknown, source: string | 'flags'): Settings {
  const parsed = check(settingsSchema, raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues.find((i) => i.code === z.ZodIssueCode.unrecognized_keys) ?? parsed.error.issues[0]!;
  const error = new z.ZodError([issue]);
  const [top, second] = issue.path;
  if (source === 'flags') {
    const key = top === 'limits' ? `limits.${String(second)}` : String(top);
    fail(FLAG_NAMES[key] ?? key, issue.message);
  }
  if (top === 'hosts' && typeof second === 'number') {
    const hosts = (raw as { hosts: unknown }).hosts;
    const name = Array.isArray(hosts) ? (hosts[second] as { name?: unknown } | null)?.name : Object.keys(hosts as object)[second];
    fail(typeof name === 'string' && name ? `host "${name}"` : `${source}, hosts[${second}]`, firstIssue(error, 2));
  }
  fail(source, firstIssue(error));
}
export interface Config {
  hosts: HostConfig[];
  listen: string;
  port: number;
  hostTimeoutMs: number;
  /** Largest list a single unpaginated connection returns; past it the client must paginate. */
  maxImages: number;
  /** Largest engine response body we read, per call. */
  maxResponseBytes: number;
  graphiql: boolean;
  /** The fleet page at `/` (src/fleet-page.ts). */
  ui: boolean;
  introspection: boolean;
  production: boolean;
  corsOrigins: string[];
  tokens: AuthToken[];
  insecureNoAuth: boolean;
  limits: QueryLimits;
  /** Serve inventories from memory, kept current by each host's /events stream (see src/live). */
  mirror: boolean;
  /** Mirror mode: full reload of every host this often, healing drift the events missed. */
  resyncIntervalSeconds: number;
  /** Registry update checks (src/registry); registries are contacted only when enabled. */
  updates: UpdateSettings;
}


export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxCost: number;
  maxBodyBytes: number;
  /** Largest answer (JSON bytes) sent to a client; past it the request fails with RESPONSE_TOO_LARGE. */
  maxAnswerBytes: number;
  /** An operation estimated to cost at least this is heavy: it waits for one of maxHeavy slots (src/admission.ts). */
  heavyCost: number;
  /** Heavy operations running at once. */
  maxHeavy: number;
  /** Heavy operations waiting at once; past it SERVER_BUSY. */
  maxHeavyQueued: number;
}

export const DEFAULTS = {
  listen: '127.0.0.1',
  port: 4000,
  hostTimeoutMs: 5000,
  maxImages: 10_000,
  maxResponseBytes: 64 * 1024 * 1024,
  resyncIntervalSeconds: 300,
  updateIntervalSeconds: 6 * 3600,
  registryTimeoutMs: 10_000,
  limits: { maxDepth: 10, maxAliases: 15, maxTokens: 2000, maxCost: 1_000_000, maxBodyBytes: 100 * 1024, maxAnswerBytes: 64 * 1024 * 1024, heavyCost: 100_000, maxHeavy: 2, maxHeavyQueued: 16 },
} as const;

/**
 * What the CLI parsed, as typed: numbers may still be strings. Nothing here is validated yet; loadConfig
 * puts these through the same schema as the file.
 */
export interface ConfigInput {
  hosts?: string[];
  configFile?: string;
  listen?: string;
  port?: number | string;
  hostTimeoutMs?: number | string;
  maxImages?: number | string;
  authTokenFile?: string;
  insecureNoAuth?: boolean;
  graphiql?: boolean;
  /** --ui / --no-ui. */
  ui?: boolean;
  introspection?: boolean;
  corsOrigins?: string[];
  limits?: Partial<Record<keyof QueryLimits, number | string>>;
  /** Also the docker CLI's contexts as hosts: true, or 'all' to include `default` (validated like the file's key). */
  dockerContexts?: boolean | string;
  mirror?: boolean;
  resyncInterval?: number | string;
  checkUpdates?: boolean;
  updateInterval?: number | string;
  registryTimeoutMs?: number | string;
  registryAllow?: string[];
  registryAuthFile?: string;
}

function readConfigFile(path: string): Settings {
  const source = `config file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(source, `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let raw: unknown;
  // Only the position of a syntax error, never the parser's message: it can quote the file (and its tokens).
  if (path.endsWith('.json')) {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      const at = /position (\d+)/.exec((err as Error).message)?.[1];
      fail(source, `not valid JSON${at ? ` (at character ${at})` : ''}`);
    }
  } else {
    try {
      raw = parseYaml(text);
    } catch (err) {
      const pos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
      fail(source, `not valid YAML${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`);
    }
  }
  if (raw === null || raw === undefined || (typeof raw === 'object' && !Array.isArray(raw) && Object.keys(raw).length === 0)) {
    fail(source, 'is empty: give it hosts: (or other settings), or leave out --config');
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) fail(source, 'expected a mapping of settings (hosts:, limits:, …) at the top level');
  return validate(raw, source);
}

const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The flags, mapped onto the settings shape (hosts and tokens are read separately). */
function fromFlags(input: ConfigInput): Settings {
  const raw = {
    listen: input.listen,
    port: input.port,
    hostTimeoutMs: input.hostTimeoutMs,
    maxImages: input.maxImages,
    corsOrigins: input.corsOrigins,
    dockerContexts: input.dockerContexts,
    resyncIntervalSeconds: input.resyncInterval,
    ui: input.ui,
    updateIntervalSeconds: input.updateInterval,
    registryTimeoutMs: input.registryTimeoutMs,
    registryAllow: input.registryAllow,
    registryAuthFile: input.registryAuthFile,
    limits: input.limits && defined(input.limits),
  };
  return validate(defined(raw), 'flags');
}

/** FLEETGRAPH_UI as a setting: true/1/on or false/0/off; anything else is left for the schema to refuse. */
function fromEnv(env: NodeJS.ProcessEnv): Settings | undefined {
  const raw = env.FLEETGRAPH_UI?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  const ui = ['true', '1', 'on'].includes(raw) ? true : ['false', '0', 'off'].includes(raw) ? false : env.FLEETGRAPH_UI;
  const parsed = check(settingsSchema, { ui });
  if (!parsed.success) fail('FLEETGRAPH_UI', 'expected true or false (also 1/0, on/off)');
  return parsed.data;
}

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address);
}

export function loadConfig(input: ConfigInput, env: NodeJS.ProcessEnv = process.env): Config {
  const flags = fromFlags(input);
  const fromEnvironment = fromEnv(env);
  const file = input.configFile ? readConfigFile(input.configFile) : undefined;
  const base = input.configFile ? dirname(resolvePath(input.configFile)) : process.cwd();
  const hostTimeoutMs = flags.hostTimeoutMs ?? file?.hostTimeoutMs ?? DEFAULTS.hostTimeoutMs;
  const fileHosts: FileHost[] = file?.hosts ?? [];
  const dockerContexts = flags.dockerContexts ?? file?.dockerContexts ?? false;
  // The docker CLI's contexts are added to the hosts the other sources name (a name in both is a duplicate).
  const contextHosts = dockerContexts ? readDockerContexts(dockerContexts, env) : [];
  const byName = new Map([...fileHosts, ...contextHosts].map((h) => [h.name, h]));

  // The first source that names any host wins: CLI, then env, then the file, then DOCKER_HOST.
  let specs: Array<{ name: string; endpoint: string }>;
  if (input.hosts?.length) specs = input.hosts.map((h) => parseHostSpec(h, '--host'));
  else if (env.FLEETGRAPH_HOSTS !== undefined && env.FLEETGRAPH_HOSTS !== '') {
    specs = env.FLEETGRAPH_HOSTS.split(',').map((s) => s.trim()).filter(Boolean).map((h) => parseHostSpec(h, 'FLEETGRAPH_HOSTS entry'));
    if (specs.length === 0) fail('FLEETGRAPH_HOSTS', 'names no host (name=endpoint,name=endpoint; unset it to use the other sources)');
  } else if (fileHosts.length) specs = fileHosts;
  else if (dockerContexts) specs = [];
  else specs = [{ name: 'local', endpoint: env.DOCKER_HOST?.trim() || 'unix:///var/run/docker.sock' }];
  specs = [...specs, ...contextHosts];
  if (specs.length === 0) fail('--docker-contexts', 'the docker CLI has no contexts besides default (docker context create …, or --docker-contexts=all)');

  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) fail(`host "${spec.name}"`, 'duplicate host name');
    seen.add(spec.name);
  }
  // A context's TLS is its own stored material only, as for the docker CLI: not DOCKER_CERT_PATH/DOCKER_TLS_VERIFY.
  const contextEnv = { ...env, DOCKER_CERT_PATH: undefined, DOCKER_TLS_VERIFY: undefined };
  const fromContext = new Set(contextHosts.map((h) => h.name));
  const hosts = specs.map((s) => resolveHost(s, byName.get(s.name), base, fromContext.has(s.name) ? contextEnv : env, hostTimeoutMs));

  const sourced: SourcedToken[] = (file?.tokens ?? []).map((t, i) => ({ ...t, where: `config file ${input.configFile} tokens[${i}]` }));
  if (input.authTokenFile) {
    let text: string;
    try {
      text = readFileSync(input.authTokenFile, 'utf8');
    } catch (err) {
      fail(`--auth-token-file ${input.authTokenFile}`, `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    sourced.push(...parseTokenFile(text, `--auth-token-file ${input.authTokenFile}`));
  }
  if (env.FLEETGRAPH_AUTH_TOKENS) sourced.push(...parseTokenEnv(env.FLEETGRAPH_AUTH_TOKENS));
  const tokens = checkTokens(sourced, seen);

  const production = env.NODE_ENV === 'production';
  const listen = flags.listen ?? file?.listen ?? DEFAULTS.listen;
  const insecureNoAuth = input.insecureNoAuth ?? false;
  if (!isLoopback(listen) && tokens.length === 0 && !insecureNoAuth) {
    fail(`--listen ${listen}`, 'refusing to serve a non-loopback address without auth tokens (--auth-token-file or FLEETGRAPH_AUTH_TOKENS); pass --insecure-no-auth to override');
  }
  return {
    hosts,
    listen,
    port: flags.port ?? file?.port ?? DEFAULTS.port,
    hostTimeoutMs,
    maxImages: flags.maxImages ?? file?.maxImages ?? DEFAULTS.maxImages,
    maxResponseBytes: file?.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
    graphiql: input.graphiql ?? !production,
    // Flag, then environment, then file; on unless NODE_ENV=production (as GraphiQL).
    ui: flags.ui ?? fromEnvironment?.ui ?? file?.ui ?? !production,
    introspection: input.introspection ?? !production,
    production,
    corsOrigins: [...(flags.corsOrigins ?? []), ...(file?.corsOrigins ?? [])],
    tokens,
    insecureNoAuth,
    limits: { ...DEFAULTS.limits, ...file?.limits, ...flags.limits },
    mirror: input.mirror ?? file?.mirror ?? false,
    resyncIntervalSeconds: flags.resyncIntervalSeconds ?? file?.resyncIntervalSeconds ?? DEFAULTS.resyncIntervalSeconds,
    updates: updateSettings(
      input.checkUpdates ?? file?.checkUpdates ?? false,
      // A path in the config file is relative to the file, as its TLS and SSH paths are.
      { authFile: flags.registryAuthFile ?? (file?.registryAuthFile && resolvePath(base, file.registryAuthFile)), fromFlag: flags.registryAuthFile !== undefined },
      {
        intervalMs: (flags.updateIntervalSeconds ?? file?.updateIntervalSeconds ?? DEFAULTS.updateIntervalSeconds) * 1000,
        timeoutMs: flags.registryTimeoutMs ?? file?.registryTimeoutMs ?? DEFAULTS.registryTimeoutMs,
        allow: [...(flags.registryAllow ?? []), ...(file?.registryAllow ?? [])],
      },
      env,
    ),
  };
}
