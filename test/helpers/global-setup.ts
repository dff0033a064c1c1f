/**
 * Vitest globalSetup for the integration project: starts three private
 * engines (alpha, beta, gamma) once per run, seeds them (./fleet.ts) and
 * provides their sockets and the seed to the test files (see ./provided.ts).
 *
 * Cleanup: the returned teardown destroys the engines; if setup fails halfway
 * whatever was started is destroyed before the error is rethrown; on
 * SIGINT / SIGTERM (where vitest exits without running teardowns) and on any
 * other process exit, src/dev/engine.ts's synchronous emergency cleanup kills the
 * daemons, unmounts and removes their dirs.
 */
import type { TestProject } from 'vitest/node';
import { destroyAllEnginesSync, startEngines, type Engine } from '../../src/dev/engine.js';
import { seedFleet, HOST_NAMES } from './fleet.js';
import type { ProvidedEngine } from './provided.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  let engines: Engine[] = [];

  const onSignal = (sig: NodeJS.Signals) => {
    destroyAllEnginesSync();
    // vitest's own handler normally exits right after; make sure we do too
    process.exitCode ??= sig === 'SIGINT' ? 130 : 143;
    setTimeout(() => process.exit(), 50);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const removeSignalHandlers = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };

  try {
    engines = await startEngines([...HOST_NAMES]);
    const started = Date.now();
    const seed = await seedFleet(engines);
    const provided: ProvidedEngine[] = engines.map((e) => ({
      name: e.name as ProvidedEngine['name'],
      socket: e.socket,
      endpoint: e.endpoint,
      dir: e.dir,
      pid: e.pid()!,
    }));
    project.provide('fleetEngines', provided);
    project.provide('fleetSeed', seed);
    console.log(
      `[fleetgraph] engines ${engines.map((e) => `${e.name}=${e.endpoint}`).join(' ')} ` +
        `started in ${started - t0} ms, seeded in ${Date.now() - started} ms`,
    );
  } catch (err) {
    await Promise.all(engines.map((e) => e.destroy().catch(() => undefined)));
    destroyAllEnginesSync();
    removeSignalHandlers();
    throw err;
  }

  return async () => {
    try {
      await Promise.all(engines.map((e) => e.destroy()));
    } finally {
      removeSignalHandlers();
    }
  };
}
