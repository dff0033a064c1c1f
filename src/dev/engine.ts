/**
 * Module: private Docker engines for the tests, the benchmarks and `npm run demo`: one dockerd
 * (20.10, API 1.41) per Engine, each with its own temp dir holding its API socket, data-root, exec-root
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
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DOCKERD, EngineImpl, register } from './engine-daemon.js';

export { destroyAllEnginesSync, liveEngines } from './engine-daemon.js';

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

/** sun_path is 108 bytes including the NUL. */
const MAX_SOCKET_PATH = 107;
/** Longest socket path dockerd/containerd create under DIR: DIR + this. */
const LONGEST_SOCKET_SUFFIX = '/exec/containerd/containerd-debug.sock';

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
  /** The dockerd executable; default $FLEETGRAPH_DOCKERD, else /usr/sbin/dockerd (Debian's docker.io). */
  dockerd?: string;
}

/** Create the dirs and start one private dockerd. On failure nothing is left behind. */
export async function startEngine(name: string, options: StartEngineOptions = {}): Promise<Engine> {
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) throw new Error(`bad engine name ${JSON.stringify(name)}`);
  const dir = await makeDir();
  const ns = `fg-${name}-${randomBytes(3).toString('hex')}`;
  const engine = new EngineImpl(name, dir, ns, [...(options.extraArgs ?? [])], options.dockerd ?? DEFAULT_DOCKERD);
  register(engine);
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
export async function startEngines(names: string[], options: StartEngineOptions = {}): Promise<Engine[]> {
  const results = await Promise.allSettled(names.map((n) => startEngine(n, options)));
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
