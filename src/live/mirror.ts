import { HostError } from '../docker/errors.js';
import type { ContainerRecord, EngineVersion, ImageRecord } from '../docker/normalize.js';
import type { InventorySource } from '../docker/source.js';
import type { EngineEvent } from './events.js';
import type { Freshness, LiveHub, LiveInventory } from './hub.js';

export interface MirrorOptions {
  /** Full reload of every host this often, to heal any drift the events missed. */
  resyncMs: number;
  /** Events within this window after the first are served by one reload. */
  debounceMs?: number;
  now?: () => number;
}

type Kind = 'images' | 'containers' | 'version';
const ALL: readonly Kind[] = ['images', 'containers', 'version'];

/** One host's mirrored inventory and its reload queue: at most one reload in flight, plus one queued. */
class HostMirror {
  images: readonly ImageRecord[] | undefined;
  containers: readonly ContainerRecord[] | undefined;
  version: EngineVersion | undefined;
  loadedAt: number | undefined;
  failed: HostError | undefined;
  dirty = new Set<Kind>();
  debounce: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  waiters: Array<() => void> = [];
  first: Promise<void>;
  firstDone!: () => void;
  signature = '';
  shared: { for: readonly ImageRecord[] | undefined; sizes: Promise<Map<string, number | null>> } | undefined;
  unsubscribe: () => void = () => undefined;

  constructor(readonly host: string) {
    this.first = new Promise((resolve) => (this.firstDone = resolve));
  }

  get idle(): boolean {
    return !this.debounce && !this.running && this.dirty.size === 0;
  }
}

/**
 * Mirror mode: each host's image list, container list and version held in memory, so queries make no
 * engine call on the request path. Loaded at start and on every (re)connect of the host's event stream
 * (events may have been lost before it); an image event schedules a reload of that host's list rather
 * than patching it (classic-store untag/delete events carry only the image ID, not the removed tag),
 * bursts coalesced by a short debounce and one-in-flight-plus-one-queued; a periodic resync heals drift.
 * A host whose stream is down, or whose last reload failed, is still served from memory: the schema
 * reports it as HOST_STALE with the age (freshness()). Shared sizes are read from the engine once per
 * image list; same-second creation times (imageCreatedNanos) still ask the engine.
 */
export class MirrorSource implements LiveInventory {
  private readonly mirrors = new Map<string, HostMirror>();
  private readonly listeners = new Set<(host: string) => void>();
  private resync: NodeJS.Timeout | undefined;
  private closed = false;
  private changes = 0;
  private readonly now: () => number;

  constructor(
    private readonly direct: InventorySource,
    private readonly hub: LiveHub,
    private readonly options: MirrorOptions,
  ) {
    this.now = options.now ?? Date.now;
    if (direct.imageCreatedNanos) this.imageCreatedNanos = direct.imageCreatedNanos.bind(direct);
    for (const host of direct.hostNames()) this.mirrors.set(host, new HostMirror(host));
  }

