import DataLoader from 'dataloader';
import type { ContainerRecord, EngineVersion, ImageRecord } from './normalize.js';
import type { InventorySource } from './source.js';

/**
 * Per-request loaders keyed by host name (never module-level: a loader caches for its request only).
 * Each batch function fans out to all requested hosts in parallel and puts the source's error (a
 * HostError, or an internal error that resolvers rethrow) in the slot of a failed host, so one host's
 * failure rejects only its own key. Whatever the query's shape, a request
 * makes at most one call per host per kind of data.
 */
export interface Loaders {
  images: DataLoader<string, ImageRecord[]>;
  containers: DataLoader<string, ContainerRecord[]>;
  version: DataLoader<string, EngineVersion>;
  sharedSizes: DataLoader<string, Map<string, number | null>>;
}

function perHost<T>(fetch: (host: string) => Promise<T>): DataLoader<string, T> {
  return new DataLoader<string, T>((hosts) => Promise.all(hosts.map((h) => fetch(h).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))))));
}

export function createLoaders(source: InventorySource): Loaders {
  return {
    images: perHost((h) => source.images(h)),
    containers: perHost((h) => source.containers(h)),
    version: perHost((h) => source.version(h)),
    sharedSizes: perHost((h) => source.sharedSizes(h)),
  };
}
