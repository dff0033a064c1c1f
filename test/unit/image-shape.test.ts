import { describe, expect, it } from 'vitest';
import { z, ZodError } from 'zod';
import { checkEngineImage } from '../../src/docker/image-shape.js';
import type { HostRegistry } from '../../src/docker/hosts.js';
import { EngineSource } from '../../src/docker/source.js';

/** The zod schema the hand-written check replaced: the oracle of what an image list item may be. */
const bytes = () => z.number().int().safe();
const count = () => z.number().int().min(-1).max(2 ** 31 - 1);
const unixSeconds = () => z.number().int().min(-62_135_596_800).max(253_402_300_799);
const nullableStrings = z.array(z.string()).nullish();
const oracle = z
  .object({
    Id: z.string().min(1),
    ParentId: z.string().nullish(),
    RepoTags: nullableStrings,
    RepoDigests: nullableStrings,
    Created: unixSeconds(),
    Size: bytes().nonnegative(),
    SharedSize: bytes().nullish(),
    VirtualSize: bytes().nonnegative().nullish(),
    Labels: z.record(z.string(), z.string()).nullish(),
    Containers: count().nullish(),
    // Checked in detail by docker/manifests.ts (test/unit/manifests.test.ts); here only their outer shape.
    Manifests: z.array(z.unknown()).nullish(),
    Descriptor: z.object({}).passthrough().nullish(),
  })
  .passthrough();

const HEX = 'a'.repeat(64);
const good = { Id: `sha256:${HEX}`, ParentId: '', RepoTags: ['x:1'], RepoDigests: [], Created: 1700000000, Size: 5, SharedSize: -1, VirtualSize: 5, Labels: { a: 'b' }, Containers: -1, Manifests: [], Descriptor: { mediaType: 'm', digest: `sha256:${HEX}`, size: 1 } };

/** Values of every JSON kind, and the edges of each number range. */
const values: unknown[] = [
  undefined, null, true, 0, -1, -2, 1.5, 2 ** 31 - 1, 2 ** 31, Number.MAX_SAFE_INTEGER, 2 ** 53, -(2 ** 53), 1e20, NaN, Infinity,
  -62_135_596_800, -62_135_596_801, 253_402_300_799, 253_402_300_800, '', 'x', '5', [], ['a'], [1], ['a', null], {}, { k: 'v' }, { k: 1 }, { k: null },
];

describe('checkEngineImage', () => {
  it('accepts and refuses exactly what the zod schema did, field by field', () => {
    let compared = 0;
    for (const field of Object.keys(good)) {
      for (const value of values) {
        const item: Record<string, unknown> = { ...good, [field]: value };
        if (value === undefined) delete item[field];
        const expected = oracle.safeParse(item).success;
        const label = `${field} = ${String(JSON.stringify(value) ?? value)}`;
        if (expected) expect(checkEngineImage(item, 0), label).toBe(item);
        else expect(() => checkEngineImage(item, 0), label).toThrow(ZodError);
        compared++;
      }
    }
    for (const item of [null, 'x', 1, [], [good], {}]) {
      expect(oracle.safeParse(item).success).toBe(false);
      expect(() => checkEngineImage(item, 3)).toThrow(ZodError);
    }
    expect(compared).toBe(Object.keys(good).length * values.length);
  });

  it('a wrong shape anywhere in a big list fails that host with HOST_BAD_RESPONSE, not an internal error', async () => {
    const list = Array.from({ length: 1200 }, (_, i) => ({ ...good, Id: i.toString(16).padStart(64, '0') }));
    const badManifest = { ID: 'x', Descriptor: { mediaType: 'm', digest: 'd', size: -1 }, Available: true, Size: { Total: 1, Content: 1 }, Kind: 'image' };
    for (const [at, bad] of [[0, { Size: '5' }], [700, { RepoTags: [1] }], [1199, { Labels: { a: 2 } }], [5, { Created: 1e20 }], [9, { Manifests: [badManifest] }], [9, { Descriptor: { digest: 1 } }]] as const) {
      const body = list.map((x, i) => (i === at ? { ...x, ...bad } : x));
      const registry = { client: () => ({ apiVersion: '1.41', getJson: async () => body, failed: (e: unknown) => e }), names: () => ['h'] } as unknown as HostRegistry;
      await expect(new EngineSource(registry).images('h', { manifests: true }), JSON.stringify(bad)).rejects.toMatchObject({ code: 'HOST_BAD_RESPONSE', host: 'h' });
    }
  });
});