  /** Starts each host's stream and first load, and the periodic resync. */
  start(): this {
    for (const m of this.mirrors.values()) {
      m.unsubscribe = this.hub.stream(m.host).subscribe({
        connected: () => this.request(m, ALL, 0),
        event: (e) => this.onEvent(m, e),
        state: () => this.changed(m.host),
      });
      this.request(m, ALL, 0);
    }
    this.resync = setInterval(() => {
      for (const m of this.mirrors.values()) this.request(m, ALL, 0);
    }, this.options.resyncMs);
    this.resync.unref();
    return this;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.resync);
    for (const m of this.mirrors.values()) {
      m.unsubscribe();
      clearTimeout(m.debounce);
      m.debounce = undefined;
    }
  }

  private onEvent(m: HostMirror, e: EngineEvent): void {
    if (e.type === 'image') this.request(m, ['images'], this.options.debounceMs ?? 50);
    else if (e.type === 'container') this.request(m, ['containers'], this.options.debounceMs ?? 50);
  }

  private request(m: HostMirror, kinds: readonly Kind[], delayMs: number): void {
    if (this.closed) return;
    for (const k of kinds) m.dirty.add(k);
    if (m.running || m.debounce) return;
    m.debounce = setTimeout(() => {
      m.debounce = undefined;
      this.run(m);
    }, delayMs);
  }

  private run(m: HostMirror): void {
    const kinds = [...m.dirty];
    m.dirty.clear();
    m.running = this.load(m, kinds).finally(() => {
      m.running = undefined;
      m.firstDone();
      if (m.dirty.size > 0 && !this.closed) return this.run(m);
      for (const w of m.waiters.splice(0)) w();
    });
  }

  private async load(m: HostMirror, kinds: readonly Kind[]): Promise<void> {
    const [images, containers, version] = await Promise.allSettled([
      // With manifests (null where the engine cannot list them): a held list serves every query, whatever it selects.
      kinds.includes('images') ? this.direct.images(m.host, { manifests: true }) : undefined,
      kinds.includes('containers') ? this.direct.containers(m.host) : undefined,
      kinds.includes('version') ? this.direct.version(m.host) : undefined,
    ]);
    let failed: unknown;
    if (images.status === 'fulfilled') {
      if (images.value) {
        m.images = images.value;
        m.loadedAt = this.now();
      }
    } else failed = images.reason;
    if (containers.status === 'fulfilled') m.containers = containers.value ?? m.containers;
    else failed ??= containers.reason;
    if (version.status === 'fulfilled') m.version = version.value ?? m.version;
    else failed ??= version.reason;
    m.failed = failed === undefined ? undefined : failed instanceof HostError ? failed : new HostError(m.host, 'HOST_ERROR', 'reload failed');
    // Nothing changed (a resync, or a burst that ended where it began): live readers are not woken.
    const signature = JSON.stringify([m.images, m.containers, m.version, m.failed?.code]);
    if (signature !== m.signature) {
      m.signature = signature;
      this.changed(m.host);
    }
  }

  private changed(host: string): void {
    this.changes++;
    for (const l of [...this.listeners]) l(host);
  }

  private mirror(host: string): HostMirror {
    const m = this.mirrors.get(host);
    if (!m) throw new Error(`no host named ${host}`);
    return m;
  }

  /** The held value; before the first load, waits for it; never loaded: the load's error. */
  private async held<T>(host: string, pick: (m: HostMirror) => T | undefined): Promise<T> {
    const m = this.mirror(host);
    if (pick(m) === undefined) await m.first;
    const value = pick(m);
    if (value === undefined) throw m.failed ?? new HostError(host, 'HOST_UNREACHABLE', 'not loaded yet');
    return value;
  }

  hostNames(): readonly string[] {
    return this.direct.hostNames();
  }

  images(host: string): Promise<ImageRecord[]> {
    return this.held(host, (m) => m.images as ImageRecord[] | undefined);
  }

  containers(host: string): Promise<ContainerRecord[]> {
    return this.held(host, (m) => m.containers as ContainerRecord[] | undefined);
  }

  version(host: string): Promise<EngineVersion> {
    return this.held(host, (m) => m.version);
  }

  sharedSizes(host: string): Promise<Map<string, number | null>> {
    const m = this.mirror(host);
    if (m.shared && m.shared.for === m.images) return m.shared.sizes;
    const sizes = this.direct.sharedSizes(host);
    const entry = { for: m.images, sizes };
    m.shared = entry;
    sizes.catch(() => {
      if (m.shared === entry) m.shared = undefined;
    });
    return sizes;
  }

  /** Same-second bounds still ask the engine (an image inspect each); absent when the direct source cannot tell. */
  readonly imageCreatedNanos?: (host: string, ids: readonly string[]) => Promise<Map<string, bigint>>;

  breakerState(host: string): 'closed' | 'open' | 'half-open' {
    return this.direct.breakerState(host);
  }

  negotiatedApiVersion(host: string): string | undefined {
    return this.direct.negotiatedApiVersion(host);
  }

  freshness(host: string): Freshness {
    const m = this.mirror(host);
    const stream = this.hub.stream(host).state;
    return {
      stream,
      inventoryAge: m.loadedAt === undefined ? null : Math.max(0, (this.now() - m.loadedAt) / 1000),
      stale: stream !== 'CONNECTED' || m.failed !== undefined,
    };
  }

  whenCurrent(host: string): Promise<void> {
    const m = this.mirror(host);
    if (m.idle) return Promise.resolve();
    return new Promise((resolve) => m.waiters.push(resolve));
  }

  generation(): number {
    return this.changes;
  }

  onChange(listener: (host: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
