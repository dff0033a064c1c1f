/**
 * Module: what an engine leaves behind and how it is found: daemon processes whose command line names the
 * engine's unique directory, and mount points under that directory. Only those are ever signalled or
 * unmounted (see engine.ts).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { realpath, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { allPids, procAlive, procCmdline } from './procs.js';

const execFileP = promisify(execFile);

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
export function pidsMentioning(marker: string, exclude: Set<number>): number[] {
  const out: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid || exclude.has(pid)) continue;
    const cmd = procCmdline(pid);
    if (!cmd || !cmd.includes(marker)) continue;
    const exe = (cmd.split(' ')[0] ?? '').split('/').pop() ?? '';
    if (DAEMON_EXES.has(exe) && procAlive(pid)) out.push(pid);
  }
  return out;
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

/** Mount points under `dir` by its given and its real path (dockerd may mount either). */
function mountsOf(dir: string, real: string): string[] {
  return [...new Set([...mountsUnder(real), ...mountsUnder(dir)])];
}

/** umount -l everything at or under `dir`, a few passes (lazily detached mounts can uncover others). */
export async function unmountUnder(dir: string): Promise<void> {
  const real = await realpath(dir).catch(() => dir);
  for (let pass = 0; pass < 5; pass++) {
    const mps = mountsOf(dir, real);
    if (mps.length === 0) break;
    for (const mp of mps) await execFileP('umount', ['-l', mp]).catch(() => undefined);
  }
}

/** {@link unmountUnder}, synchronously (for process 'exit' hooks). */
export function unmountUnderSync(dir: string): void {
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    // gone
  }
  for (let pass = 0; pass < 5; pass++) {
    const mps = mountsOf(dir, real);
    if (mps.length === 0) break;
    for (const mp of mps) {
      try {
        execFileSync('umount', ['-l', mp], { stdio: 'ignore' });
      } catch {
        // best effort
      }
    }
  }
}

/**
 * A private daemon's destroy (dockerd here, Podman in the tests): stop it, whatever that throws; then
 * `stopped()`, unmount and remove its dir, and `removed()`.
 */
export async function stopThenRemoveDir(stop: () => Promise<void>, dir: string, stopped: () => void, removed: () => void): Promise<void> {
  try {
    await stop();
  } finally {
    stopped();
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    removed();
  }
}
