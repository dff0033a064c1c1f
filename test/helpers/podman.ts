/**
 * Module: private Podman hosts for tests. Each runs Debian's podman (4.3) as root, serving the Docker-compatible
 * Engine API with `podman system service` on DIR/podman.sock, with everything in its own temp dir: storage (vfs),
 * run root, libpod's tmp dir, the events log (the `file` backend: durable across restarts), containers.conf,
 * storage.conf and a registries.conf with no search registries, so a short name is never resolved against a
 * registry (nothing is ever pulled: images come from `POST /images/load` of a harness engine's docker-save tar, or
 * an import). Networking is CNI with its config and plugin dirs in DIR and containers default to `netns = "none"`,
 * so nothing is written under /run/containers or /etc/cni (netavark, the default, creates /run/containers/networks).
 * One thing podman 4.3 as root still writes outside: c/image's blob-info cache, /var/lib/containers/cache (a fixed
 * path for root, not configurable), on the first load or import.
 *
 * Shaped like the harness's dockerd engines (engine.ts): `name`, `dir`, `socket`, `endpoint`, `pid()`, `start()`,
 * `stop()` (the service only; dirs kept, `start()` again serves the same storage and event log) and `destroy()`
 * (stop, unmount anything under DIR, rm -rf DIR). Only the pid spawned here and its descendants are ever signalled;
 * a process 'exit' hook cleans up whatever a crashed run left.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { engineRequest } from '../../src/dev/engine-api.js';
import { stopThenRemoveDir, unmountUnderSync } from '../../src/dev/engine-cleanup.js';
import { buildImageTar, createContainer, importImage, loadImages, saveAndLoad } from '../../src/dev/images.js';
import { descendants, killAll, tail, tryKill } from '../../src/dev/procs.js';
import { waitedFor, within } from '../../src/dev/wait.js';

const execFileP = promisify(execFile);
/** Debian's podman; FLEETGRAPH_PODMAN overrides. */
const PODMAN = process.env['FLEETGRAPH_PODMAN'] || '/usr/bin/podman';
const START_TIMEOUT_MS = 30_000;
/**
 * A host deadline for Podman hosts in tests: Podman 4.3's /version (and /info) asks dpkg for the package versions of
 * conmon, runc and slirp4netns on every call, which takes seconds on a loaded machine (6-7 s seen here).
 */
export const PODMAN_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface PodmanHost {
  /** e.g. "pod" */
  name: string;
  /** temp dir (mkdtemp under /tmp, prefix "fleetgraph-podman-") */
  dir: string;
  /** DIR/podman.sock */
  socket: string;
  /** `unix://${socket}` */
  endpoint: string;
  /** the service's pid while it runs */
  pid(): number | undefined;
  /** (re)start the API service on the same storage; resolves once GET /_ping answers OK */
  start(): Promise<void>;
  /** SIGTERM the service (and what it started), wait (10 s, then SIGKILL); keeps dirs */
  stop(): Promise<void>;
  /** stop, unmount anything under dir, rm -rf dir. Idempotent. */
  destroy(): Promise<void>;
  /** Runs the podman CLI on this host's storage and event log (as a user on the host would); resolves to stdout. */
  cli(args: string[]): Promise<string>;
}

const live = new Set<PodmanImpl>();
let exitHookInstalled = false;

/** Synchronous best-effort cleanup of every Podman host of this process (for 'exit' and signal handlers). */
export function destroyAllPodmanSync(): void {
  for (const p of [...live]) {
    try {
      p.destroySync();
    } catch {
      // best effort
    }
  }
}

class PodmanImpl implements PodmanHost {
  readonly socket: string;
  readonly endpoint: string;
  private readonly log: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private destroying: Promise<void> | undefined;
  private destroyed = false;

  constructor(
    readonly name: string,
    readonly dir: string,
  ) {
    this.socket = join(dir, 'podman.sock');
    this.endpoint = `unix://${this.socket}`;
    this.log = join(dir, 'service.log');
  }

  /** The environment and global flags that keep podman inside DIR (no /etc/containers/*.conf, no registries). */
  private env(): NodeJS.ProcessEnv {
    const d = this.dir;
    return {
      PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOME: d,
      TMPDIR: join(d, 'tmp'),
      CONTAINERS_CONF: join(d, 'containers.conf'),
      CONTAINERS_REGISTRIES_CONF: join(d, 'registries.conf'),
      CONTAINERS_STORAGE_CONF: join(d, 'storage.conf'),
    };
  }

