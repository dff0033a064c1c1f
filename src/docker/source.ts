import { ZodError } from 'zod';
import { HostError, hostFailure } from './errors.js';
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
 * direct engine calls without touching a resolver. A method rejects with a HostError when the host is
 * at fault; any other rejection is a bug of ours (logged, masked to clients), never blamed on a host.
 */
export interface InventorySource {
  hostNames(): readonly string[];
  images(host: string): Promise<ImageRecord[]>;
  containers(host: string): Promise<ContainerRecord[]>;
  version(host: string): Promise<EngineVersion>;
  /** Image ID -> shared size. May be costly (see EngineSource). */
  sharedSizes(host: string): Promise<Map<string, number | null>>;
  /** Circuit-breaker state, for /readyz and Host.status without calling the host. */
  breakerState(host: string): 'closed' | 'open' | 'half-open';
  /** The Engine API version negotiated with the host, once it has answered. */
  negotiatedApiVersion(host: string): string | undefined;
}

/** How long a /system/df answer is reused: it walks every layer, container and volume of its host. */
export const DF_REUSE_MS = 2000;

/**
 * Direct calls to the engines. Identical calls (host, path, query) that overlap share one engine call
 * and one normalisation: N clients asking for a big host at once cost it one read and one parse, not N.
 * Results are shared between requests, so they are frozen. Nothing is kept after a call settles, except
 * /system/df answers for DF_REUSE_MS (engines before API 1.42 refuse overlapping disk-usage runs).
 */
export class EngineSource implements InventorySource {
  private readonly shared = new Map<string, Promise<unknown>>();

  constructor(private readonly registry: HostRegistry) {}

  hostNames(): readonly string[] {
    return this.registry.names();
  }

  /** One path + query always has the same normaliser `fn`, so the key need not name it. */
  private get<T>(host: string, path: string, query: Record<string, string>, fn: (b: unknown) => T | Promise<T>, reuseMs = 0): Promise<T> {
    const key = `${host}\n${path}?${new URLSearchParams(query).toString()}`;
    const hit = this.shared.get(key);
    if (hit) return hit as Promise<T>;
    const promise = this.call(host, path, query, fn);
    this.shared.set(key, promise);
    const forget = () => {
      if (this.shared.get(key) === promise) this.shared.delete(key);
    };
    promise.then(
      () => (reuseMs > 0 ? setTimeout(forget, reuseMs).unref() : forget()),
      forget,
    );
    return promise;
  }

  /** The one place where an engine call's failure becomes a HostError (or stays an internal error). */
  private async call<T>(host: string, path: string, query: Record<string, string>, fn: (b: unknown) => T | Promise<T>): Promise<T> {
    const client = this.registry.client(host);
    let body: unknown;
    try {
      body = await client.getJson(path, query);
    } catch (err) {
      throw hostFailure(host, err);
    }
    try {
      const value = await fn(body);
      return Array.isArray(value) ? (Object.freeze(value) as T) : value;
    } catch (err) {
      // Only a body that does not have the Engine API's shape is the host's fault; anything else is ours.
      if (err instanceof ZodError) throw new HostError(host, 'HOST_BAD_RESPONSE', 'unexpected shape');
      throw err;
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
    return this.get(host, '/system/df', {}, normalizeDfSharedSizes, DF_REUSE_MS);
  }

  breakerState(host: string): 'closed' | 'open' | 'half-open' {
    return this.registry.client(host).breakerState();
  }

  negotiatedApiVersion(host: string): string | undefined {
    return this.registry.client(host).negotiatedVersion;
  }
}
