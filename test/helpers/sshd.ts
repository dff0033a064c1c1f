/**
 * A private OpenSSH server for tests: Debian's /usr/sbin/sshd on 127.0.0.1:<free port>, with its own
 * host key, config, pidfile, authorized_keys and log in a temp dir. Root may log in by key only, with
 * one of two generated keys (one of them passphrase-protected), and both keys are forced to run
 * `docker system dial-stdio` against one private engine's unix socket, so an `ssh://root@127.0.0.1:PORT`
 * host reaches exactly that engine, whatever command the client asks for. Its host key is written to a
 * known_hosts file of its own (`[127.0.0.1]:PORT key`) for clients that check host keys.
 *
 * Rules this module keeps (as src/dev/engine.ts does for dockerd):
 *  - it only signals the sshd it spawned and that sshd's descendants (found by walking /proc ppids
 *    from our pid while the listener is SIGSTOPped, so it cannot fork more meanwhile);
 *  - every server is registered until destroyed, and a process 'exit' hook kills whatever is left;
 *  - on a failed start nothing is left behind.
 *
 * Notes:
 *  - sshd needs its privilege-separation dir /run/sshd; it is created if missing (and left: it is
 *    the system's, harmless, and another sshd may be using it).
 *  - each connection is served by a child sshd in a session of its own (setsid), so killing the
 *    listener's process group would not end connections; dropConnections() kills them by pid.
 *  - a forced command runs through root's shell (bash -c), and bash sources ~/.bashrc when started by
 *    sshd; the command therefore names the docker CLI by absolute path instead of trusting PATH.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './process.js';
import { descendants, killAll, ppids, tail, tryKill } from '../../src/dev/procs.js';
import { ensurePrivsepDir, pickDockerCli, writeSshdFiles } from './sshd-config.js';
import { waitedFor, within } from '../../src/dev/wait.js';

const SSHD = '/usr/sbin/sshd';
const START_TIMEOUT_MS = 10_000;

export interface Sshd {
  /** temp dir (prefix "fleetgraph-sshd-") */
  dir: string;
  port: number;
  /** `ssh://root@127.0.0.1:${port}` */
  endpoint: string;
  /** the authorized client key (OpenSSH ed25519, no passphrase) */
  clientKey: string;
  /** also authorized: the same kind of key, encrypted with {@link passphrase} */
  passphraseKey: string;
  passphrase: string;
  /** a key sshd does not accept */
  wrongKey: string;
  /** the server's host public key, as OpenSSH writes it: `ssh-ed25519 AAAA… comment` */
  hostKey: string;
  /** a known_hosts file that trusts this server, and nothing else: `[127.0.0.1]:PORT ssh-ed25519 AAAA…` */
  knownHosts: string;
  /** the docker CLI the forced command runs */
  dockerCli: string;
  /** listener pid while running */
  pid(): number | undefined;
  /** pids of the per-connection sshd children (one per open SSH connection) */
  connections(): number[];
  /** kill every per-connection child (and its session processes); the listener keeps listening */
  dropConnections(): Promise<void>;
  /** (re)start the listener on the same port and files; resolves once it accepts TCP connections */
  start(): Promise<void>;
  /** stop the listener and every connection it serves; keeps the dir */
  stop(): Promise<void>;
  /** send a signal (e.g. SIGSTOP / SIGCONT) to the listener only; open connections are not affected */
  signal(sig: NodeJS.Signals): void;
  /** stop and rm -rf the dir. Idempotent. */
  destroy(): Promise<void>;
}

const live = new Set<SshdImpl>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const s of [...live]) s.destroySync();
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