  globalArgs(): string[] {
    const d = this.dir;
    return ['--root', join(d, 'root'), '--runroot', join(d, 'run'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--tmpdir', join(d, 'tmp')];
  }

  async writeConfig(): Promise<void> {
    const d = this.dir;
    await mkdir(join(d, 'tmp'), { recursive: true });
    await mkdir(join(d, 'cni'), { recursive: true });
    await writeFile(join(d, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${d}/root"\nrunroot = "${d}/run"\n`);
    await writeFile(join(d, 'registries.conf'), `unqualified-search-registries = []\nshort-name-mode = "disabled"\n`);
    await writeFile(
      join(d, 'containers.conf'),
      [
        '[containers]',
        'netns = "none"',
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${d}/events.log"`,
        `image_copy_tmp_dir = "${d}/tmp"`,
        `static_dir = "${d}/root/libpod"`,
        `volume_path = "${d}/root/volumes"`,
        '[network]',
        'network_backend = "cni"',
        `network_config_dir = "${d}/cni"`,
        // No plugins (containers use netns "none"): the same whether or not containernetworking-plugins is installed.
        `cni_plugin_dirs = ["${d}/cni"]`,
        '',
      ].join('\n'),
    );
  }

  pid(): number | undefined {
    const c = this.child;
    if (!c || c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return undefined;
    return c.pid;
  }

  async start(): Promise<void> {
    if (this.destroyed) throw new Error(`podman ${this.name}: start() after destroy()`);
    if (this.pid() !== undefined) return;
    await rm(this.socket, { force: true });
    const logFd = openSync(this.log, 'a');
    let child: ChildProcess;
    try {
      const args = [...this.globalArgs(), 'system', 'service', '--time=0', this.endpoint];
      child = spawn(PODMAN, args, { cwd: this.dir, detached: true, stdio: ['ignore', logFd, logFd], env: this.env() });
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
    const answered = async (): Promise<boolean> => {
      if (exitInfo !== undefined) throw new Error(`podman ${this.name}: service ${exitInfo} before answering /_ping.\n${await tail(this.log)}`);
      const res = await engineRequest(this.socket, 'GET', '/_ping', undefined, undefined, { timeoutMs: 2_000 }).catch(() => undefined);
      return res?.status === 200 && res.body.toString('utf8') === 'OK';
    };
    if (await waitedFor(`podman ${this.name} to answer /_ping`, answered, START_TIMEOUT_MS)) return;
    const logTail = await tail(this.log);
    await this.stop().catch(() => undefined);
    throw new Error(`podman ${this.name}: GET /_ping did not answer OK within ${START_TIMEOUT_MS / 1000} s.\n${logTail}`);
  }

  async stop(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    const children = descendants(pid);
    tryKill(pid, 'SIGTERM');
    tryKill(pid, 'SIGCONT');
    if (!(await within(this.exited!, STOP_TIMEOUT_MS))) {
      tryKill(pid, 'SIGKILL');
      await within(this.exited!, 5_000);
    }
    if (children.length > 0) await killAll(children, undefined, 3_000);
  }

  async cli(args: string[]): Promise<string> {
    const { stdout } = await execFileP(PODMAN, [...this.globalArgs(), ...args], { cwd: this.dir, env: this.env(), maxBuffer: 16 * 1024 * 1024 });
    return stdout;
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

  destroySync(): void {
    this.destroyed = true;
    const pid = this.pid();
    if (pid !== undefined) {
      for (const p of descendants(pid)) tryKill(p, 'SIGKILL');
      tryKill(pid, 'SIGKILL');
    }
    unmountUnderSync(this.dir);
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    live.delete(this);
  }
}

/** Creates the dir and config, starts the API service. On failure nothing is left behind. */
export async function startPodman(name: string): Promise<PodmanHost> {
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) throw new Error(`bad podman host name ${JSON.stringify(name)}`);
  // Under /tmp, not os.tmpdir(): unix socket paths must stay under 108 bytes.
  const host = new PodmanImpl(name, await mkdtemp('/tmp/fleetgraph-podman-'));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => destroyAllPodmanSync());
  }
  live.add(host);
  try {
    await host.writeConfig();
    await host.start();
    return host;
  } catch (err) {
    await host.destroy().catch(() => undefined);
    throw err;
  }
}

/** What {@link seedPodman} put on a Podman host. */
export interface PodmanSeed {
  /** Image IDs ("sha256:…") of the own loaded images, the imported one and the container's. */
  ids: { app: string; dangling: string; imported: string };
  containerId: string;
}

/**
 * Seeds a Podman host the way the dockerd fleet is seeded, never pulling: `refs` copied from a harness engine
 * (GET /images/get there, POST /images/load here: a real dockerd's docker-save tar), a built tar with a tagged and a
 * dangling image (labels with "=" and empty values), one import, and one created (never started) container.
 */
export async function seedPodman(host: PodmanHost, from?: { socket: string; refs: string[] }): Promise<PodmanSeed> {
  if (from && from.refs.length > 0) await saveAndLoad(from.socket, host.socket, from.refs);
  const { tar, ids } = await buildImageTar([
    {
      layers: [{ files: { 'pod/app.txt': 'podman app\n' } }],
      created: '2024-10-01T10:00:00.5Z',
      labels: { tier: 'pod', 'com.example.expr': 'a=b=c', 'com.example.empty': '' },
      tags: ['pod/app:1', 'pod/app:latest'],
    },
    { layers: [{ files: { 'pod/old.txt': 'old\n' } }], created: '2024-09-01T09:00:00Z', labels: { stale: 'true' }, tags: [] },
  ]);
  await loadImages(host.socket, tar);
  // Podman 4.3's compat import keeps the repository but not the tag: this one is listed as docker.io/pod/imported:latest.
  const imported = await importImage(host.socket, { tag: 'pod/imported:v1', label: { origin: 'import' } });
  const containerId = await createContainer(host.socket, 'pod/app:1', 'fg-pod-app');
  return { ids: { app: ids[0]!, dangling: ids[1]!, imported }, containerId };
}
