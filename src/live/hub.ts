/** Module: the per-host live objects (event stream, and the mirror when there is one), created once at start-up. */
import type { HostRegistry } from '../docker/hosts.js';
import type { InventorySource } from '../docker/source.js';
import { HostEventStream, type StreamOptions, type StreamState } from './events.js';

/**
 * One HostEventStream per host, whoever listens: the mirror and every subscription share it, so the
 * engine serves one /events connection per gateway, not one per client.
 */
export class LiveHub {
  private readonly streams = new Map<string, HostEventStream>();

  constructor(registry: HostRegistry, options: StreamOptions) {
    for (const name of registry.names()) this.streams.set(name, new HostEventStream(registry.client(name), options));
  }

  stream(host: string): HostEventStream {
    const s = this.streams.get(host);
    if (!s) throw new Error(`no host named ${host}`);
    return s;
  }

  close(): void {
    for (const s of this.streams.values()) s.stop();
  }
}

/** How current a host's inventory is, as a mirror knows it. */
export interface Freshness {
  stream: StreamState;
  /** Seconds since the host's lists were last read in full from the engine; null before the first read. */
  inventoryAge: number | null;
  /** Served from memory that may be behind the engine: the stream is not connected, or the last reload failed. */
  stale: boolean;
}

/** An InventorySource that keeps hosts' inventories in memory (MirrorSource); the schema asks through this. */
export interface LiveInventory extends InventorySource {
  freshness(host: string): Freshness;
  /** Resolves once the reloads asked for so far (e.g. by an event just seen) have finished. */
  whenCurrent(host: string): Promise<void>;
  /** Called after each reload of a host that changed what it serves; returns an unsubscribe function. */
  onChange(listener: (host: string) => void): () => void;
  /**
   * A number that changes whenever anything the mirror serves changes: any host's lists, version or
   * failure, or its stream's state (so whether it is stale). Equal numbers: the same answers (the
   * answer cache, answer-cache.ts, keys on it).
   */
  generation(): number;
}

export function isLive(source: InventorySource): source is LiveInventory {
  return typeof (source as Partial<LiveInventory>).freshness === 'function';
}
