import DataLoader from 'dataloader';
import { HostError } from './errors.js';
import type { ContainerRecord, EngineVersion, ImageRecord, ManifestRecord } from '../inventory/types.js';
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
  /**
   * Image ID -> its manifests (null: the engine cannot say), for an image whose record was read without
   * them (a request prefetch.ts did not see, e.g. a subscription's). Normally `images` already has them.
   */
  manifests: DataLoader<string, Map<string, readonly ManifestRecord[] | null>>;
  /**
   * The API version spoken with each host (hosts.ts negotiateApiVersion), null before it has answered.
   * A host's version is learned from its answers, so this waits for its image list (one per request
   * anyway) to settle first; a host that fails still has the version of its last answer.
   */
  apiVersion: DataLoader<string, string | null>;
  /**
   * Keyed by `host + "\n" + image ID`: full-precision creation times (null: the image is gone), one
   * batch per host. Absent when the source cannot tell them (see InventorySource.imageCreatedNanos).
   */
  createdNanos?: DataLoader<string, bigint | null>;
  /**
   * The container lists and shared sizes answered so far, by host (the value, or the error in its slot):
   * an image's fields read them without a promise per image (partial.ts orPartialSettled).
   */
  settled: { containers: Settled<ContainerRecord[]>; sharedSizes: Settled<Map<string, number | null>> };
  /** Settles once every container-list and shared-size call already started for `host` has settled. */
  detailsSettled(host: string): Promise<void>;
}

/** A per-host loader's answers so far: the value, or the error in the host's slot. */
export type Settled<T> = ReadonlyMap<string, T | Error>;

/** The source already made the error (a HostError, or an internal error): it only goes into the key's slot. */
const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

function perHost<T>(fetch: (host: string) => Promise<T>, track?: { settled: Map<string, T | Error>; started: Map<string, Array<Promise<unknown>>> }): DataLoader<string, T> {
  return new DataLoader<string, T>((hosts) =>
    Promise.all(
      hosts.map((h) => {
        const answer = fetch(h).then((v) => v, asError);
        if (!track) return answer;
        const settled = answer.then((v) => (track.settled.set(h, v), v));
        track.started.set(h, [...(track.started.get(h) ?? []), settled]);
        return settled;
      }),
    ),
  );
}

/** Groups `host\nid` keys by host and asks the source once per host. */
function createdNanosLoader(lookup: (host: string, ids: readonly string[]) => Promise<Map<string, bigint>>): DataLoader<string, bigint | null> {
  return new DataLoader<string, bigint | null>(async (keys) => {
    const byHost = new Map<string, string[]>();
    for (const key of keys) {
      const [host, id] = key.split('\n') as [string, string];
      const ids = byHost.get(host);
      if (ids) ids.push(id);
      else byHost.set(host, [id]);
    }
    const answers = new Map(
      await Promise.all([...byHost].map(async ([host, ids]) => [host, await lookup(host, ids).catch(asError)] as const)),
    );
    return keys.map((key) => {
      const [host, id] = key.split('\n') as [string, string];
      const answer = answers.get(host)!;
      return answer instanceof Map ? (answer.get(id) ?? null) : answer;
    });
  });
}

/**
 * What a request's image lists carry besides the plain summaries: decided once per request, from its
 * operation, before any engine call (prefetch.ts), and read when the lists are fetched.
 */
export interface ImageDetail {
  manifests: boolean;
}

export function createLoaders(source: InventorySource, detail: Readonly<ImageDetail> = { manifests: false }): Loaders {
  const lookup = source.imageCreatedNanos?.bind(source);
  const images = perHost((h) => source.images(h, detail.manifests ? { manifests: true } : {}));
  const answered = (host: string) =>
    images.load(host).then(
      () => undefined,
      (err: unknown) => {
        if (!(err instanceof HostError)) throw err;
      },
    );
  const started = new Map<string, Array<Promise<unknown>>>();
  const containers = { settled: new Map<string, ContainerRecord[] | Error>(), started };
  const sharedSizes = { settled: new Map<string, Map<string, number | null> | Error>(), started };
  return {
    ...(lookup ? { createdNanos: createdNanosLoader(lookup) } : {}),
    images,
    containers: perHost((h) => source.containers(h), containers),
    version: perHost((h) => source.version(h)),
    sharedSizes: perHost((h) => source.sharedSizes(h), sharedSizes),
    settled: { containers: containers.settled, sharedSizes: sharedSizes.settled },
    detailsSettled: async (host) => {
      await Promise.all(started.get(host) ?? []);
    },
    manifests: perHost((h) =>
      (detail.manifests ? images.load(h) : source.images(h, { manifests: true })).then((list) => new Map(list.map((i) => [i.id, i.manifests ?? null]))),
    ),
    apiVersion: perHost((h) => answered(h).then(() => source.negotiatedApiVersion(h) ?? null)),
  };
}
