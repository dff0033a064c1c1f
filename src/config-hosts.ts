import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
// a CommonJS package whose `utils` Node's ESM loader cannot see as a named export
import ssh2 from 'ssh2';
import { z } from 'zod';

/**
 * One host's configuration: its name and endpoint, validated, and the key material it needs (TLS
 * certificates, SSH key, known_hosts) read and checked at start-up.
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * A whole number in [min, max]. Command-line and environment values arrive as strings: digits are read as
 * the number they spell, so flags, env and file go through this one check and get the same errors.
 */
export const whole = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v), z.number().int().min(min).max(max));

/**
 * One-line messages for the config schemas. A value is quoted only where a number was expected (a
 * token is a string, so it is never quoted).
 */
export const configErrors: z.ZodErrorMap = (issue, ctx) => {
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      if (issue.received === 'undefined') return { message: 'required' };
      if (issue.expected === 'number' || issue.expected === 'integer')
        return { message: typeof ctx.data === 'string' ? `"${ctx.data}" is not a whole number` : `expected a whole number, got ${issue.received}` };
      return { message: `expected ${issue.expected}, got ${issue.received}` };
    case z.ZodIssueCode.unrecognized_keys:
      return { message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
    case z.ZodIssueCode.too_small:
      if (issue.type === 'number') return { message: `must be at least ${String(issue.minimum)}` };
      break;
    case z.ZodIssueCode.too_big:
      if (issue.type === 'number') return { message: `must be at most ${String(issue.maximum)}` };
      break;
  }
  return { message: ctx.defaultError };
};

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const SCHEMES = ['unix:', 'tcp:', 'http:', 'https:', 'ssh:'] as const;

export const hostNameSchema = z
  .string()
  .regex(HOST_NAME, 'a host name is 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit');

export const endpointSchema = z.string().superRefine((value, ctx) => {
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

export const fileHostSchema = z
  .object({
    name: hostNameSchema,
    endpoint: endpointSchema,
    tls: tlsSchema.optional(),
    ssh: sshSchema.optional(),
    timeoutMs: whole(1, 600_000).optional(),
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

export function fail(entry: string, message: string): never {
  throw new ConfigError(`${entry}: ${message}`);
}

/** The first issue as `path: message`, or the message alone when `path` is empty. */
export function firstIssue(error: z.ZodError, skip = 0): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.slice(skip);
  return `${path.length ? `${path.join('.')}: ` : ''}${issue.message}`;
}

/** `schema` applied with {@link configErrors}. */
export function check<T extends z.ZodTypeAny>(schema: T, value: unknown): z.SafeParseReturnType<unknown, z.output<T>> {
  return schema.safeParse(value, { errorMap: configErrors });
}

/** Parses `name=endpoint`, the form used by --host and FLEETGRAPH_HOSTS. */
export function parseHostSpec(spec: string, source: string): { name: string; endpoint: string } {
  const eq = spec.indexOf('=');
  if (eq <= 0) fail(`${source} "${spec}"`, 'expected name=endpoint, e.g. prod-1=tcp://10.0.0.5:2375');
  const name = spec.slice(0, eq).trim();
  const endpoint = spec.slice(eq + 1).trim();
  const n = check(hostNameSchema, name);
  if (!n.success) fail(`${source} "${spec}"`, firstIssue(n.error));
  const e = check(endpointSchema, endpoint);
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

export type FileHost = z.infer<typeof fileHostSchema>;

export function resolveHost(spec: { name: string; endpoint: string }, file: FileHost | undefined, base: string, env: NodeJS.ProcessEnv, defaultTimeout: number): HostConfig {
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
  if (new URL(spec.endpoint).protocol === 'ssh:') {
    host.endpoint = withSshUser(spec.name, spec.endpoint);
    host.ssh = resolveSsh(spec.name, file?.ssh, base, env);
  }
  return host;
}

/**
 * `ssh://edge-1` means the current user, as `ssh edge-1` does (the login name of the process's uid, not
 * $USER); written into the endpoint at start-up so the transport always has a user to log in as.
 */
function withSshUser(name: string, endpoint: string): string {
  const url = new URL(endpoint);
  if (url.username) return endpoint;
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    fail(`host "${name}"`, 'ssh:// names no user and the current uid has no user name; write ssh://user@host');
  }
  url.username = user;
  return url.toString();
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

