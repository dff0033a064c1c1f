import http from 'node:http';
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { HostKeyVerdict } from './known-hosts.js';

/**
 * An http.Agent that reaches a Docker engine through `docker system dial-stdio` over SSH.
 *
 * docker-modem's own ssh transport builds a new ssh2 Client (TCP connect, key exchange, auth) for
 * every request; at one request per host per GraphQL query that handshake dominates the cost. This agent
 * keeps one authenticated SSH connection per host and opens a channel per HTTP connection on it, and the
 * agent keeps those HTTP connections alive, so steady-state requests cost neither a handshake nor a new
 * channel. A dropped SSH connection is replaced on the next request.
 *
 * Errors are ssh2's own, unchanged, so errors.ts can map them by `level` ('client-authentication',
 * 'client-socket', 'client-timeout'); their messages may name the address and are never shown to clients.
 * The one error of our own: a host key that `checkHostKey` did not trust ends the handshake before any
 * credential is sent, and fails the request with code ERR_SSH_HOST_KEY and the verdict in `hostKey`.
 */
export interface SshAgentOptions {
  host: string;
  port: number;
  username?: string;
  privateKey?: Buffer;
  passphrase?: string;
  agent?: string;
  readyTimeout: number;
  /** Decides on the server's host key (ssh2's raw key blob) at every key exchange; only 'trusted' goes on. */
  checkHostKey: (key: Buffer) => HostKeyVerdict;
}

/** What each channel runs on the remote side (a forced command in authorized_keys may replace it). */
const DIAL_COMMAND = 'docker system dial-stdio';

export class SshDialAgent extends http.Agent {
  private conn: Promise<Client> | undefined;
  private destroyed = false;
  /** SSH handshakes started (connection attempts); exposed for tests and benchmarks. */
  handshakes = 0;
  /** dial-stdio channels opened, i.e. HTTP connections made; exposed for tests and benchmarks. */
  channels = 0;

  constructor(private readonly ssh: SshAgentOptions) {
    super({ keepAlive: true, maxSockets: 8 });
  }

  private connection(): Promise<Client> {
    if (this.conn) return this.conn;
    const client = new Client();
    // Why ssh2 ended the handshake, when it was because we refused the host key (ssh2 only says 'handshake').
    let refused: HostKeyVerdict | undefined;
    const hostKeyError = (verdict: HostKeyVerdict) =>
      Object.assign(new Error(`SSH host key not trusted (${verdict})`), { code: 'ERR_SSH_HOST_KEY', hostKey: verdict });
    const config: ConnectConfig = {
      host: this.ssh.host,
      port: this.ssh.port,
      readyTimeout: this.ssh.readyTimeout,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      ...(this.ssh.username ? { username: this.ssh.username } : {}),
      ...(this.ssh.privateKey ? { privateKey: this.ssh.privateKey } : {}),
      ...(this.ssh.passphrase ? { passphrase: this.ssh.passphrase } : {}),
      ...(this.ssh.agent ? { agent: this.ssh.agent } : {}),
      // No hostHash: ssh2 then hands the verifier the key blob itself, as known_hosts holds it.
      hostVerifier: (key: Buffer) => {
        const verdict = this.ssh.checkHostKey(key);
        if (verdict !== 'trusted') refused = verdict;
        return verdict === 'trusted';
      },
    };
    // Declared before it is assigned so that no listener below can ever meet it in its temporal dead zone.
    let pending: Promise<Client> | undefined = undefined;
    pending = new Promise<Client>((resolve, reject) => {
      let ready = false;
      // 'error' can come more than once, and after 'ready' (the connection broke): keep a listener for
      // the client's whole life, or ssh2 re-emits it as an uncaught exception.
      client.on('ready', () => {
        ready = true;
        resolve(client);
      });
      client.on('error', (err) => {
        this.forget(pending, client);
        if (!ready) reject(refused ? hostKeyError(refused) : err);
      });
      client.on('end', () => this.forget(pending, client));
      client.on('close', () => {
        this.forget(pending, client);
        if (!ready) reject(refused ? hostKeyError(refused) : Object.assign(new Error('SSH connection closed before it was ready'), { level: 'client-socket' }));
      });
      this.handshakes++;
      try {
        client.connect(config);
      } catch (err) {
        // ssh2 throws synchronously for a bad option, or a key it cannot use (unparsable, encrypted and
        // no or the wrong passphrase): for the latter, authentication cannot even start, so it is
        // marked as ssh2 marks a refused login.
        reject(/privateKey|passphrase/i.test((err as Error).message) ? Object.assign(err as Error, { level: 'client-authentication' }) : err);
      }
    });
    this.conn = pending;
    // A failed handshake is not cached: the next request tries again.
    pending.catch(() => this.forget(pending, client));
    return pending;
  }

