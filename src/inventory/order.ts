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

export function sortBy<T>(items: readonly T[], ordering: Ordering<T>): Array<{ item: T; key: SortKey }> {
  return items.map((item) => ({ item, key: ordering.keyOf(item) })).sort((a, b) => ordering.compare(a.key, b.key));
}
