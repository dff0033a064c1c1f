import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { check, ConfigError, fileHostSchema, firstIssue, type FileHost } from './config-hosts.js';

/**
 * Module: the hosts the user's docker CLI knows, read from its context store as `docker context create`
 * writes it: `contexts/meta/<sha256(name)>/meta.json` (name, Endpoints.docker.Host and SkipTLSVerify) and
 * `contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem`. The store is under $DOCKER_CONFIG, else
 * ~/.docker. Each context becomes a host entry as a config file would write it, so its endpoint and TLS
 * files go through the same checks and reading as any other host.
 */

/** `true`: the stored contexts; `'all'`: also `default` (DOCKER_HOST, else the local socket), as the docker CLI lists it. */
export type DockerContextsSetting = boolean | 'all';

const metaSchema = z.object({
  Name: z.string(),
  Endpoints: z.object({ docker: z.object({ Host: z.string().optional(), SkipTLSVerify: z.boolean().optional() }).passthrough().optional() }).passthrough(),
});

/** The docker CLI's config directory: $DOCKER_CONFIG, else ~/.docker (of $HOME, as the docker CLI resolves it). */
export function dockerConfigDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

/** The docker CLI names a context's directories by the SHA-256 of its name. */
const contextId = (name: string) => createHash('sha256').update(name).digest('hex');

/**
 * The contexts as host entries, sorted by name (as `docker context ls`). A context without a docker
 * endpoint (e.g. a Kubernetes-only one) is left out; an unreadable store or meta.json is a ConfigError.
 */
export function readDockerContexts(setting: DockerContextsSetting, env: NodeJS.ProcessEnv): FileHost[] {
  const store = join(dockerConfigDir(env), 'contexts');
  const metaDir = join(store, 'meta');
  const where = `--docker-contexts (${metaDir})`;
  let ids: string[] = [];
  if (existsSync(metaDir)) {
    try {
      ids = readdirSync(metaDir);
    } catch (err) {
      throw new ConfigError(`${where}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const hosts: FileHost[] = [];
  for (const id of ids) {
    const file = join(metaDir, id, 'meta.json');
    if (!existsSync(file)) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new ConfigError(`docker context store ${file}: not readable JSON`);
    }
    const meta = check(metaSchema, raw);
    if (!meta.success) throw new ConfigError(`docker context store ${file}: ${firstIssue(meta.error)}`);
    const { Name: name, Endpoints } = meta.data;
    const docker = Endpoints.docker;
    if (!docker?.Host || name === 'default') continue;
    const host = check(fileHostSchema, contextHost(name, docker.Host, docker.SkipTLSVerify ?? false, join(store, 'tls', contextId(name), 'docker')));
    if (!host.success) throw new ConfigError(`docker context "${name}": ${firstIssue(host.error)}`);
    hosts.push(host.data);
  }
  hosts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (setting === 'all') hosts.unshift({ name: 'default', endpoint: env.DOCKER_HOST?.trim() || 'unix:///var/run/docker.sock' });
  return hosts;
}

/**
 * The docker CLI uses TLS when the context has TLS material or skips verification; so do we. A context
 * name the docker CLI allows but a host name does not (e.g. with "+") fails the host-name check above.
 */
function contextHost(name: string, endpoint: string, skipVerify: boolean, tlsDir: string): FileHost {
  const file = (f: string) => (existsSync(join(tlsDir, f)) ? join(tlsDir, f) : undefined);
  const [ca, cert, key] = [file('ca.pem'), file('cert.pem'), file('key.pem')];
  const host: FileHost = { name, endpoint };
  if (ca || cert || key || skipVerify) {
    host.tls = { verify: !skipVerify, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }
  return host;
}
