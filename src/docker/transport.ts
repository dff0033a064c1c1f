import http from 'node:http';
import https from 'node:https';
import type Docker from 'dockerode';
import type { HostConfig } from '../config.js';
import { createSshAgent } from './ssh-agent.js';

/**
 * dockerode options for one host's endpoint: unix socket, plain TCP, TLS with client certificates,
 * or SSH. Every transport gets a keep-alive agent of its own, so connections are reused across requests.
 */
export function dockerOptions(host: HostConfig): Docker.DockerOptions {
  const url = new URL(host.endpoint);
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: decodeURIComponent(url.pathname), agent: new http.Agent({ keepAlive: true, maxSockets: 16 }) } as Docker.DockerOptions;
    case 'ssh:': {
      const agent = createSshAgent({
        host: url.hostname,
        port: url.port ? Number(url.port) : 22,
        username: decodeURIComponent(url.username) || undefined,
        ...(host.ssh?.privateKey ? { privateKey: host.ssh.privateKey } : {}),
        ...(host.ssh?.passphrase ? { passphrase: host.ssh.passphrase } : {}),
        ...(host.ssh?.agent ? { agent: host.ssh.agent } : {}),
        readyTimeout: host.timeoutMs,
      });
      // Plain HTTP over our own SSH agent (one SSH connection, a channel per HTTP connection); see ssh-agent.ts.
      return { host: 'docker', port: 80, protocol: 'http', agent } as unknown as Docker.DockerOptions;
    }
    default: {
      const tls = url.protocol === 'https:' || host.tls !== undefined;
      const port = url.port ? Number(url.port) : tls ? 2376 : 2375;
      const agent = tls ? new https.Agent({ keepAlive: true, maxSockets: 16 }) : new http.Agent({ keepAlive: true, maxSockets: 16 });
      const options: Record<string, unknown> = { host: url.hostname.replace(/^\[|\]$/g, ''), port, protocol: tls ? 'https' : 'http', agent };
      if (host.tls?.ca) options.ca = host.tls.ca;
      if (host.tls?.cert) options.cert = host.tls.cert;
      if (host.tls?.key) options.key = host.tls.key;
      if (host.tls && !host.tls.verify) options.checkServerIdentity = () => undefined;
      return options as Docker.DockerOptions;
    }
  }
}
