/**
 * Module: one private dockerd and its lifecycle (start, stop, signal, destroy), and the registry of engines
 * this process has not destroyed yet, which a process 'exit' hook cleans up. See engine.ts for the
 * rules this keeps and what dockerd 20.10 needed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineRequest } from './engine-api.js';
import { pidsMentioning, stopThenRemoveDir, unmountUnderSync } from './engine-cleanup.js';
import type { Engine } from './engine.js';
import { killAll, tail, tryKill } from './procs.js';
import { waitedFor, within } from './wait.js';

/** Debian's docker.io (20.10, API 1.41); FLEETGRAPH_DOCKERD overrides. */
export const DEFAULT_DOCKERD = process.env['FLEETGRAPH_DOCKERD'] || '/usr/sbin/dockerd';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

const live = new Set<EngineImpl>();
let exitHookInstalled = false;

/** Registers an engine until it is destroyed, and makes sure the 'exit' hook is installed. */
export function register(engine: EngineImpl): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => destroyAllEnginesSync());
  }
  live.add(engine);
}

/**
 * Synchronous, best-effort emergency cleanup of every engine this process
 * started and has not destroyed yet: SIGKILL dockerd and its containerd,
 * umount -l, rm -rf. Meant for 'exit' / signal handlers, where async work
 * cannot finish. Installed on process 'exit' automatically.
 */
export function destroyAllEnginesSync(): void {
  for (const e of [...live]) {
    try {
      e.destroySync();
    } catch {
      // best effort
    }
  }
}

/** Engines of this process that are not destroyed yet. */
export function liveEngines(): Engine[] {
  return [...live];
}

