/**
 * Private Docker engines for tests: one dockerd (20.10, API 1.41) per Engine,
 * each with its own temp dir holding its API socket, data-root, exec-root
 * (where its own containerd lives), pidfile, config file, trust key and log.
 *
 * Rules this module keeps:
 *  - it only signals pids it spawned itself, or containerd / shim / runc
 *    processes whose command line names this engine's own (unique, mkdtemp'd)
 *    directory — i.e. the ones that our dockerd spawned;
 *  - it only unmounts mount points at or under its own directory;
 *  - every engine is registered until destroyed, and a process 'exit' hook
 *    kills + unmounts + removes whatever is left (synchronously), so a crashed
 *    or interrupted run does not leak daemons or mounts.
 *
 * Notes on dockerd 20.10 found while writing this:
 *  - without a config file it reads /etc/docker/daemon.json, and it writes its
 *    libtrust key (which is the engine ID that /info reports) to
 *    /etc/docker/key.json, shared by every daemon on the machine. The per-engine
 *    config file therefore sets "deprecated-key-path" (there is no CLI flag
 *    for it in this build) so each engine has its own ID and nothing is
 *    written to /etc.
 *  - dockerd bind-mounts its data-root onto itself; a clean SIGTERM undoes
 *    that, a SIGKILL does not (destroy() unmounts it).
 *  - dockerd starts containerd in its own session; a graceful dockerd stop
 *    also stops containerd, a SIGKILLed dockerd leaves it running (stop()
 *    kills it).
 */
import { spawn, execFileSync, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readdirSync, realpathSync, rmSync, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { engineRequest } from './engine-api.js';

const execFileP = promisify(execFile);

export interface Engine {
  /** e.g. "alpha" */
  name: string;
  /** temp dir (mkdtemp under os.tmpdir(), prefix "fleetgraph-engine-") */
  dir: string;
  /** DIR/docker.sock */
  socket: string;
  /** `unix://${socket}` */
  endpoint: string;
  /** containerd namespace used by this engine (fg-NAME-RAND) */
  containerdNamespace: string;
  /** dockerd pid while running, else undefined */
  pid(): number | undefined;
  /** (re)start dockerd with the same dirs; resolves once GET /_ping answers OK */
  start(): Promise<void>;
  /** SIGTERM dockerd, wait for exit (10 s, then SIGKILL); keeps dirs */
  stop(): Promise<void>;
  /** send a signal (e.g. SIGSTOP / SIGCONT) to the dockerd pid only */
  signal(sig: NodeJS.Signals): void;
  /** stop, unmount anything under dir, rm -rf dir. Idempotent. */
  destroy(): Promise<void>;
}

/** Debian's docker.io (20.10, API 1.41); FLEETGRAPH_DOCKERD overrides. */
const DOCKERD = process.env['FLEETGRAPH_DOCKERD'] || '/usr/sbin/dockerd';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/** sun_path is 108 bytes including the NUL. */
const MAX_SOCKET_PATH = 107;
/** Longest socket path dockerd/containerd create under DIR: DIR + this. */
const LONGEST_SOCKET_SUFFIX = '/exec/containerd/containerd-debug.sock';

const live = new Set<EngineImpl>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => destroyAllEnginesSync());
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

// ---------------------------------------------------------------- /proc utils

function procCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** Alive = exists and is not a zombie. */
function procAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Executables that our dockerd may leave behind (its containerd, shims, runc, proxies). */
const DAEMON_EXES = new Set([
  'dockerd',
  'containerd',
  'containerd-shim',
  'containerd-shim-runc-v1',
  'containerd-shim-runc-v2',
  'runc',
  'docker-proxy',
]);

/**
 * Pids (other than `exclude`) of daemon processes (see DAEMON_EXES) whose
 * command line mentions `marker` — our unique engine dir — so they can only
 * have been spawned by our own dockerd. A shell or `tail -f` that merely
 * mentions the dir is never matched.
 */
function pidsMentioning(marker: string, exclude: Set<number>): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const ent of entries) {
    if (!/^\d+$/.test(ent)) continue;
    const pid = Number(ent);
    if (pid === process.pid || exclude.has(pid)) continue;
    const cmd = procCmdline(pid);
    if (!cmd || !cmd.includes(marker)) continue;
    const exe = (cmd.split(' ')[0] ?? '').split('/').pop() ?? '';
    if (DAEMON_EXES.has(exe) && procAlive(pid)) out.push(pid);
  }
  return out;
}

function tryKill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function decodeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points at or under `dir`, deepest (then most recently mounted) first. */
function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const found: Array<{ mp: string; id: number }> = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mp = decodeMountPath(f[4]!);
    if (mp === dir || mp.startsWith(dir + '/')) found.push({ mp, id: Number(f[0]) });
  }
  found.sort((a, b) => b.mp.split('/').length - a.mp.split('/').length || b.id - a.id);
  return found.map((x) => x.mp);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves true when `p` settles within `ms`, false otherwise; leaves no timer behind. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => true),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await sleep(stepMs);
  }
  return cond();
}

