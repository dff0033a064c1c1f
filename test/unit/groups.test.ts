import { describe, expect, it } from 'vitest';
import type { HostImage } from '../../src/docker/normalize.js';
import { findTagDrift, groupImages, uniqueTotals, totals } from '../../src/inventory/groups.js';
import { compileFilter, filterHostImages, labelsMatch } from '../../src/inventory/filter.js';

const id = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
function img(host: string, n: number, tags: string[], size = 10, created = 100): HostImage {
  return { host, image: { id: id(n), parentId: null, repoTags: tags, repoDigests: [], created, size, sharedSize: null, virtualSize: null, labels: {}, containers: null } };
}

describe('tag drift', () => {
  it('treats Docker and Podman spellings of a tag as one tag', () => {
    const drift = findTagDrift([img('docker-host', 1, ['nginx:latest']), img('podman-host', 2, ['docker.io/library/nginx:latest']), img('other', 1, ['nginx'])]);
    expect(drift).toEqual([{ tag: 'nginx:latest', variants: [{ id: id(1), hosts: ['docker-host', 'other'] }, { id: id(2), hosts: ['podman-host'] }] }]);
  });
  it('reports nothing when every host agrees', () => {
    expect(findTagDrift([img('a', 1, ['x:1']), img('b', 1, ['x:1'])])).toEqual([]);
  });
});

describe('groups and totals', () => {
  it('counts each distinct image once for unique totals and per host otherwise', () => {
    const items = [img('a', 1, ['x:1'], 100), img('b', 1, ['x:1'], 100), img('b', 2, [], 7)];
    expect(groupImages(items).map((g) => [g.id, g.images.map((i) => i.host)])).toEqual([
      [id(1), ['a', 'b']],
      [id(2), ['b']],
    ]);
    expect(totals(items)).toEqual({ count: 3, size: 207 });
    expect(uniqueTotals(items)).toEqual({ count: 2, size: 107 });
  });
});

describe('filters (in memory)', () => {
  it('follows Docker label matching: key, key=value, value with "=", empty value', () => {
    const labels = { a: '1', expr: 'x=y', empty: '' };
    expect(labelsMatch(['a'], labels)).toBe(true);
    expect(labelsMatch(['a=1', 'expr=x=y'], labels)).toBe(true);
    expect(labelsMatch(['empty='], labels)).toBe(true);
    expect(labelsMatch(['empty=x'], labels)).toBe(false);
    expect(labelsMatch(['a=2'], labels)).toBe(false);
    expect(labelsMatch(['b'], labels)).toBe(false);
  });
  it('resolves before/since on each host and reports a host that lacks the reference', async () => {
    const images = [img('h', 1, ['x:1'], 1, 10), img('h', 2, ['x:2'], 1, 20), img('h', 3, ['x:3'], 1, 30)].map((i) => i.image);
    expect((await filterHostImages('h', images, compileFilter({ since: 'x:1', before: 'x:3' }))).images.map((i) => i.id)).toEqual([id(2)]);
    const missing = await filterHostImages('h', images, compileFilter({ before: 'nope:1' }));
    expect(missing.images).toEqual([]);
    expect(missing.error?.extensions).toMatchObject({ code: 'REFERENCE_NOT_FOUND', argument: 'filter.before', host: 'h' });
  });
});
