import type { ImageRecord } from '../inventory/types.js';
import type { CheckResult, UpdateChecker } from './checker.js';
import { localDigests, targetKey, targetOf, type RegistryTarget } from './reference.js';

/**
 * Module: an image's update state, one entry per repo tag: the tag's digest at its registry (from the
 * shared UpdateChecker) against the digest this host holds for the same repository.
 */

export const UPDATE_STATUSES = ['CURRENT', 'OUTDATED', 'UNKNOWN', 'NOT_FOUND', 'UNAUTHORIZED', 'ERROR'] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];

export interface ImageUpdate {
  reference: string;
  localDigest: string | null;
  remoteDigest: string | null;
  status: UpdateStatus;
  checkedAt: Date | null;
  reason: string | null;
}

/** New (uncached) registry checks one request may start; past it, tags read UNKNOWN until a later request. */
export const MAX_CHECKS_PER_REQUEST = 256;

/**
 * One request's view of the update checks: each image's entries computed once, and at most
 * MAX_CHECKS_PER_REQUEST distinct tags sent to registries (cached answers cost nothing).
 */
export class RequestUpdates {
  private readonly memo = new WeakMap<ImageRecord, Promise<ImageUpdate[]>>();
  private readonly started = new Set<string>();

  constructor(
    private readonly checker: UpdateChecker | undefined,
    private readonly maxChecks = MAX_CHECKS_PER_REQUEST,
  ) {}

  of(image: ImageRecord): Promise<ImageUpdate[]> {
    let p = this.memo.get(image);
    if (!p) this.memo.set(image, (p = Promise.all(image.repoTags.flatMap((tag) => this.entry(image, tag)))));
    return p;
  }

  private entry(image: ImageRecord, reference: string): Array<Promise<ImageUpdate>> {
    const target = targetOf(reference);
    if (!target) return [];
    const local = localDigests(image.repoDigests, target);
    return [this.result(target).then((r) => compare(reference, local, r))];
  }

  private result(t: RegistryTarget): Promise<CheckResult> {
    if (!this.checker) return Promise.resolve({ kind: 'SKIPPED', reason: 'update checks are off (start fleetgraph with --check-updates)', checkedAt: null });
    const cached = this.checker.peek(t);
    if (cached) return cached;
    if (!this.checker.mayContact(t.registry)) return this.checker.check(t);
    const key = targetKey(t);
    if (!this.started.has(key)) {
      if (this.started.size >= this.maxChecks) {
        return Promise.resolve({ kind: 'SKIPPED', reason: `not checked: one request checks at most ${this.maxChecks} tags; ask again once these are cached`, checkedAt: null });
      }
      this.started.add(key);
    }
    return this.checker.check(t);
  }
}

function compare(reference: string, local: readonly string[], r: CheckResult): ImageUpdate {
  const remote = r.kind === 'FOUND' ? r.digest : null;
  const localDigest = (remote && local.includes(remote) ? remote : local[0]) ?? null;
  const base = { reference, localDigest, remoteDigest: remote, checkedAt: r.checkedAt };
  switch (r.kind) {
    case 'FOUND':
      if (localDigest === null) return { ...base, status: 'UNKNOWN', reason: 'this host has no digest for this repository (the image was not pushed or pulled by this name)' };
      return { ...base, status: localDigest === remote ? 'CURRENT' : 'OUTDATED', reason: null };
    case 'NOT_FOUND':
      return { ...base, status: 'NOT_FOUND', reason: 'the registry has no such tag' };
    case 'UNAUTHORIZED':
      return { ...base, status: 'UNAUTHORIZED', reason: r.reason };
    case 'ERROR':
      return { ...base, status: 'ERROR', reason: r.reason };
    case 'RATE_LIMITED':
      return { ...base, status: 'UNKNOWN', reason: `the registry asked to slow down (HTTP 429); asked again in ${Math.ceil(r.retryAfterMs / 1000)} s at the earliest` };
    case 'NOT_ALLOWED':
      return { ...base, status: 'UNKNOWN', reason: 'this registry is not in --registry-allow, so it was not contacted' };
    case 'SKIPPED':
      return { ...base, status: 'UNKNOWN', reason: r.reason };
  }
}

/** Whether any of the image's entries has one of `statuses`. */
export async function hasUpdateStatus(updates: RequestUpdates, image: ImageRecord, statuses: readonly UpdateStatus[]): Promise<boolean> {
  return (await updates.of(image)).some((u) => statuses.includes(u.status));
}
