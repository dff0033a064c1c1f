/**
 * Module: what `npm run demo` needs before it starts engines (a dockerd executable, root), and what to tell
 * a newcomer when it is missing. No side effects: the demo script prints the problems and exits 2.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The dockerd the demo runs: $FLEETGRAPH_DOCKERD when set, else the first `dockerd` on PATH. */
export function findDockerd(env: NodeJS.ProcessEnv): string | undefined {
  const candidates = env['FLEETGRAPH_DOCKERD'] ? [env['FLEETGRAPH_DOCKERD']] : (env['PATH'] ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'dockerd'));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

export const MISSING_DOCKERD = [
  'dockerd (the Docker engine daemon) was not found on PATH.',
  'The demo starts its own private engines, so it needs the dockerd executable (a running Docker service is not needed, nor used).',
  'On Debian or Ubuntu: sudo apt-get install docker.io',
  'Elsewhere, install Docker Engine, or set FLEETGRAPH_DOCKERD to the path of a dockerd executable.',
].join('\n');

export const NOT_ROOT = [
  'dockerd needs root, and this user is not root.',
  'Run the demo as root: sudo npm run demo (its engines keep to their own sockets and temp dirs; /var/lib/docker is not touched).',
  'A rootless Docker setup (dockerd-rootless-setuptool.sh) runs dockerd without root, but the demo does not drive one.',
].join('\n');

export interface Preflight {
  dockerd?: string;
  /** messages for the user, one paragraph each; empty when the demo can start */
  problems: string[];
}

export function preflight(env: NodeJS.ProcessEnv, uid: number | undefined): Preflight {
  const dockerd = findDockerd(env);
  const problems: string[] = [];
  if (dockerd === undefined) {
    problems.push(env['FLEETGRAPH_DOCKERD'] ? `FLEETGRAPH_DOCKERD=${env['FLEETGRAPH_DOCKERD']} is not an executable file.\n${MISSING_DOCKERD}` : MISSING_DOCKERD);
  }
  if (uid !== 0) problems.push(NOT_ROOT);
  return dockerd === undefined ? { problems } : { dockerd, problems };
}
