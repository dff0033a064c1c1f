import { describe, expect, it } from 'vitest';
import { HostError } from '../../src/docker/errors.js';
import { createFakeApp, fakeContainer, fakeId, fakeImage, fakeSource, type SourceMethod } from '../helpers/fake-source.js';

/**
 * The partial-error seam, field by field: a HostError becomes a partial error (the field answers its
 * fallback, the error names the host), anything else is a bug of ours and fails the field masked, with
 * no host blamed and nothing of the original message.
 */

const A1 = fakeImage({ id: fakeId('a1'), sharedSize: null, containers: null });

/** Each field that may serve a partial answer, the source method it needs, and where its error lands. */
const FIELDS: Array<{ name: string; method: SourceMethod; query: string; path: Array<string | number>; fallback: unknown }> = [
  { name: 'ImageSummary.sharedSize', method: 'sharedSizes', query: '{ images { nodes { sharedSize } } }', path: ['images', 'nodes', 0, 'sharedSize'], fallback: null },
  { name: 'ImageSummary.containers', method: 'containers', query: '{ images { nodes { containers } } }', path: ['images', 'nodes', 0, 'containers'], fallback: null },
  { name: 'ImageSummary.usedBy', method: 'containers', query: '{ images { nodes { usedBy { id } } } }', path: ['images', 'nodes', 0, 'usedBy'], fallback: null },
  { name: 'ImageSummary.inUse', method: 'containers', query: '{ images { nodes { inUse } } }', path: ['images', 'nodes', 0, 'inUse'], fallback: null },
  { name: 'Host.engine', method: 'version', query: '{ hosts { engine { version } } }', path: ['hosts', 0, 'engine'], fallback: null },
  { name: 'Host.imageCount', method: 'images', query: '{ hosts { imageCount } }', path: ['hosts', 0, 'imageCount'], fallback: null },
  { name: 'FleetStats.unusedCount', method: 'containers', query: '{ fleet { unusedCount } }', path: ['fleet', 'unusedCount'], fallback: 0 },
];

function leaf(data: unknown, path: ReadonlyArray<string | number>): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | null)?.[k], data);
}

describe('a field that may answer partially', () => {
  it.each(FIELDS)('$name: a HostError is a partial error naming the host, the field its fallback', async ({ method, query, path, fallback }) => {
    const source = fakeSource({ images: { a: [A1] }, containers: { a: [fakeContainer({ id: 'c1', imageId: A1.id })] } });
    Object.assign(source, { [method]: () => Promise.reject(new HostError('a', 'HOST_TIMEOUT', 'fake')) });
    const res = await createFakeApp(source).query(query);
    expect(res.status).toBe(200);
    expect(leaf(res.data, path)).toEqual(fallback);
    expect(res.errors!.map((e) => e.extensions)).toContainEqual({ code: 'HOST_TIMEOUT', host: 'a' });
  });

  it.each(FIELDS)('$name: an internal error fails the field, masked, blaming no host', async ({ method, query, path }) => {
    const source = fakeSource({ images: { a: [A1] }, containers: { a: [fakeContainer({ id: 'c1', imageId: A1.id })] } });
    Object.assign(source, { [method]: () => Promise.reject(new TypeError('secret /var/run/docker.sock')) });
    const res = await createFakeApp(source).query(query);
    expect(res.status).toBe(200);
    expect(JSON.stringify(res)).not.toContain('docker.sock');
    expect(res.errors!.length).toBeGreaterThan(0);
    for (const e of res.errors!) {
      expect(e.message).toBe('Unexpected error.');
      expect(e.extensions?.host).toBeUndefined();
    }
    expect(res.errors!.map((e) => e.path)).toContainEqual(path);
  });
});
