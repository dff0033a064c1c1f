import { describe, expect, it } from 'vitest';
import { MAX_API_VERSION, negotiateApiVersion } from '../../src/docker/hosts.js';
import { createFakeApp, FAKE_VERSION, fakeId, fakeImage, fakeSource } from '../helpers/fake-source.js';

describe('negotiateApiVersion (the one place the version is chosen)', () => {
  it.each([
    ['1.24', '1.24'],
    ['1.41', '1.41'],
    ['1.51', '1.51'],
    ['1.52', '1.52'],
    [MAX_API_VERSION, MAX_API_VERSION],
    ['1.56', MAX_API_VERSION],
    ['1.100', MAX_API_VERSION],
    ['2.0', MAX_API_VERSION],
  ])('engine %s -> %s', (engine, spoken) => expect(negotiateApiVersion(engine)).toBe(spoken));

  it('knows the shapes up to Docker 29.6-29.7 (API 1.55)', () => expect(MAX_API_VERSION).toBe('1.55'));

  it.each([
    // Docker 29.0-29.1: 1.52, refuses below 1.44
    ['1.52', '1.44', '1.52'],
    ['1.44', '1.44', '1.44'],
    // an engine newer than this code whose minimum is past ours: its minimum, never below it
    ['1.60', '1.56', '1.56'],
    ['1.60', '1.24', MAX_API_VERSION],
    ['1.41', '1.12', '1.41'],
  ])('engine %s (minimum %s) -> %s', (engine, min, spoken) => expect(negotiateApiVersion(engine, min)).toBe(spoken));
});

describe('Host.apiVersion', () => {
  const images = { a: [fakeImage({ id: fakeId(1) })], b: [] };

  it("is the host's negotiated version, read through the request's loaders: one image list per host", async () => {
    const source = fakeSource({ images, versions: { a: { ...FAKE_VERSION, apiVersion: '1.43' } }, fail: { c: 'HOST_UNREACHABLE' } });
    const res = await createFakeApp(source).query<{ hosts: Array<{ name: string; apiVersion: string | null; imageCount: number | null }> }>(
      '{ hosts { name apiVersion imageCount } }',
    );
    expect(res.data!.hosts).toEqual([
      { name: 'a', apiVersion: '1.43', imageCount: 1 },
      { name: 'b', apiVersion: '1.41', imageCount: 0 },
      { name: 'c', apiVersion: null, imageCount: null },
    ]);
    // apiVersion adds no error of its own for the failed host (imageCount reports it) and no call.
    expect(res.errors!.map((e) => e.path)).toEqual([['hosts', 2, 'imageCount']]);
    expect(source.calls.images).toEqual({ a: 1, b: 1, c: 1 });
  });

  it('an internal error while reading the host fails the field, masked', async () => {
    const source = fakeSource({ images });
    Object.assign(source, { images: () => Promise.reject(new TypeError('bug')) });
    const res = await createFakeApp(source).query('{ hosts { apiVersion } }');
    expect(res.errors!.map((e) => e.message)).toEqual(['Unexpected error.', 'Unexpected error.']);
  });
});
