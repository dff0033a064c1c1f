import http from 'node:http';
import https from 'node:https';
import type Docker from 'dockerode';
import type { HostConfig, SshSettings } from '../config.js';
import { checkHostKey, parseKnownHosts, type HostKeyVerdict } from './known-hosts.js';
import { modemAgent } from './modem.js';
import { createSshAgent, SshDialAgent } from './ssh-agent.js';

/**
 * docker-modem fills every option it is not given from the gateway's *own* environment (DOCKER_HOST,
 * DOCKER_CERT_PATH, DOCKER_TLS_VERIFY, DOCKER_CLIENT_TIMEOUT, DOCKER_PATH_PREFIX): with
 * DOCKER_HOST=tcp://… set, a unix:// host would get that `host` and never use its socket, and a plain
 * tcp:// host would get DOCKER_CERT_PATH's files. So every key it may fill is set here, explicitly;
 * a host's transport depends on that host's config only (config.ts has already applied the env rules).
 */
const NO_ENV_DEFAULTS = {
  socketPath: undefined,
  host: undefined,
  port: undefined,
  username: undefined,
  protocol: undefined,
  ca: undefined,
  cert: undefined,
  key: undefined,
  timeout: undefined,
  pathPrefix: undefined,
};

/** dockerode options plus the fields @types/dockerode leaves out but docker-modem reads. */
type ModemOptions = Omit<Docker.DockerOptions, 'protocol'> & {
  protocol?: 'http' | 'https';
  agent: http.Agent;
  pathPrefix?: string;
};

/**
 * dockerode options for one host's endpoint: unix socket, plain TCP, TLS with client certificates,
 * or SSH. Every transport gets a keep-alive agent of its own, so connections are reused across requests.
 */
export function dockerOptions(host: HostConfig): Docker.DockerOptions {
  const url = new URL(host.endpoint);
  let options: ModemOptions;
  switch (url.protocol) {
    case 'unix:':
      options = { ...NO_ENV_DEFAULTS, socketPath: decodeURIComponent(url.pathname), agent: new http.Agent({ keepAlive: true, maxSockets: 16 }) };
      break;
    case 'ssh:': {
      const hostname = url.hostname.replace(/^\[|\]$/g, '');
      const port = url.port ? Number(url.port) : 22;
      const agent = createSshAgent({
        host: hostname,
        port,
        username: decodeURIComponent(url.username) || undefined,
        ...(host.ssh?.privateKey ? { privateKey: host.ssh.privateKey } : {}),
        ...(host.ssh?.passphrase ? { passphrase: host.ssh.passphrase } : {}),
        ...(host.ssh?.agent ? { agent: host.ssh.agent } : {}),
        readyTimeout: host.timeoutMs,
        checkHostKey: hostKeyCheck(host.ssh, hostname, port),
      });
      // Plain HTTP over our own SSH agent (one SSH connection, a channel per HTTP connection); see
      // ssh-agent.ts. Not docker-modem's protocol 'ssh', which makes a new SSH connection per request.
      options = { ...NO_ENV_DEFAULTS, host: 'docker', port: 80, protocol: 'http', agent };
      break;
    }
    default: {
      const tls = url.protocol === 'https:' || host.tls !== undefined;
      const port = url.port ? Number(url.port) : tls ? 2376 : 2375;
      const hostname = url.hostname.replace(/^\[|\]$/g, '');
      if (!tls) {
        options = { ...NO_ENV_DEFAULTS, host: hostname, port, protocol: 'http', agent: new http.Agent({ keepAlive: true, maxSockets: 16 }) };
        break;
      }
      const files = { ca: host.tls?.ca, cert: host.tls?.cert, key: host.tls?.key };
      const verify = host.tls?.verify ?? true;
      // The TLS identity lives on the agent: Node's Agent spreads its own options over each request's,
      // so they apply to every connection it makes. docker-modem passes no rejectUnauthorized, so
      // `verify: false` (docker's --tls without --tlsverify: encrypted, server not checked) must be here.
      const agent = new https.Agent({
        keepAlive: true,
        maxSockets: 16,
        ...(files.ca ? { ca: files.ca } : {}),
        ...(files.cert ? { cert: files.cert } : {}),
        ...(files.key ? { key: files.key } : {}),
        rejectUnauthorized: verify,
        ...(verify ? {} : { checkServerIdentity: () => undefined }),
      });
      options = { ...NO_ENV_DEFAULTS, ...files, host: hostname, port, protocol: 'https', agent };
    }
  }
  return options as Docker.DockerOptions;
}

/**
 * How an ssh:// host's key is checked: against the lines of its known_hosts file (read at start-up by
 * config.ts; with no file, every key is refused), or not at all when the config file says
 * `insecureIgnoreHostKey: true`, which is never a default.
 */
function hostKeyCheck(ssh: SshSettings | undefined, hostname: string, port: number): (key: Buffer) => HostKeyVerdict {
  if (ssh?.insecureIgnoreHostKey) return () => 'trusted';
  if (ssh?.knownHosts === undefined) return () => 'no known_hosts file';
  const lines = parseKnownHosts(ssh.knownHosts);
  return (key) => checkHostKey(lines, hostname, port, key);
}

/** The SSH agent behind a client made from {@link dockerOptions}, if its host is ssh://; for tests and benchmarks. */
export function sshAgentOf(docker: Docker): SshDialAgent | undefined {
  const agent = modemAgent(docker);
  return agent instanceof SshDialAgent ? agent : undefined;
}
