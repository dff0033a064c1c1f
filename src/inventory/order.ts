import type { HostImage } from './types.js';

/**
 * Orderings of image lists. Every ordering ends with a unique tiebreak (host, then ID), so the order
 * is total and stable: cursors encode a position in it and pages can neither overlap nor skip.
 */
export const IMAGE_ORDER_FIELDS = ['CREATED', 'SIZE', 'REFERENCE', 'HOST', 'ID'] as const;
export type ImageOrderField = (typeof IMAGE_ORDER_FIELDS)[number];
export type OrderDirection = 'ASC' | 'DESC';
export interface ImageOrder {
  field: ImageOrderField;
  direction: OrderDirection;
}

export const DEFAULT_IMAGE_ORDER: readonly ImageOrder[] = [{ field: 'CREATED', direction: 'DESC' }];

/** A sort key: one value per ordering term; null sorts after every value in ASC order. */
export type SortKey = Array<string | number | null>;

export interface Ordering<T> {
  keyOf(item: T): SortKey;
  compare(a: SortKey, b: SortKey): number;
  /** compare(keyOf(a), keyOf(b)), without building the keys. */
  compareItems(a: T, b: T): number;
  /** Stable description of the ordering, part of every cursor's scope. */
  signature: string;
  /** Number of values in a key. */
  arity: number;
}

function compareValues(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/** Builds an ordering from terms; `value` gives each term's value for an item. */
export function makeOrdering<T, F extends string>(
  terms: ReadonlyArray<{ field: F; direction: OrderDirection }>,
  tiebreak: readonly F[],
  value: (item: T, field: F) => string | number | null,
): Ordering<T> {
  const all = [...terms];
  for (const f of tiebreak) if (!all.some((t) => t.field === f)) all.push({ field: f, direction: 'ASC' });
  return {
    keyOf: (item) => all.map((t) => value(item, t.field)),
    compare: (a, b) => {
      for (let i = 0; i < all.length; i++) {
        const c = compareValues(a[i] ?? null, b[i] ?? null);
        if (c !== 0) return all[i]!.direction === 'ASC' ? c : -c;
      }
      return 0;
    },
    compareItems: (a, b) => {
      for (let i = 0; i < all.length; i++) {
        const t = all[i]!;
        const c = compareValues(value(a, t.field), value(b, t.field));
        if (c !== 0) return t.direction === 'ASC' ? c : -c;
      }
      return 0;
    },
    signature: all.map((t) => `${t.field}:${t.direction}`).join(','),
    arity: all.length,
  };
}

/** The first tag in code-unit order: stable whatever order the engine listed the tags in. */
export function firstTag(tags: readonly string[]): string | null {
  let best: string | null = null;
  for (const t of tags) if (best === null || t < best) best = t;
  return best;
}

export function imageOrdering(terms: readonly ImageOrder[] | null | undefined): Ordering<HostImage> {
  return makeOrdering<HostImage, ImageOrderField>(terms?.length ? terms : DEFAULT_IMAGE_ORDER, ['HOST', 'ID'], (item, field) => {
    switch (field) {
      case 'CREATED':
        return item.image.created;
      case 'SIZE':
        return item.image.size;
      case 'REFERENCE':
        return firstTag(item.image.repoTags);
      case 'HOST':
        return item.host;
      case 'ID':
        return item.image.id;
    }
  });
}

/**
 * An item in its ordering, with its sort key built when first read (a cursor or a cursor argument needs
 * it; a list answered as nodes never does). Items do not change, so the key is the one it was sorted by.
 */
export class Keyed<T> {
  private built: SortKey | undefined;
  constructor(
    readonly item: T,
    private readonly ordering: Ordering<T>,
  ) {}

  get key(): SortKey {
    return (this.built ??= this.ordering.keyOf(this.item));
  }
}

export function sortBy<T>(items: readonly T[], ordering: Ordering<T>): Array<Keyed<T>> {
  return [...items].sort(ordering.compareItems).map((item) => new Keyed(item, ordering));
}

/** Items sorted or merged between two yields to the event loop (a few ms of work). */
const SORT_STEP = 4096;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * sortBy, without holding the event loop on big lists: runs of SORT_STEP items are sorted natively,
 * then merged pairwise, with a yield every SORT_STEP items. Sorting 200,000 images in one go took
 * 1-2 s, and requests waiting on one host's list resume together, so 8 of them sorted back to back in
 * one stall of 20 s (bench/results/big-host.md). The ordering is total, so the result equals sortBy's.
 */
export async function sortByYielding<T>(items: readonly T[], ordering: Ordering<T>): Promise<Array<Keyed<T>>> {
  if (items.length <= SORT_STEP) return sortBy(items, ordering);
  const byKey = (a: Keyed<T>, b: Keyed<T>) => ordering.compareItems(a.item, b.item);
  let runs: Array<Array<Keyed<T>>> = [];
  for (let start = 0; start < items.length; start += SORT_STEP) {
    runs.push(sortBy(items.slice(start, start + SORT_STEP), ordering));
    await yieldToLoop();
  }
  while (runs.length > 1) {
    const next: Array<Array<Keyed<T>>> = [];
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r]!;
      const b = runs[r + 1];
      if (!b) {
        next.push(a);
        continue;
      }
      const out: Array<Keyed<T>> = new Array<Keyed<T>>(a.length + b.length);
      let i = 0;
      let j = 0;
      for (let k = 0; k < out.length; k++) {
        out[k] = j >= b.length || (i < a.length && byKey(a[i]!, b[j]!) <= 0) ? a[i++]! : b[j++]!;
        if (k % SORT_STEP === SORT_STEP - 1) await yieldToLoop();
      }
      next.push(out);
    }
    runs = next;
  }
  return runs[0]!;
}
