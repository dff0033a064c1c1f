import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve as resolvePath, dirname } from 'node:path';
// a CommonJS package whose `utils` Node's ESM loader cannot see as a named export
import ssh2 from 'ssh2';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * Configuration: where the hosts are and how the gateway behaves. Parsed and validated here with zod;
 * the only I/O is reading the config file and the TLS/SSH key files it names (so a bad path fails at
 * start-up, not on the first request).
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const SCHEMES = ['unix:', 'tcp:', 'http:', 'https:', 'ssh:'] as const;

const hostNameSchema = z
  .string()
  .regex(HOST_NAME, 'a host name is 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit');

const endpointSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${value}" is not an endpoint URL (unix://, tcp://, https://, ssh://)` });
    return;
  }
  if (!(SCHEMES as readonly string[]).includes(url.protocol)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `unknown scheme "${url.protocol.replace(/:$/, '')}" (use unix, tcp, http, https or ssh)` });
    return;
  }
  if (url.protocol === 'unix:' && !url.pathname) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'unix:// needs a socket path, e.g. unix:///var/run/docker.sock' });
  }
  if (url.protocol !== 'unix:' && !url.hostname) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${url.protocol}// needs a host name or address` });
  }
});

const tlsSchema = z
  .object({
    certPath: z.string().optional(),
    ca: z.string().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
    verify: z.boolean().default(true),
  })
  .strict();

const sshSchema = z
  .object({
    privateKeyPath: z.string().optional(),
    passphraseEnv: z.string().optional(),
    agent: z.string().optional(),
    knownHostsPath: z
      .string()
      .optional()
      .describe("OpenSSH known_hosts file the server's host key must be in (default ~/.ssh/known_hosts); a key not in it is refused"),
    insecureIgnoreHostKey: z
      .boolean()
      .optional()
      .describe('INSECURE: accept any host key, so anyone on the path can impersonate the host and feed it a fake inventory; for tests and throw-away hosts only'),
  })
  .strict();

const fileHostSchema = z
  .object({
    name: hostNameSchema,
    endpoint: endpointSchema,
    tls: tlsSchema.optional(),
    ssh: sshSchema.optional(),
    timeoutMs: z.number().int().positive().max(600_000).optional(),
  })
  .strict();

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
      })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

export type TlsFiles = { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean };
export type SshSettings = {
  privateKey?: Buffer;
  passphrase?: string;
  agent?: string;
  /**
   * The text of the known_hosts file whose lines decide which host keys are trusted; undefined when
   * there is none, and then no key is (unless insecureIgnoreHostKey).
   */
  knownHosts?: string;
  /** Accept any host key: only ever from an explicit `ssh.insecureIgnoreHostKey: true`. */
  insecureIgnoreHostKey?: boolean;
};

export interface HostConfig {
  name: string;
  endpoint: string;
  tls?: TlsFiles;
  ssh?: SshSettings;
  timeoutMs: number;
}

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
}

export const DEFAULTS = {
  listen: '127.0.0.1',
  port: 4000,
  hostTimeoutMs: 5000,
  maxImages: 10_000,
  maxResponseBytes: 64 * 1024 * 1024,
  limits: { maxDepth: 10, maxAliases: 15, maxTokens: 2000, maxCost: 20000, maxBodyBytes: 100 * 1024 },
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

function fail(entry: string, message: string): never {
  throw new ConfigError(`${entry}: ${message}`);
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}

/** Parses `name=endpoint`, the form used by --host and FLEETGRAPH_HOSTS. */
export function parseHostSpec(spec: string, source: string): { name: string; endpoint: string } {
  const eq = spec.indexOf('=');
  if (eq <= 0) fail(`${source} "${spec}"`, 'expected name=endpoint, e.g. prod-1=tcp://10.0.0.5:2375');
  const name = spec.slice(0, eq).trim();
  const endpoint = spec.slice(eq + 1).trim();
  const n = hostNameSchema.safeParse(name);
  if (!n.success) fail(`${source} "${spec}"`, firstIssue(n.error));
  const e = endpointSchema.safeParse(endpoint);
  if (!e.success) fail(`host "${name}"`, firstIssue(e.error));
  return { name, endpoint };
}

function expandHome(p: string, base: string): string {
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolvePath(base, p);
}

function readKeyFile(host: string, what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    fail(`host "${host}"`, `cannot read ${what} file ${path} (${code})`);
  }
}

