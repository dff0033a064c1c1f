import { HostError } from '../docker/errors.js';
import type { InventorySource } from '../docker/source.js';
import { table } from './format.js';
import type { Progress } from './progress.js';

/**
 * Module: `fleetgraph hosts`, every configured host checked at once: /version and /images/json, as the
 * gateway itself calls them, so a host that is up here answers queries too.
 */

export interface HostCheck {
  name: string;
  /** "UP", or the host's error code (HOST_UNREACHABLE, HOST_TIMEOUT, …). */
  status: string;
  /** Why it is down, naming no address or path (the API's HostError message). */
  message: string | null;
  /** The Engine API version spoken with the host (the lower of its and ours). */
  apiVersion: string | null;
  engineVersion: string | null;
  /** The highest Engine API version the engine speaks. */
  engineApiVersion: string | null;
  images: number | null;
  /** Until both calls answered (or the first failed), in milliseconds. */
  latencyMs: number;
}

export async function checkHosts(source: InventorySource, progress: Progress): Promise<HostCheck[]> {
  const names = source.hostNames();
  let answered = 0;
  progress.update(`checking ${names.length} host(s)`);
  return Promise.all(
    names.map(async (name): Promise<HostCheck> => {
      const started = performance.now();
      try {
        const [version, images] = await Promise.all([source.version(name), source.images(name)]);
        return {
          name,
          status: 'UP',
          message: null,
          apiVersion: source.negotiatedApiVersion(name) ?? null,
          engineVersion: version.version,
          engineApiVersion: version.apiVersion,
          images: images.length,
          latencyMs: Math.round(performance.now() - started),
        };
      } catch (err) {
        const hostError = err instanceof HostError ? err : undefined;
        return {
          name,
          status: hostError?.code ?? 'HOST_ERROR',
          message: hostError?.message ?? 'unexpected error',
          apiVersion: null,
          engineVersion: null,
          engineApiVersion: null,
          images: null,
          latencyMs: Math.round(performance.now() - started),
        };
      } finally {
        progress.update(`checking hosts: ${++answered}/${names.length} done`);
      }
    }),
  );
}

export function hostsTable(checks: readonly HostCheck[]): string {
  return table(
    ['HOST', 'STATUS', 'API', 'ENGINE', 'IMAGES', 'LATENCY'],
    checks.map((c) => [c.name, c.status, c.apiVersion ?? '-', c.engineVersion ?? '-', c.images === null ? '-' : String(c.images), `${c.latencyMs} ms`]),
  );
}