class SshdImpl implements Sshd {
  readonly endpoint: string;
  readonly clientKey: string;
  readonly wrongKey: string;
  readonly passphraseKey: string;
  readonly passphrase = 'fleetgraph test passphrase';
  readonly knownHosts: string;
  hostKey = '';
  readonly config: string;
  readonly log: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private destroyed = false;

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly dockerCli: string,
  ) {
    this.endpoint = `ssh://root@127.0.0.1:${port}`;
    this.clientKey = join(dir, 'client_key');
    this.wrongKey = join(dir, 'wrong_key');
    this.passphraseKey = join(dir, 'passphrase_key');
    this.knownHosts = join(dir, 'known_hosts');
    this.config = join(dir, 'sshd_config');
    this.log = join(dir, 'sshd.log');
  }

  pid(): number | undefined {
    const c = this.child;
    if (!c || c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return undefined;
    return c.pid;
  }

  connections(): number[] {
    const pid = this.pid();
    if (pid === undefined) return [];
    return [...ppids()].filter(([, ppid]) => ppid === pid).map(([p]) => p);
  }

  signal(sig: NodeJS.Signals): void {
    const pid = this.pid();
    if (pid === undefined) throw new Error('sshd is not running');
    process.kill(pid, sig);
  }

  async dropConnections(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    tryKill(pid, 'SIGSTOP'); // no new connection children while we collect them
    await killAll(descendants(pid), () => tryKill(pid, 'SIGCONT'));
  }

  async start(): Promise<void> {
    if (this.destroyed) throw new Error('sshd: start() after destroy()');
    if (this.pid() !== undefined) return;
    ensurePrivsepDir();
    await rm(join(this.dir, 'sshd.pid'), { force: true });
    const logFd = openSync(this.log, 'a');
    let child: ChildProcess;
    try {
      child = spawn(SSHD, ['-D', '-e', '-f', this.config], { cwd: this.dir, detached: true, stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    child.unref();
    this.child = child;
    let exitInfo: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, sig) => {
        exitInfo = `exited with ${sig ?? `code ${code}`}`;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `could not be spawned: ${err.message}`;
        resolve();
      });
    });
    const accepting = async (): Promise<boolean> => {
      if (exitInfo !== undefined) throw new Error(`sshd ${exitInfo}.\n--- tail of ${this.log} ---\n${await tail(this.log, 30)}`);
      return canConnect(this.port);
    };
    if (await waitedFor(`sshd on 127.0.0.1:${this.port}`, accepting, START_TIMEOUT_MS, 50)) return;
    await this.stop();
    throw new Error(`sshd did not accept connections on 127.0.0.1:${this.port} within ${START_TIMEOUT_MS} ms.\n${await tail(this.log, 30)}`);
  }

  async stop(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    tryKill(pid, 'SIGSTOP');
    await killAll([...descendants(pid), pid], () => tryKill(pid, 'SIGCONT'));
    const exited = this.exited;
    if (exited) await within(exited, 2_000);
  }

  async destroy(): Promise<void> {
    try {
      await this.stop();
    } finally {
      this.destroyed = true;
      await rm(this.dir, { recursive: true, force: true });
      live.delete(this);
    }
  }

  destroySync(): void {
    this.destroyed = true;
    const pid = this.pid();
    if (pid !== undefined) {
      tryKill(pid, 'SIGSTOP');
      for (const p of [...descendants(pid), pid]) tryKill(p, 'SIGKILL');
    }
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
    live.delete(this);
  }
}

/**
 * Start a private sshd whose only authorized key runs `docker system dial-stdio` against the engine
 * listening on `engineSocket` (a filesystem path). On failure nothing is left behind.
 */
export async function startSshd(engineSocket: string): Promise<Sshd> {
  installExitHook();
  const dockerCli = await pickDockerCli();
  const dir = await mkdtemp(join(tmpdir(), 'fleetgraph-sshd-'));
  const port = await freePort();
  const sshd = new SshdImpl(dir, port, dockerCli);
  live.add(sshd);
  try {
    sshd.hostKey = await writeSshdFiles(sshd, engineSocket);
    // `sshd -t` checks the privilege-separation dir too, so it must exist before the config test.
    ensurePrivsepDir();
    execFileSync(SSHD, ['-t', '-f', sshd.config], { stdio: 'pipe', timeout: 10_000 });
    await sshd.start();
    return sshd;
  } catch (err) {
    await sshd.destroy().catch(() => undefined);
    throw err;
  }
}
