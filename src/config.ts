import { readFileSync } from 'node:fs';
import { resolve as resolvePath, dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, fail, fileHostSchema, firstIssue, hostNameSchema, endpointSchema, parseHostSpec, resolveHost, type FileHost, type HostConfig } from './config-hosts.js';

export { ConfigError, parseHostSpec };
export type { HostConfig, SshSettings, TlsFiles } from './config-hosts.js';

/**
 * Configuration: where the hosts are and how the gateway behaves. Parsed and validated here with zod;
 * the only I/O is reading the config file and the files it names (hosts' key material is read in
 * config-hosts.ts), so a bad path fails at start-up, not on the first request.
 */

const tokenSchema = z.object({ token: z.string().min(16, 'a token has at least 16 characters'), hosts: z.array(hostNameSchema).optional() }).strict();

const fileSchema = z
  .object({
    hosts: z.union([z.array(fileHostSchema), z.record(hostNameSchema, endpointSchema)]).optional(),
    hostTimeoutMs: z.number().int().positive().max(600_000).optional(),
    maxImages: z.number().int().positive().optional(),
    maxResponseBytes: z.number().int().positive().optional(),
    listen: z.string().optional(),
    port: z.number().int().min(0).max(65535).optional(),
    corsOrigins: z.array(z.string().url()).optional(),
    tokens: z.array(tokenSchema).optional(),
    limits: z
      .object({
        maxDepth: z.number().int().positive(),
        maxAliases: z.number().int().nonnegative(),
        maxTokens: z.number().int().positive(),
        maxCost: z.number().positive(),
        maxBodyBytes: z.number().int().positive(),
        maxAnswerBytes: z.number().int().positive(),
      })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

export interface AuthToken {
  token: string;
  /** Host names this token may see; undefined means every host. */
  hosts?: string[];
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
  introspection: boolean;
  production: boolean;
  corsOrigins: string[];
  tokens: AuthToken[];
  insecureNoAuth: boolean;
  limits: QueryLimits;
}

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxCost: number;
  maxBodyBytes: number;
  /** Largest answer (JSON bytes) sent to a client; past it the request fails with RESPONSE_TOO_LARGE. */
  maxAnswerBytes: number;
}

export const DEFAULTS = {
  listen: '127.0.0.1',
  port: 4000,
  hostTimeoutMs: 5000,
  maxImages: 10_000,
  maxResponseBytes: 64 * 1024 * 1024,
  limits: { maxDepth: 10, maxAliases: 15, maxTokens: 2000, maxCost: 1_000_000, maxBodyBytes: 100 * 1024, maxAnswerBytes: 64 * 1024 * 1024 },
} as const;

/** What the CLI parsed; every field optional, the CLI does no validation of its own. */
export interface ConfigInput {
  hosts?: string[];
  configFile?: string;
  listen?: string;
  port?: number;
  hostTimeoutMs?: number;
  maxImages?: number;
  authTokenFile?: string;
  insecureNoAuth?: boolean;
  graphiql?: boolean;
  introspection?: boolean;
  corsOrigins?: string[];
  limits?: Partial<QueryLimits>;
}

function readConfigFile(path: string): z.infer<typeof fileSchema> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(`config file ${path}`, `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    fail(`config file ${path}`, `not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    let entry = `config file ${path}`;
    if (issue && issue.path[0] === 'hosts' && typeof issue.path[1] === 'number') {
      const hosts = (raw as { hosts?: Array<{ name?: unknown }> }).hosts;
      const name = hosts?.[issue.path[1]]?.name;
      entry = typeof name === 'string' ? `host "${name}"` : `config file ${path}, hosts[${issue.path[1]}]`;
    }
    fail(entry, firstIssue(parsed.error));
  }
  return parsed.data;
}

/** One token per line: `TOKEN` or `TOKEN hosts=a,b`. Blank lines and `#` comments are ignored. */
export function parseTokenFile(text: string, source: string): AuthToken[] {
  const tokens: AuthToken[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const [token, ...rest] = trimmed.split(/\s+/);
    const entry: { token: string | undefined; hosts?: string[] } = { token };
    for (const part of rest) {
      const m = /^hosts=(.*)$/.exec(part);
      if (!m) fail(`${source} line ${i + 1}`, `unexpected "${part}" (expected hosts=a,b)`);
      entry.hosts = m[1]!.split(',').filter(Boolean);
    }
    const parsed = tokenSchema.safeParse(entry);
    if (!parsed.success) fail(`${source} line ${i + 1}`, firstIssue(parsed.error));
    tokens.push(parsed.data);
  });
  return tokens;
}

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address);
}