  /** Stop handing out `client` (once it is gone or useless) and close it. */
  private forget(pending: Promise<Client> | undefined, client: Client): void {
    if (this.conn === pending) this.conn = undefined;
    client.end();
  }

  override createConnection(_options: unknown, callback: (err: Error | null, socket?: Duplex) => void): undefined {
    this.openChannel(true).then(
      (channel) => callback(null, channel),
      (err: Error) => callback(err),
    );
    return undefined;
  }

  private async openChannel(mayRetry: boolean): Promise<Duplex> {
    if (this.destroyed) throw Object.assign(new Error('SSH agent closed'), { code: 'ERR_AGENT_DESTROYED' });
    const joined = this.conn !== undefined;
    const pending = this.connection();
    let client: Client;
    try {
      client = await pending;
    } catch (err) {
      // A handshake this request joined late (e.g. one that a request before it started, and that is
      // timing out now) is not this request's verdict: it gets one handshake of its own.
      if (joined && mayRetry) return this.openChannel(false);
      throw err;
    }
    try {
      const channel = await new Promise<ClientChannel>((resolve, reject) => {
        client.exec(DIAL_COMMAND, (err, ch) => (err ? reject(err) : resolve(ch)));
      });
      this.channels++;
      return asSocket(channel);
    } catch (err) {
      // The server refused this one channel (it carries the SSH reason code, e.g. too many sessions):
      // the connection itself is fine and keeps serving the channels it has.
      if ((err as { reason?: unknown }).reason !== undefined) throw err;
      // The connection cannot open channels (it died and its close is not seen yet, or it was ended):
      // drop it, and try once more on a fresh one.
      this.forget(pending, client);
      if (mayRetry) return this.openChannel(false);
      throw err;
    }
  }

  override destroy(): void {
    this.destroyed = true;
    super.destroy();
    const conn = this.conn;
    this.conn = undefined;
    conn?.then(
      (c) => c.end(),
      () => undefined,
    );
  }
}

/**
 * An SSH channel made fit for http.Agent's pool:
 *  - the socket methods the agent calls but a channel lacks are no-ops;
 *  - when the SSH connection dies, ssh2 closes its channels but leaves their writable side as it was
 *    (`writable` stays true), and http.Agent only evicts a closed *free* socket that is not writable:
 *    the dead channel would stay in the pool and the next request would be written into it and hang
 *    until its deadline. So a closed channel is marked not writable before the agent sees 'close'
 *    (this listener is added before the agent adds its own).
 */
function asSocket(channel: ClientChannel): Duplex {
  const s = channel as unknown as Duplex & Record<string, unknown>;
  for (const m of ['setKeepAlive', 'setNoDelay', 'setTimeout', 'ref', 'unref']) {
    if (typeof s[m] !== 'function') s[m] = () => s;
  }
  channel.once('close', () => {
    (channel as unknown as { writable: boolean }).writable = false;
  });
  return s;
}

export function createSshAgent(options: SshAgentOptions): SshDialAgent {
  return new SshDialAgent(options);
}
