import { normalizeInspectCreated } from './created.js';
import { HostError, toHostError } from './errors.js';
import type { HostRegistry } from './hosts.js';
import {
  apiAtLeast,
  normalizeContainerList,
  normalizeDfSharedSizes,
  normalizeImageList,
  normalizeVersion,
  type ContainerRecord,
  type EngineVersion,
  type ImageRecord,
} from './normalize.js';

/**
 * Where inventory comes from. The schema only ever sees this interface (through the per-request
 * loaders), so a live mirror fed by each host's /events stream, or a shared cache, can replace the
 * direct engine calls without touching a resolver. Every method rejects with a HostError only.
 */
export interface InventorySource {
  hostNames(): readonly string[];
  images(host: string): Promise<ImageRecord[]>;
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

/** Parses an engine body or reports HOST_BAD_RESPONSE (never the parser's text, which may quote data). */
function parse<T>(host: string, body: unknown, fn: (b: unknown) => T): T {
  try {
    return fn(body);
  } catch {
    throw new HostError(host, 'HOST_BAD_RESPONSE', 'unexpected shape');
  }
}

const INSPECT_CONCURRENCY = 8;

/** Direct calls to the engines: one GET per method call, nothing cached beyond the request. */
export class EngineSource implements InventorySource {
  constructor(private readonly registry: HostRegistry) {}

  hostNames(): readonly string[] {
    return this.registry.names();
  }

  private async get<T>(host: string, path: string, query: Record<string, string>, fn: (b: unknown) => T): Promise<T> {
    try {
      const body = await this.registry.client(host).getJson(path, query);
      return parse(host, body, fn);
    } catch (err) {
      throw toHostError(host, err);
    }
  }

  images(host: string): Promise<ImageRecord[]> {
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
    return this.get(host, '/system/df', {}, normalizeDfSharedSizes);
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
    return this.registry.client(host).negotiatedVersion;
  }
}