async function tail(file: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(no log: ${(err as Error).message})`;
  }
}

// ---------------------------------------------------------------- the engine

class EngineImpl implements Engine {
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
      child = spawn(DOCKERD, this.args(), {
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

    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError = 'no answer yet';
    while (true) {
      if (exitInfo !== undefined || spawnError) {
        await this.killStrays();
        throw new Error(
          `engine ${this.name}: dockerd ${exitInfo} before answering /_ping.\n--- tail of ${this.log} ---\n${await tail(this.log)}`,
        );
      }
      try {
        const res = await engineRequest(this.socket, 'GET', '/_ping', undefined, undefined, { timeoutMs: 2_000 });
        if (res.status === 200 && res.body.toString('utf8') === 'OK') return;
        lastError = `HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (Date.now() > deadline) break;
      await sleep(100);
    }
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
    if (strays.length === 0) return;
    for (const p of strays) tryKill(p, 'SIGTERM');
    const gone = await waitFor(() => strays.every((p) => !procAlive(p)), 5_000);
    if (!gone) {
      for (const p of strays) if (procAlive(p)) tryKill(p, 'SIGKILL');
      await waitFor(() => strays.every((p) => !procAlive(p)), 2_000);
    }
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      try {
        await this.stop();
      } finally {
        this.destroyed = true;
        let real = this.dir;
        try {
          real = await realpath(this.dir);
        } catch {
          // already gone
        }
        for (let pass = 0; pass < 5; pass++) {
          const mps = [...new Set([...mountsUnder(real), ...mountsUnder(this.dir)])];
          if (mps.length === 0) break;
          for (const mp of mps) await execFileP('umount', ['-l', mp]).catch(() => undefined);
        }
        await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
        live.delete(this);
      }
    })();
    return this.destroying;
  }

  /** See {@link destroyAllEnginesSync}. */
  destroySync(): void {
    if (this.destroyed && !live.has(this)) return;
    this.destroyed = true;
    const pid = this.pid();
    if (pid !== undefined) tryKill(pid, 'SIGKILL');
    for (const p of pidsMentioning(this.dir + '/', new Set())) tryKill(p, 'SIGKILL');
    let real = this.dir;
    try {
      real = realpathSync(this.dir);
    } catch {
      // gone
    }
    for (let pass = 0; pass < 5; pass++) {
      const mps = [...new Set([...mountsUnder(real), ...mountsUnder(this.dir)])];
      if (mps.length === 0) break;
      for (const mp of mps) {
        try {
          execFileSync('umount', ['-l', mp], { stdio: 'ignore' });
        } catch {
          // best effort
        }
      }
    }
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    live.delete(this);
  }
}

async function makeDir(): Promise<string> {
  let base = tmpdir();
  if (base.length + '/fleetgraph-engine-XXXXXX'.length + LONGEST_SOCKET_SUFFIX.length > MAX_SOCKET_PATH) {
    base = '/tmp'; // keep unix socket paths under the 108-byte limit
  }
  return mkdtemp(join(base, 'fleetgraph-engine-'));
}

export interface StartEngineOptions {
  /**
   * More dockerd arguments, appended after the harness's own (which include the unix socket the
   * harness pings), kept across stop()/start(). E.g. a TLS listener:
   * `['--host', 'tcp://127.0.0.1:PORT', '--tlsverify', '--tlscacert', CA, '--tlscert', CERT, '--tlskey', KEY]`.
   */
  extraArgs?: string[];
}

/** Create the dirs and start one private dockerd. On failure nothing is left behind. */
export async function startEngine(name: string, options: StartEngineOptions = {}): Promise<Engine> {
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) throw new Error(`bad engine name ${JSON.stringify(name)}`);
  installExitHook();
  const dir = await makeDir();
  const ns = `fg-${name}-${randomBytes(3).toString('hex')}`;
  const engine = new EngineImpl(name, dir, ns, [...(options.extraArgs ?? [])]);
  live.add(engine);
  try {
    await writeFile(
      engine.configFile,
      JSON.stringify(
        {
          // per-engine trust key => per-engine /info ID, and nothing written to /etc/docker
          'deprecated-key-path': join(dir, 'key.json'),
          labels: [`fleetgraph.engine=${name}`],
        },
        null,
        2,
      ) + '\n',
    );
    await engine.start();
    return engine;
  } catch (err) {
    await engine.destroy().catch(() => undefined);
    throw err;
  }
}

/** Start several engines in parallel. If any fails, the others are destroyed and the error is thrown. */
export async function startEngines(names: string[]): Promise<Engine[]> {
  const results = await Promise.allSettled(names.map((n) => startEngine(n)));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0) {
    await Promise.all(
      results.map((r) => (r.status === 'fulfilled' ? r.value.destroy().catch(() => undefined) : undefined)),
    );
    const msgs = failures.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason)));
    throw new Error(`startEngines(${names.join(', ')}) failed:\n${msgs.join('\n\n')}`);
  }
  return results.map((r) => (r as PromiseFulfilledResult<Engine>).value);
}