/** Docker's rule: https://, port 2376, or DOCKER_TLS_VERIFY set. */
function isTlsEndpoint(endpoint: string, env: NodeJS.ProcessEnv): boolean {
  const url = new URL(endpoint);
  return url.protocol === 'https:' || (url.protocol === 'tcp:' && (url.port === '2376' || Boolean(env.DOCKER_TLS_VERIFY)));
}

type FileHost = z.infer<typeof fileHostSchema>;

function resolveHost(spec: { name: string; endpoint: string }, file: FileHost | undefined, base: string, env: NodeJS.ProcessEnv, defaultTimeout: number): HostConfig {
  const host: HostConfig = { name: spec.name, endpoint: spec.endpoint, timeoutMs: file?.timeoutMs ?? defaultTimeout };
  const tls = file?.tls;
  if (tls || isTlsEndpoint(spec.endpoint, env)) {
    const certPath = tls?.certPath ?? (tls?.ca || tls?.cert || tls?.key ? undefined : env.DOCKER_CERT_PATH);
    const pick = (explicit: string | undefined, file: string) =>
      explicit ? expandHome(explicit, base) : certPath ? join(expandHome(certPath, base), file) : undefined;
    const ca = pick(tls?.ca, 'ca.pem');
    const cert = pick(tls?.cert, 'cert.pem');
    const key = pick(tls?.key, 'key.pem');
    if ((cert && !key) || (key && !cert)) fail(`host "${spec.name}"`, 'TLS needs both a client cert and its key');
    host.tls = {
      verify: tls?.verify ?? true,
      ...(ca ? { ca: readKeyFile(spec.name, 'CA', ca) } : {}),
      ...(cert ? { cert: readKeyFile(spec.name, 'client certificate', cert) } : {}),
      ...(key ? { key: readKeyFile(spec.name, 'client key', key) } : {}),
    };
  }
  if (new URL(spec.endpoint).protocol === 'ssh:') host.ssh = resolveSsh(spec.name, file?.ssh, base, env);
  return host;
}

function resolveSsh(name: string, ssh: FileHost['ssh'], base: string, env: NodeJS.ProcessEnv): SshSettings {
  const passphrase = ssh?.passphraseEnv ? env[ssh.passphraseEnv] || undefined : undefined;
  let privateKey: Buffer | undefined;
  if (ssh?.privateKeyPath) {
    const path = expandHome(ssh.privateKeyPath, base);
    privateKey = readKeyFile(name, 'SSH private key', path);
    // ssh2 would only find out on the first request, as an authentication failure
    const parsed = ssh2.utils.parseKey(privateKey, passphrase);
    if (parsed instanceof Error || !parsed.isPrivateKey()) {
      const why = parsed instanceof Error ? parsed.message.split('\n')[0]! : 'it is a public key';
      const hint = passphrase ? `with the passphrase from $${ssh.passphraseEnv}` : ssh.passphraseEnv ? `($${ssh.passphraseEnv} is not set)` : '(no ssh.passphraseEnv)';
      fail(`host "${name}"`, `cannot use SSH private key ${path} ${hint}: ${passphrase && why.includes(passphrase) ? 'unreadable' : why}`);
    }
  }
  let knownHosts: string | undefined;
  if (ssh?.insecureIgnoreHostKey) {
    if (ssh.knownHostsPath) fail(`host "${name}"`, 'ssh.insecureIgnoreHostKey and ssh.knownHostsPath exclude each other');
  } else {
    // as `ssh` does: the named file, else the user's own if there is one; with neither, every key is refused
    const path = ssh?.knownHostsPath ? expandHome(ssh.knownHostsPath, base) : join(env.HOME || homedir(), '.ssh', 'known_hosts');
    if (ssh?.knownHostsPath || existsSync(path)) knownHosts = readKeyFile(name, 'SSH known_hosts', path).toString('utf8');
  }
  return {
    ...(privateKey ? { privateKey } : {}),
    ...(passphrase ? { passphrase } : {}),
    ...(ssh?.agent ?? env.SSH_AUTH_SOCK ? { agent: ssh?.agent ?? env.SSH_AUTH_SOCK } : {}),
    ...(knownHosts !== undefined ? { knownHosts } : {}),
    ...(ssh?.insecureIgnoreHostKey ? { insecureIgnoreHostKey: true } : {}),
  };
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
