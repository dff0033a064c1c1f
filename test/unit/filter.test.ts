import { execute, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createContext } from '../../src/context.js';
import { ZodError } from 'zod';
import { normalizeInspectCreated, parseCreatedNanos } from '../../src/docker/created.js';
import type { ImageRecord } from '../../src/docker/normalize.js';
import type { InventorySource } from '../../src/docker/source.js';
import { compileFilter, filterHostImages, MAX_FILTER_ENTRIES } from '../../src/inventory/filter.js';
import { pathMatch } from '../../src/inventory/reference.js';
import { schema } from '../../src/schema/index.js';

const id = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
function image(n: number, created: number, tags: string[] = [`repo/n${n % 50}:${n}`]): ImageRecord {
  return { id: id(n), parentId: null, repoTags: tags, repoDigests: [], created, size: 1, sharedSize: null, virtualSize: null, labels: {}, containers: null };
}

/** An in-process source: `hosts` -> images; counts list calls and precise-time lookups. */
function fakeSource(hosts: Record<string, ImageRecord[]>, nanos?: Record<string, bigint>) {
  const calls = { images: 0, precise: [] as string[][] };
  const source: InventorySource = {
    hostNames: () => Object.keys(hosts),
    images: async (h) => (calls.images++, hosts[h]!),
    containers: async () => [],
    version: async () => ({ version: '1', apiVersion: '1.41', minApiVersion: null, os: 'linux', arch: 'amd64', kernelVersion: null }),
    sharedSizes: async () => new Map(),
    breakerState: () => 'closed',
    negotiatedApiVersion: () => undefined,
    ...(nanos
      ? {
          imageCreatedNanos: async (_h: string, ids: readonly string[]) => {
            calls.precise.push([...ids]);
            return new Map(ids.filter((i) => nanos[i] !== undefined).map((i) => [i, nanos[i]!]));
          },
        }
      : {}),
  };
  return { source, calls };
}

async function run(source: InventorySource, query: string, variables: Record<string, unknown>) {
  const ctx = createContext({ source, config: loadConfig({ hosts: source.hostNames().map((h) => `${h}=unix:///unused.sock`) }, {}) });
  const result = await execute({ schema, document: parse(query), variableValues: variables, contextValue: ctx });
  return { result, ctx };
}

