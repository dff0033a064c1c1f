/**
 * What test/helpers/global-setup.ts hands to the test files (vitest
 * `project.provide` -> `inject`), with its types declared on vitest's
 * ProvidedContext. Import the helpers below (or `inject('fleetSeed')` after
 * importing this module for its types).
 *
 * The provided engines are shared by every integration test file of the run:
 * read from them freely, but don't stop, signal or mutate them. A test that
 * needs to stop / SIGSTOP / restart an engine or change its images starts its
 * own with startEngine() from src/dev/engine.ts and destroys it in afterAll.
 */
import { inject } from 'vitest';
import type { FleetSeed, HostName } from './fleet.js';

export interface ProvidedEngine {
  name: HostName;
  /** unix socket path */
  socket: string;
  /** `unix://${socket}` */
  endpoint: string;
  dir: string;
  /** dockerd pid at setup time (do not signal: shared) */
  pid: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    fleetEngines: ProvidedEngine[];
    fleetSeed: FleetSeed;
  }
}

/** The three seeded engines, in the order alpha, beta, gamma. */
export function fleetEngines(): ProvidedEngine[] {
  const engines = inject('fleetEngines');
  if (!engines) {
    throw new Error('no fleet engines provided: is test/helpers/global-setup.ts the globalSetup of this vitest project?');
  }
  return engines;
}

/** One seeded engine by name. */
export function fleetEngine(name: HostName): ProvidedEngine {
  const e = fleetEngines().find((x) => x.name === name);
  if (!e) throw new Error(`no provided engine named ${name}`);
  return e;
}

/** The description of what was seeded (see test/helpers/fleet.ts). */
export function fleetSeed(): FleetSeed {
  const seed = inject('fleetSeed');
  if (!seed) throw new Error('no fleet seed provided');
  return seed;
}
