import http from 'node:http';
import type { Duplex } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';

/**
 * An http.Agent that reaches a Docker engine through `docker system dial-stdio` over SSH.
 *
 * docker-modem's own ssh transport builds a new ssh2 Client (TCP connect, key exchange, auth) for
 * every request; at one request per host per GraphQL query that handshake dominates the cost. This agent
 * keeps one authenticated SSH connection per host and opens a channel per HTTP connection on it, and the
 * agent keeps those HTTP connections alive, so steady-state requests cost neither a handshake nor a new
 * channel. A dropped SSH connection is replaced on the next request.
 */
export interface SshAgentOptions {
  host: string;
  port: number;
  username?: string;
  privateKey?: Buffer;
  passphrase?: string;
  agent?: string;
  readyTimeout: number;
}

export class SshDialAgent extends http.Agent {
  private conn: Promise<Client> | undefined;
  /** Number of SSH handshakes made; exposed for tests and benchmarks. */
  handshakes = 0;

  constructor(private readonly ssh: SshAgentOptions) {
    super({ keepAlive: true, maxSockets: 8 });
  }

  private connection(): Promise<Client> {
    if (!this.conn) {
      this.conn = new Promise<Client>((resolve, reject) => {
        const client = new Client();
        const config: ConnectConfig = {
          host: this.ssh.host,
          port: this.ssh.port,
          readyTimeout: this.ssh.readyTimeout,
          keepaliveInterval: 15_000,
          ...(this.ssh.username ? { username: this.ssh.username } : {}),
          ...(this.ssh.privateKey ? { privateKey: this.ssh.privateKey } : {}),
          ...(this.ssh.passphrase ? { passphrase: this.ssh.passphrase } : {}),
          ...(this.ssh.agent ? { agent: this.ssh.agent } : {}),
        };
        const forget = () => {
          if (this.conn === pending) this.conn = undefined;
        };
        client
          .once('ready', () => resolve(client))
          .once('error', (err) => {
            forget();
            reject(err);
          })
          .once('close', forget)
          .once('end', forget);
        this.handshakes++;
        client.connect(config);
      });
      const pending = this.conn;
    }
    return this.conn;
  }

  override createConnection(_options: unknown, callback: (err: Error | null, socket?: Duplex) => void): undefined {
    this.connection().then(
      (client) => {
        client.exec('docker system dial-stdio', (err, channel) => {
          if (err) {
            // The SSH connection is unusable for new channels: drop it so the next call reconnects.
            this.conn = undefined;
            client.end();
            return callback(err);
          }
          callback(null, asSocket(channel));
        });
      },
      (err: Error) => callback(err),
    );
    return undefined;
  }

  override destroy(): void {
    super.destroy();
    const conn = this.conn;
    this.conn = undefined;
    conn?.then((c) => c.end(), () => undefined);
  }
}

/** http.Agent calls socket methods that an SSH channel lacks; they are no-ops for a channel. */
function asSocket(channel: Duplex): Duplex {
  const s = channel as Duplex & Record<string, unknown>;
  for (const m of ['setKeepAlive', 'setNoDelay', 'setTimeout', 'ref', 'unref']) {
    if (typeof s[m] !== 'function') s[m] = () => s;
  }
  return channel;
}

export function createSshAgent(options: SshAgentOptions): SshDialAgent {
  return new SshDialAgent(options);
}