describe('filters: bounded, compiled once, evaluated once per host per request', () => {
  const hosts = Object.fromEntries(['a', 'b', 'c'].map((h, k) => [h, Array.from({ length: 300 }, (_, i) => image(k * 1000 + i, 1_700_000_000 + i))]));
  // 100 patterns (the maximum), one of which selects something.
  const patterns = [...Array.from({ length: MAX_FILTER_ENTRIES - 1 }, (_, i) => `nomatch/x${i}*:*`), 'repo/n1?:*'];
  const NESTED = `query($f: ImageFilter) {
    images(filter: $f) { totalCount nodes { host { images(filter: $f) { totalCount } } } }
    hosts { name images(filter: $f) { totalCount } }
    imageGroups(filter: $f) { totalCount }
  }`;

  it('a nested query with a full-size reference list compiles it once and filters each host once', async () => {
    const { source, calls } = fakeSource(hosts);
    const { result, ctx } = await run(source, NESTED, { f: { reference: patterns } });
    expect(result.errors).toBeUndefined();
    const want = Object.values(hosts).flat().filter((i) => i.repoTags.some((t) => pathMatch('repo/n1?:*', t))).length;
    const data = result.data as { images: { totalCount: number; nodes: Array<{ host: { images: { totalCount: number } } }> } };
    expect(want).toBeGreaterThan(0);
    expect(data.images.totalCount).toBe(want);
    expect(data.images.nodes).toHaveLength(want);
    expect(ctx.filters.compilations).toBe(1);
    expect(ctx.filters.evaluations).toBe(3);
    expect(calls.images).toBe(3);
  });

  it('refuses a list longer than the maximum before calling any engine, naming the argument', async () => {
    for (const key of ['reference', 'label', 'labelNot', 'ids'] as const) {
      const { source, calls } = fakeSource(hosts);
      const entries = Array.from({ length: key === 'reference' ? 20_000 : MAX_FILTER_ENTRIES + 1 }, (_, i) => (key === 'ids' ? i.toString(16) : `k${i}`));
      const { result } = await run(source, NESTED, { f: { [key]: entries } });
      expect(result.errors?.[0]?.extensions, key).toMatchObject({ code: 'BAD_USER_INPUT', argument: `filter.${key}`, limit: MAX_FILTER_ENTRIES });
      expect(calls.images).toBe(0);
    }
    expect(() => compileFilter({ reference: ['x'.repeat(1025)] })).toThrow(/at most 1024 characters/);
  });

  it('asks for precise creation times only for images in the bound\'s second, in one batch per host', async () => {
    const s = 1_700_000_000;
    const imgs = [image(1, s - 1), image(2, s), image(3, s), image(4, s), image(5, s + 1)];
    const ns = (sec: number, frac: bigint) => BigInt(sec) * 1_000_000_000n + frac;
    const nanos = { [id(2)]: ns(s, 5n), [id(3)]: ns(s, 7n), [id(4)]: ns(s, 7n) };
    const { source, calls } = fakeSource({ h: imgs }, nanos);
    const before = await run(source, `query($f: ImageFilter) { images(filter: $f) { nodes { id } } }`, { f: { before: 'repo/n3:3' } });
    expect((before.result.data as { images: { nodes: Array<{ id: string }> } }).images.nodes.map((n) => n.id).sort()).toEqual([id(1), id(2)]);
    expect(calls.precise.map((c) => [...c].sort())).toEqual([[id(2), id(3), id(4)].sort()]);
    // Without precise times (a source that cannot tell), whole seconds decide, as /images/json allows.
    const coarse = await filterHostImages('h', imgs, compileFilter({ since: 'repo/n2:2' }));
    expect(coarse.images.map((i) => i.id)).toEqual([id(5)]);
    const exact = await filterHostImages('h', imgs, compileFilter({ since: 'repo/n2:2' }), undefined, new Map(Object.entries(nanos)));
    expect(exact.images.map((i) => i.id)).toEqual([id(3), id(4), id(5)]);
  });
});

describe('full-precision creation times from image inspect', () => {
  it('parses RFC 3339 with 0 to 9 fraction digits and an offset, and refuses anything else', () => {
    expect(parseCreatedNanos('2024-08-08T08:08:08Z')).toBe(1723104488n * 1_000_000_000n);
    expect(parseCreatedNanos('2024-08-08T08:08:08.000000001Z')).toBe(1723104488n * 1_000_000_000n + 1n);
    expect(parseCreatedNanos('2024-08-08T10:08:08.5+02:00')).toBe(1723104488n * 1_000_000_000n + 500_000_000n);
    for (const bad of ['2024-08-08', '2024-08-08T08:08:08.1234567890Z', 'yesterday', 1723104488, null]) expect(() => parseCreatedNanos(bad), String(bad)).toThrow(TypeError);
  });

  it("an inspect answer without a usable Created is the engine's fault (a ZodError, so HOST_BAD_RESPONSE), not a bug of ours", () => {
    expect(normalizeInspectCreated({ Created: '2024-08-08T08:08:08.000000001Z', Id: 'x' })).toBe(1723104488n * 1_000_000_000n + 1n);
    for (const bad of [null, 'x', {}, { Created: 1723104488 }, { Created: 'yesterday' }]) expect(() => normalizeInspectCreated(bad), JSON.stringify(bad)).toThrow(ZodError);
  });
});

describe('filterHostImages over a list longer than one step (2000 images between yields)', () => {
  it('keeps exactly the matching images, in list order', async () => {
    const images: ImageRecord[] = Array.from({ length: 5003 }, (_, i) => ({
      id: `sha256:${String(i).padStart(64, '0')}`, parentId: null, repoTags: [`r/${i % 7}:t`], repoDigests: [], created: 1_700_000_000 + i,
      size: i, sharedSize: null, virtualSize: null, labels: { k: String(i % 3) }, containers: null,
    }));
    const got = await filterHostImages('h', images, compileFilter({ label: ['k=1'], reference: ['r/2*'] }));
    expect(got.images).toEqual(images.filter((i) => i.labels.k === '1' && i.repoTags[0] === 'r/2:t'));
    expect(got.images.length).toBeGreaterThan(200);
  });
});