export class EngineImpl implements Engine {
  readonly socket: string;
  readonly endpoint: string;
  readonly log: string;
  readonly pidfile: string;
  readonly configFile: string;
  private child: ChildProcess | undefined;
  private childExited: Promise<void> | undefined;
  private destroying: Promise<void> | undefined;
  private destroyed = false;

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly containerdNamespace: string,
    private readonly extraArgs: readonly string[] = [],
    private readonly dockerd = DEFAULT_DOCKERD,
  ) {
    this.socket = join(dir, 'docker.sock');
    this.endpoint = `unix://${this.socket}`;
    this.log = join(dir, 'dockerd.log');
    this.pidfile = join(dir, 'docker.pid');
    this.configFile = join(dir, 'daemon.json');
  }

  pid(): number | undefined {
    const c = this.child;
    if (!c || c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return undefined;
    return c.pid;
  }

  private args(): string[] {
    const d = this.dir;
    return [
      '--host', `unix://${this.socket}`,
      '--data-root', join(d, 'data'),
      '--exec-root', join(d, 'exec'),
      '--pidfile', this.pidfile,
      '--config-file', this.configFile,
      '--storage-driver', 'vfs',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--bridge=none',
      '--userland-proxy=false',
      '--containerd-namespace', this.containerdNamespace,
      '--containerd-plugins-namespace', `${this.containerdNamespace}-p`,
      ...this.extraArgs,
    ];
  }

  async start(): Promise<void> {
    if (this.destroyed) throw new Error(`engine ${this.name}: start() after destroy()`);
    if (this.pid() !== undefined) return;
    // Leftovers of a previous run of ours (e.g. after a SIGKILL): a stale pidfile
    // makes dockerd refuse to start; a surviving containerd would be adopted.
    await this.killStrays();
    await rm(this.pidfile, { force: true });
    // dockerd adopts the containerd named in this pidfile if kill(pid, 0) works —
    // which it does for a zombie (dockerd's containerd dies with it via
    // Pdeathsig, and an init that does not reap leaves it a zombie), and then
    // dockerd times out talking to it. No containerd of ours is alive here.
    await rm(join(this.dir, 'exec', 'containerd', 'containerd.pid'), { force: true });

    const logFd = openSync(this.log, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.dockerd, this.args(), {
        cwd: this.dir,
        detached: true, // own session + process group
        stdio: ['ignore', logFd, logFd],
        env: {
          ...process.env,
          PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${process.env['PATH'] ? ':' + process.env['PATH'] : ''}`,
        },
      });
    } finally {
      closeSync(logFd);
    }
    child.unref();
    this.child = child;
    let exitInfo: string | undefined;
    let spawnError: Error | undefined;
    this.childExited = new Promise<void>((resolve) => {
      child.once('exit', (code, sig) => {
        exitInfo = `exited with ${sig ?? `code ${code}`}`;
        resolve();
      });
      child.once('error', (err) => {
        spawnError = err;
        exitInfo = `could not be spawned: ${err.message}`;
        resolve();
      });
    });

    let lastError = 'no answer yet';
    const answered = async (): Promise<boolean> => {
      if (exitInfo !== undefined || spawnError) {
        await this.killStrays();
        throw new Error(`engine ${this.name}: dockerd ${exitInfo} before answering /_ping.\n--- tail of ${this.log} ---\n${await tail(this.log)}`);
      }
      try {
        const res = await engineRequest(this.socket, 'GET', '/_ping', undefined, undefined, { timeoutMs: 2_000 });
        if (res.status === 200 && res.body.toString('utf8') === 'OK') return true;
        lastError = `HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      return false;
    };
    if (await waitedFor(`engine ${this.name} to answer /_ping`, answered, START_TIMEOUT_MS)) return;
    const logTail = await tail(this.log);
    await this.stop().catch(() => undefined);
    throw new Error(
      `engine ${this.name}: GET /_ping on ${this.socket} did not answer OK within ${START_TIMEOUT_MS / 1000} s ` +
        `(last: ${lastError}).\n--- tail of ${this.log} ---\n${logTail}`,
    );
  }

  async stop(): Promise<void> {
    const pid = this.pid();
    // containerd writes /tmp/containerd.PID.stacks.log when it is told to dump its stacks on the way
    // down; remove those of ours so test runs leave nothing in /tmp.
    const helpers = pidsMentioning(this.dir + '/', new Set(pid === undefined ? [] : [pid]));
    if (pid !== undefined) {
      tryKill(pid, 'SIGTERM');
      tryKill(pid, 'SIGCONT'); // a SIGSTOPped dockerd would never see the SIGTERM
      const exited = this.childExited!;
      if (!(await within(exited, STOP_TIMEOUT_MS))) {
        tryKill(pid, 'SIGKILL');
        await within(exited, 5_000);
      }
    }
    await this.killStrays();
    await Promise.all(helpers.map((p) => rm(join(tmpdir(), `containerd.${p}.stacks.log`), { force: true })));
  }

  signal(sig: NodeJS.Signals): void {
    const pid = this.pid();
    if (pid === undefined) throw new Error(`engine ${this.name}: dockerd is not running`);
    process.kill(pid, sig);
  }

  /**
   * Kill daemon processes (other than a running dockerd of ours) whose command
   * line names our unique directory: the containerd (and any shims) that our
   * dockerd spawned and that outlived it.
   */
  private async killStrays(): Promise<void> {
    const exclude = new Set<number>();
    const own = this.pid();
    if (own !== undefined) exclude.add(own);
    const strays = pidsMentioning(this.dir + '/', exclude);
    if (strays.length > 0) await killAll(strays, undefined, 5_000);
  }

  destroy(): Promise<void> {
    this.destroying ??= stopThenRemoveDir(
      () => this.stop(),
      this.dir,
      () => (this.destroyed = true),
      () => live.delete(this),
    );
    return this.destroying;
  }

  /** See {@link destroyAllEnginesSync}. */
  destroySync(): void {
    if (this.destroyed && !live.has(this)) return;
    this.destroyed = true;
    const pid = this.pid();
    if (pid !== undefined) tryKill(pid, 'SIGKILL');
    for (const p of pidsMentioning(this.dir + '/', new Set())) tryKill(p, 'SIGKILL');
    unmountUnderSync(this.dir);
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    live.delete(this);
  }
}
