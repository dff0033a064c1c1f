import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export { waitFor } from '../../src/dev/wait.js';

/** A free loopback port (bound and released; fine for tests that start their own server right away). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Signals the whole process group we started (npm, its shell, node). */
  signal(sig: NodeJS.Signals): void;
}

export function spawnGroup(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Spawned {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    signal(sig) {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    },
  };
}
