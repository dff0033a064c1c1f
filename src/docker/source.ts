import { ZodError } from 'zod';
import { normalizeInspectCreated } from './created.js';
import { HostError, hostFailure } from './errors.js';
import type { HostRegistry } from './hosts.js';
import {
  apiAtLeast,
  normalizeContainerList,
  normalizeDfSharedSizes,
  normalizeImageList,
  normalizeImageListWithManifests,
  normalizeVersion,
  type ContainerRecord,
  type EngineVersion,
  type ImageRecord,
} from './normalize.js';

/**
 * Where inventory comes from. The schema only ever sees this interface (through the per-request
 * loaders), so a live mirror fed by each host's /events stream, or a shared cache, can replace the
 * direct engine calls without touching a resolver. A method rejects with a HostError when the host is
 * at fault; any other rejection is a bug of ours (logged, masked to clients), never blamed on a host.
 */
export interface InventorySource {
  hostNames(): readonly string[];
  /**
   * The host's image list. With `manifests`, each image's manifests too (ImageRecord.manifests: null
   * where the engine cannot say); a source that cannot ask for them ignores the option (left absent).
   */
  images(host: string, options?: ImageListOptions): Promise<ImageRecord[]>;
  containers(host: string): Promise<ContainerRecord[]>;
  version(host: string): Promise<EngineVersion>;
  /** Image ID -> shared size. May be costly (see EngineSource). */
  sharedSizes(host: string): Promise<Map<string, number | null>>;
  /**
   * Full-precision creation times (nanoseconds) of a few images, for before/since/createdBefore/
   * createdAfter on images created in the same second as the bound. An image that is gone is left out.
   * A source that cannot tell (e.g. a test double) omits the method: those filters then work at the
   * whole seconds of `images`. A mirror fed by /events keeps these times with its images.
   */
  imageCreatedNanos?(host: string, ids: readonly string[]): Promise<Map<string, bigint>>;
  /** Circuit-breaker state, for /readyz and Host.status without calling the host. */
  breakerState(host: string): 'closed' | 'open' | 'half-open';
  /** The Engine API version negotiated with the host, once it has answered. */
  negotiatedApiVersion(host: string): string | undefined;
}

export interface ImageListOptions {
  manifests?: boolean;
}

/** How long a /system/df answer is reused: it walks every layer, container and volume of its host. */
export const DF_REUSE_MS = 2000;

const INSPECT_CONCURRENCY = 8;

type Normaliser<T> = (body: unknown) => T | Promise<T>;

/**
 * Direct calls to the engines. Overlapping identical calls share one engine call (EngineClient) and,
 * through it, one body object: normalising it is shared too (keyed by that object), so N clients
 * asking for a big host at once cost one parse and one check, not N. Shared results are frozen.
 */
export class EngineSource implements InventorySource {
  private readonly normalised = new WeakMap<object, Map<Normaliser<unknown>, Promise<unknown>>>();

  constructor(private readonly registry: HostRegistry) {}

  hostNames(): readonly string[] {
    return this.registry.names();
  }

  /** The one place where an engine call's failure becomes a HostError (or stays an internal error). */
  private async get<T>(host: string, path: string, query: Record<string, string>, fn: Normaliser<T>, reuseMs = 0): Promise<T> {
    const client = this.registry.client(host);
    let body: unknown;
    try {
      body = await client.getJson(path, query, reuseMs);
    } catch (err) {
      throw client.failed(hostFailure(host, err));
    }
    try {
      return await this.normalise(body, fn);
    } catch (err) {
      // Only a body that does not have the Engine API's shape is the host's fault; anything else is ours.
      if (err instanceof ZodError) throw client.failed(new HostError(host, 'HOST_BAD_RESPONSE', 'unexpected shape'));
      throw err;
    }
  }

  private normalise<T>(body: unknown, fn: Normaliser<T>): Promise<T> {
    if (typeof body !== 'object' || body === null) return Promise.resolve().then(() => fn(body));
    let byFn = this.normalised.get(body);
    if (!byFn) this.normalised.set(body, (byFn = new Map()));
    let result = byFn.get(fn as Normaliser<unknown>) as Promise<T> | undefined;
    if (!result) {
      result = Promise.resolve()
        .then(() => fn(body))
        .then((value) => (Array.isArray(value) ? (Object.freeze(value) as T) : value));
      byFn.set(fn as Normaliser<unknown>, result);
    }
    return result;
  }

  /**
   * `manifests=1` is sent whatever the host's version: engines before API 1.47 (and the classic store)
   * ignore it, and their images then say null. It is a different call from the plain list, so it is
   * asked only when a request needs manifests (prefetch.ts decides).
   */
  images(host: string, options: ImageListOptions = {}): Promise<ImageRecord[]> {
    if (options.manifests) return this.get(host, '/images/json', { manifests: '1' }, normalizeImageListWithManifests);
    return this.get(host, '/images/json', {}, normalizeImageList);
  }

  containers(host: string): Promise<ContainerRecord[]> {
    return this.get(host, '/containers/json', { all: '1' }, normalizeContainerList);
  }

  version(host: string): Promise<EngineVersion> {
    return this.get(host, '/version', {}, normalizeVersion);
  }

  /**
   * API >= 1.42 computes shared sizes in /images/json?shared-size=1. Older engines only do it in
   * /system/df, which also walks every container's and volume's disk usage: costly on big hosts, so it
   * runs only when a client selects sharedSize. The version is known from the host's image list, read
   * before any sharedSize resolves; if it is not, /system/df serves every version (no extra /version call).
   */
  async sharedSizes(host: string): Promise<Map<string, number | null>> {
    if (apiAtLeast(this.registry.client(host).apiVersion, '1.42')) {
      const list = await this.get(host, '/images/json', { 'shared-size': '1' }, normalizeImageList);
      return new Map(list.map((i) => [i.id, i.sharedSize]));
    }
    return this.get(host, '/system/df', {}, normalizeDfSharedSizes, DF_REUSE_MS);
  }

  /** GET /images/{id}/json per image, a few at a time; only images whose second is ambiguous ask for this. */
  async imageCreatedNanos(host: string, ids: readonly string[]): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    const queue = [...ids];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          out.set(id, await this.get(host, `/images/${encodeURIComponent(id)}/json`, {}, normalizeInspectCreated));
        } catch (err) {
          // Removed since the list was read: the image is simply not there any more.
          if (!(err instanceof HostError && err.detail === 'HTTP 404')) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(INSPECT_CONCURRENCY, queue.length) }, worker));
    return out;
  }

  breakerState(host: string): 'closed' | 'open' | 'half-open' {
    return this.registry.client(host).breakerState();
  }

  negotiatedApiVersion(host: string): string | undefined {
    return this.registry.client(host).apiVersion;
  }
}
