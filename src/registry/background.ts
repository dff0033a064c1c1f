import type { InventorySource } from '../docker/source.js';
import type { Logger } from '../logger.js';
import type { UpdateChecker } from './checker.js';
import { targetKey, targetOf, type RegistryTarget } from './reference.js';

/**
 * Module: update checks in the background, beside the mirror (--mirror --check-updates): every half
 * interval, each distinct tag in the mirrored inventories is handed to the shared checker, which asks
 * the registry only for tags whose answer is older than the interval. Queries then read cached answers
 * and never wait for a registry. Without the mirror, checks run on demand (only when selected).
 */

/** Distinct tags refreshed per round at most (as many as the checker caches). */
const MAX_TAGS_PER_ROUND = 10_000;

export class BackgroundUpdates {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly source: InventorySource,
    private readonly checker: UpdateChecker,
    private readonly intervalMs: number,
    private readonly logger?: Logger,
  ) {}

  start(): this {
    const round = () => {
      this.running ??= this.refresh().finally(() => (this.running = undefined));
    };
    round();
    this.timer = setInterval(round, Math.max(Math.floor(this.intervalMs / 2), 1000)).unref();
    return this;
  }

  /** One round: every distinct tag of every host the source can read (a host that fails is skipped). */
  async refresh(): Promise<void> {
    const targets = new Map<string, RegistryTarget>();
    const lists = await Promise.all(this.source.hostNames().map((h) => this.source.images(h).catch(() => [])));
    for (const images of lists) {
      for (const image of images) {
        for (const tag of image.repoTags) {
          const t = targetOf(tag);
          if (t && targets.size < MAX_TAGS_PER_ROUND && this.checker.mayContact(t.registry)) targets.set(targetKey(t), t);
        }
      }
    }
    const results = await Promise.all([...targets.values()].map((t) => this.checker.check(t)));
    const failed = results.filter((r) => r.kind === 'ERROR' || r.kind === 'RATE_LIMITED').length;
    this.logger?.debug({ tags: targets.size, failed }, `update checks: ${targets.size} tag(s) current, ${failed} not answered`);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
