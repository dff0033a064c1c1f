/**
 * Module: the built CLI (dist/src/cli.js) as a process, for the e2e tests: `npm run build` once, then one
 * run per call with its stdout, stderr and exit code. The environment is the test's, without the
 * variables that would add hosts or tokens behind the test's back.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fleetEngines } from './provided.js';

const execFileP = promisify(execFile);
const ROOT = process.cwd();
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');

/** The real docker CLI on these machines. */
export const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p)) ?? 'docker';

export async function buildCli(): Promise<void> {
  await execFileP('npm', ['run', 'build'], { cwd: ROOT, timeout: 240_000 }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`npm run build failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node dist/src/cli.js ARGS` (or `command ARGS`), piped, killed after `timeoutMs`. */
export function cli(args: string[], options: { env?: NodeJS.ProcessEnv; command?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  const env = { ...process.env, ...options.env };
  for (const k of ['NODE_ENV', 'FLEETGRAPH_HOSTS', 'FLEETGRAPH_AUTH_TOKENS', 'DOCKER_HOST']) if (!options.env || !(k in options.env)) delete env[k];
  const child = options.command ? spawn(options.command, args, { cwd: ROOT, env }) : spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** --host flags for the three provided engines. */
export function hostArgs(): string[] {
  return fleetEngines().flatMap((e) => ['--host', `${e.name}=${e.endpoint}`]);
}

/** A table as the CLI prints it: cells are at least three spaces apart (none holds three spaces). */
export function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(/ {3,}/));
}
