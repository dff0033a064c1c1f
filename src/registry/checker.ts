import type { UpdateSettings } from '../config-updates.js';
import { RegistryClient, type ClientOptions, type RemoteOutcome } from './client.js';
import { registryName, targetKey, type RegistryTarget } from './reference.js';

/**
 * Module: the process-wide update checker. One registry request per (registry, repository, tag) per
 * interval, whatever the number of hosts, requests and clients asking: results are cached for the
 * interval, a check in flight is shared by everyone who asks meanwhile, each registry gets at most a few
 * requests at a time, and a 429 stops every request to that registry until its Retry-After has passed.
 * Registries not allowed are never contacted.
 */

export type CheckResult = (RemoteOutcome | { kind: 'NOT_ALLOWED' } | { kind: 'SKIPPED'; reason: string }) & { checkedAt: Date | null };

export interface CheckerOptions extends Omit<ClientOptions, 'mayContact'> {
  /** How long a result is reused (the issue's --update-interval). */
  intervalMs: number;
  /** Registries (host[:port], as references name them) that may be contacted; empty = any. */
  allow: readonly string[];
  /** Requests in flight per registry. */
  concurrency?: number;
  /** Cached (registry, repository, tag) results kept at most; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

/** A failed check is retried sooner than a successful one is renewed. */
const ERROR_TTL_MS = 60_000;
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_MAX_ENTRIES = 10_000;

interface Entry {
  promise: Promise<CheckResult>;
  /** When the result may be asked again; Infinity while in flight. */
  expires: number;
  /** What the answer said (kind, digest, reason), once there is one: a new answer that says the same changes nothing. */
  outcome?: string;
}

const outcomeOf = (r: CheckResult) => JSON.stringify([r.kind, 'digest' in r ? r.digest : null, 'reason' in r ? r.reason : null]);

/** A counting semaphore: at most `limit` tasks run; the rest wait in order. */
class Semaphore {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

export class UpdateChecker {
  private readonly cache = new Map<string, Entry>();
  private readonly limits = new Map<string, Semaphore>();
  private readonly blockedUntil = new Map<string, number>();
  private readonly client: RegistryClient;
  private readonly allow: ReadonlySet<string>;
  private readonly now: () => number;
  private readonly listeners = new Set<() => void>();
  private notifying = false;
  /** Requests sent to registries (for tests and metrics). */
  requests = 0;

  constructor(private readonly options: CheckerOptions) {
    this.allow = new Set(options.allow.map(registryName));
    this.now = options.now ?? Date.now;
    this.client = new RegistryClient({ ...options, mayContact: (h) => this.mayContact(h) });
  }

  mayContact(hostPort: string): boolean {
    return this.allow.size === 0 || this.allow.has(registryName(hostPort));
  }

  /** The cached result if there is a current one, else undefined (no request is started). */
  peek(t: RegistryTarget): Promise<CheckResult> | undefined {
    const e = this.cache.get(targetKey(t));
    return e && e.expires > this.now() ? e.promise : undefined;
  }

  /** The tag's current digest at its registry: cached, shared while in flight, or asked now. */
  check(t: RegistryTarget): Promise<CheckResult> {
    if (!this.mayContact(t.registry)) return Promise.resolve({ kind: 'NOT_ALLOWED', checkedAt: null });
    const key = targetKey(t);
    const hit = this.peek(t);
    if (hit) return hit;
    const before = this.cache.get(key)?.outcome;
    this.cache.delete(key);
    const entry: Entry = { promise: Promise.resolve() as unknown as Promise<CheckResult>, expires: Infinity };
    entry.promise = this.ask(t).then((r) => {
      entry.expires = this.now() + this.ttl(r);
      entry.outcome = outcomeOf(r);
      if (entry.outcome !== before) this.changed();
      return r;
    });
    this.cache.set(key, entry);
    while (this.cache.size > (this.options.maxEntries ?? DEFAULT_MAX_ENTRIES)) this.cache.delete(this.cache.keys().next().value!);
    return entry.promise;
  }

  /**
   * Called when an answer says something new (a first answer, or a digest or status that changed), at
   * most once per tick however many answers came in it (a background round may bring thousands); live
   * queries run again then. Returns an unsubscribe function.
   */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    if (this.notifying) return;
    this.notifying = true;
    setImmediate(() => {
      this.notifying = false;
      for (const l of [...this.listeners]) l();
    });
  }

  private ttl(r: CheckResult): number {
    if (r.kind === 'FOUND' || r.kind === 'NOT_FOUND' || r.kind === 'UNAUTHORIZED') return this.options.intervalMs;
    if (r.kind === 'RATE_LIMITED') return r.retryAfterMs;
    return Math.min(ERROR_TTL_MS, this.options.intervalMs);
  }

  private async ask(t: RegistryTarget): Promise<CheckResult> {
    let limit = this.limits.get(t.registry);
    if (!limit) this.limits.set(t.registry, (limit = new Semaphore(this.options.concurrency ?? DEFAULT_CONCURRENCY)));
    return limit.run(async () => {
      const blocked = this.blockedUntil.get(t.registry) ?? 0;
      if (blocked > this.now()) return { kind: 'RATE_LIMITED', retryAfterMs: blocked - this.now(), checkedAt: null };
      this.requests++;
      const outcome = await this.client.headManifest(t);
      if (outcome.kind === 'RATE_LIMITED') this.blockedUntil.set(t.registry, this.now() + outcome.retryAfterMs);
      return { ...outcome, checkedAt: new Date(this.now()) };
    });
  }
}

/** The checker for the configured settings (one per process: the server or a CLI command). */
export function createUpdateChecker(settings: UpdateSettings): UpdateChecker {
  return new UpdateChecker({ intervalMs: settings.intervalMs, timeoutMs: settings.timeoutMs, allow: settings.allow, credentials: settings.credentials });
}
