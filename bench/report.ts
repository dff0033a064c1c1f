/**
 * Module: what every benchmark does at its end: write its report to bench/results/ (and stdout), fail the run
 * when a check was missed, and stop the gateway it spawned.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verdict, type Check } from './checks.js';
import type { spawnGroup } from '../test/helpers/process.js';

export function writeReport(file: string, report: string, checks: readonly Check[]): void {
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${file}`, report);
  process.stdout.write(report);
  if (verdict(checks) !== 'PASS') process.exitCode = 1;
}

/** SIGTERM, 5 s to finish, then SIGKILL: only the process group this benchmark started. */
export async function stopGateway(server: ReturnType<typeof spawnGroup> | undefined): Promise<void> {
  server?.signal('SIGTERM');
  if (server) await Promise.race([server.exited, new Promise((r) => setTimeout(r, 5000))]);
  server?.signal('SIGKILL');
}