export function loadConfig(input: ConfigInput, env: NodeJS.ProcessEnv = process.env): Config {
  const file = input.configFile ? readConfigFile(input.configFile) : undefined;
  const base = input.configFile ? dirname(resolvePath(input.configFile)) : process.cwd();
  const hostTimeoutMs = input.hostTimeoutMs ?? file?.hostTimeoutMs ?? DEFAULTS.hostTimeoutMs;
  if (!Number.isInteger(hostTimeoutMs) || hostTimeoutMs <= 0) fail('--host-timeout', 'must be a positive number of milliseconds');

  const fileHosts: FileHost[] = Array.isArray(file?.hosts)
    ? file.hosts
    : Object.entries(file?.hosts ?? {}).map(([name, endpoint]) => ({ name, endpoint }));
  const byName = new Map(fileHosts.map((h) => [h.name, h]));

  // The first source that names any host wins: CLI, then env, then the file, then DOCKER_HOST.
  let specs: Array<{ name: string; endpoint: string }>;
  if (input.hosts?.length) specs = input.hosts.map((h) => parseHostSpec(h, '--host'));
  else if (env.FLEETGRAPH_HOSTS?.trim())
    specs = env.FLEETGRAPH_HOSTS.split(',').map((s) => s.trim()).filter(Boolean).map((h) => parseHostSpec(h, 'FLEETGRAPH_HOSTS entry'));
  else if (fileHosts.length) specs = fileHosts;
  else specs = [{ name: 'local', endpoint: env.DOCKER_HOST?.trim() || 'unix:///var/run/docker.sock' }];

  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) fail(`host "${spec.name}"`, 'duplicate host name');
    seen.add(spec.name);
  }
  const hosts = specs.map((s) => resolveHost(s, byName.get(s.name), base, env, hostTimeoutMs));

  let tokens: AuthToken[] = [...(file?.tokens ?? [])];
  if (input.authTokenFile) {
    let text: string;
    try {
      text = readFileSync(input.authTokenFile, 'utf8');
    } catch (err) {
      fail(`--auth-token-file ${input.authTokenFile}`, `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    tokens.push(...parseTokenFile(text, `--auth-token-file ${input.authTokenFile}`));
  }
  if (env.FLEETGRAPH_AUTH_TOKENS?.trim()) {
    tokens.push(...parseTokenFile(env.FLEETGRAPH_AUTH_TOKENS.split(',').join('\n'), 'FLEETGRAPH_AUTH_TOKENS'));
  }
  for (const t of tokens) {
    for (const h of t.hosts ?? []) if (!seen.has(h)) fail('auth token', `scoped to unknown host "${h}"`);
  }
  tokens = tokens.filter((t, i) => tokens.findIndex((u) => u.token === t.token) === i);

  const production = env.NODE_ENV === 'production';
  const listen = input.listen ?? file?.listen ?? DEFAULTS.listen;
  const port = input.port ?? file?.port ?? DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port', 'must be 0-65535');
  const insecureNoAuth = input.insecureNoAuth ?? false;
  if (!isLoopback(listen) && tokens.length === 0 && !insecureNoAuth) {
    fail(`--listen ${listen}`, 'refusing to serve a non-loopback address without auth tokens (--auth-token-file or FLEETGRAPH_AUTH_TOKENS); pass --insecure-no-auth to override');
  }
  return {
    hosts,
    listen,
    port,
    hostTimeoutMs,
    maxImages: input.maxImages ?? file?.maxImages ?? DEFAULTS.maxImages,
    maxResponseBytes: file?.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
    graphiql: input.graphiql ?? !production,
    introspection: input.introspection ?? !production,
    production,
    corsOrigins: [...(input.corsOrigins ?? []), ...(file?.corsOrigins ?? [])],
    tokens,
    insecureNoAuth,
    limits: { ...DEFAULTS.limits, ...file?.limits, ...input.limits },
  };
}
