import { describe, expect, it } from 'vitest';
import type { HostImage } from '../../src/docker/normalize.js';
import { imageOrdering, sortBy, sortByYielding } from '../../src/inventory/order.js';
import { decodeCursor, encodeCursor, paginate, scopeOf, type Page } from '../../src/inventory/paginate.js';

function image(host: string, n: number, created: number, size: number, tags: string[] = []): HostImage {
  return {
    host,
    image: { id: `sha256:${n.toString(16).padStart(64, '0')}`, parentId: null, repoTags: tags, repoDigests: [], created, size, sharedSize: null, virtualSize: null, labels: {}, containers: null },
  };
}

// Many ties on purpose: only the tiebreak keeps pages apart.
const items = Array.from({ length: 103 }, (_, i) => image(['a', 'b', 'c'][i % 3]!, i % 40, 1000 + (i % 5), (i * 7) % 11, i % 4 ? [`t/${i % 6}:x`] : []));

describe('paginate', () => {
  for (const orderBy of [undefined, [{ field: 'SIZE', direction: 'DESC' }], [{ field: 'REFERENCE', direction: 'ASC' }], [{ field: 'HOST', direction: 'DESC' }, { field: 'CREATED', direction: 'ASC' }]] as const) {
    it(`walks forward and backward exactly once per item (${JSON.stringify(orderBy)})`, () => {
      const ordering = imageOrdering(orderBy as never);
      const sorted = sortBy(items, ordering);
      const scope = scopeOf(['t', ordering.signature]);
      const seen: string[] = [];
      let after: string | null = null;
      for (let guard = 0; guard < 20; guard++) {
        const page: Page<HostImage> = paginate(sorted, ordering, scope, { first: 17, after }, 1000);
        seen.push(...page.edges.map((e) => `${e.node.host}/${e.node.image.id}`));
        expect(page.totalCount).toBe(items.length);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toHaveLength(items.length);
      expect(new Set(seen).size).toBe(items.length);
      expect(seen).toEqual(sorted.map((s) => `${s.item.host}/${s.item.image.id}`));

      const back: string[] = [];
      let before: string | null = null;
      for (let guard = 0; guard < 20; guard++) {
        const page: Page<HostImage> = paginate(sorted, ordering, scope, { last: 17, before }, 1000);
        back.unshift(...page.edges.map((e) => `${e.node.host}/${e.node.image.id}`));
        if (!page.pageInfo.hasPreviousPage) break;
        before = page.pageInfo.startCursor;
      }
      expect(back).toEqual(seen);
    });
  }

  it('refuses forged and foreign cursors, oversize pages and unbounded lists past the maximum', () => {
    const ordering = imageOrdering(undefined);
    const sorted = sortBy(items, ordering);
    const scope = scopeOf(['x']);
    expect(() => paginate(sorted, ordering, scope, { after: 'not a cursor!' }, 1000)).toThrow(/not a cursor/);
    expect(() => paginate(sorted, ordering, scope, { after: Buffer.from('{"v":1}').toString('base64url') }, 1000)).toThrow(/not a cursor/);
    const foreign = encodeCursor(scopeOf(['y']), sorted[3]!.key);
    expect(() => paginate(sorted, ordering, scope, { after: foreign }, 1000)).toThrow(/different query/);
    expect(() => paginate(sorted, ordering, scope, { first: 1001 }, 1000)).toThrow(/over the maximum/);
    expect(() => paginate(sorted, ordering, scope, { first: -1 }, 1000)).toThrow(/zero or more/);
    expect(() => paginate(sorted, ordering, scope, {}, 100)).toThrow(/103 images? match|103 items match/);
    expect(decodeCursor(encodeCursor(scope, sorted[5]!.key), scope, 'after', ordering.arity)).toEqual(sorted[5]!.key);
  });

  it('keeps its place when the item under the cursor disappears', () => {
    const ordering = imageOrdering([{ field: 'ID', direction: 'ASC' }]);
    const sorted = sortBy(items, ordering);
    const scope = scopeOf(['z']);
    const first = paginate(sorted, ordering, scope, { first: 10 }, 1000);
    const rest = sorted.filter((s) => s.item !== first.edges[9]!.node);
    const next = paginate(rest, ordering, scope, { first: 1, after: first.pageInfo.endCursor }, 1000);
    expect(next.edges[0]!.node).toBe(sorted[10]!.item);
  });
});

describe('paginate: work done only for what is selected', () => {
  it('an edge encodes its cursor only when read, and then the same cursor as before', () => {
    const ordering = imageOrdering(undefined);
    const sorted = sortBy(items, ordering);
    const scope = scopeOf(['t', ordering.signature]);
    const page = paginate(sorted, ordering, scope, { first: 5 }, 1000);
    const edge = page.edges[2]!;
    expect((edge as unknown as { encoded?: string }).encoded).toBeUndefined();
    expect(edge.cursor).toBe(encodeCursor(scope, sorted[2]!.key));
    expect((edge as unknown as { encoded?: string }).encoded).toBe(edge.cursor);
  });
});

describe('sortByYielding (big lists sorted in steps)', () => {
  // Sizes below, at and well above one step (4096), with many equal created/size values to exercise ties.
  it.each([0, 1, 4096, 4097, 20_001])('orders %i images exactly as sortBy does', async (n) => {
    const items: HostImage[] = Array.from({ length: n }, (_, i) => ({
      host: ['b', 'a', 'c'][(i * 7) % 3]!,
      image: { id: `sha256:${((i * 2654435761) % 1_000_003).toString(16).padStart(8, '0')}-${i}`, parentId: null, repoTags: i % 5 ? [`r/${i % 13}:x`] : [], repoDigests: [], created: (i * 31) % 97, size: (i * 17) % 11, sharedSize: null, virtualSize: null, labels: {}, containers: null },
    }));
    for (const terms of [undefined, [{ field: 'SIZE', direction: 'DESC' }, { field: 'REFERENCE', direction: 'ASC' }]] as const) {
      const ordering = imageOrdering(terms);
      const got = (await sortByYielding(items, ordering)).map((e) => e.item);
      expect(got).toEqual(sortBy(items, ordering).map((e) => e.item));
    }
  });
});
