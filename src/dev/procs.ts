/**
 * Module: /proc reading and signalling shared by the daemon harnesses (engine.ts, test/helpers/sshd.ts). They only ever
 * signal pids they spawned or found as descendants / by their own unique directory; nothing here
 * looks processes up by name.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { waitedFor } from './wait.js';

export function tryKill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function procCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** The state letter and ppid from /proc/PID/stat (after the parenthesised comm, which may hold spaces). */
function procStat(pid: number | string): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

const isLive = (state: string) => state !== 'Z' && state !== 'X';

/** Alive = exists and is not a zombie. */
export function procAlive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && isLive(s.state);
}

/** Numeric /proc entries (every pid we can see). */
export function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map(Number);
  } catch {
    return [];
  }
}

/** pid -> ppid for every live, non-zombie process. */
export function ppids(): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of allPids()) {
    const s = procStat(pid);
    if (s && isLive(s.state)) out.set(pid, s.ppid);
  }
  return out;
}

/** Every descendant of `root` (not root itself), parents before children. */
export function descendants(root: number): number[] {
  const table = ppids();
  const out: number[] = [];
  for (let frontier = [root]; frontier.length; out.push(...frontier)) {
    const parents = frontier;
    frontier = [...table].filter(([, ppid]) => parents.includes(ppid)).map(([pid]) => pid);
  }
  return out;
}

/** SIGTERM `pids`, run `then` (e.g. SIGCONT a stopped parent), wait, SIGKILL what is left. */
export async function killAll(pids: number[], then: () => void = () => undefined, termMs = 3_000): Promise<void> {
  const gone = () => pids.every((p) => !procAlive(p));
  for (const p of pids) tryKill(p, 'SIGTERM');
  then();
  if (!(await waitedFor('processes to exit', gone, termMs, 25))) {
    for (const p of pids) if (procAlive(p)) tryKill(p, 'SIGKILL');
    await waitedFor('processes to exit after SIGKILL', gone, 2_000, 25);
  }
}

/** The last lines of a daemon's log, for error messages. */
export async function tail(file: string, lines = 40): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(no log: ${(err as Error).message})`;
  }
}
