import { ZodError } from 'zod';
import { describe, expect, it } from 'vitest';
import { MAX_MANIFESTS_PER_IMAGE, normalizeManifests } from '../../src/docker/manifests.js';
import { normalizeImage } from '../../src/docker/normalize.js';
import type { ImageListOptions } from '../../src/docker/source.js';
import { compileFilter, filterHostImages } from '../../src/inventory/filter.js';
import { groupImages, uniqueTotals } from '../../src/inventory/groups.js';
import type { HostImage, ManifestRecord } from '../../src/inventory/types.js';
import { createFakeApp, fakeId, fakeImage, fakeSource, type FakeSource } from '../helpers/fake-source.js';

const raw = (kind: string, extra: Record<string, unknown> = {}) => ({
  ID: fakeId(9),
  Descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: fakeId(9), size: 500 },
  Available: true,
  Size: { Total: 30, Content: 10 },
  Kind: kind,
  ...extra,
});

const manifest = (os: string, architecture: string, variant: string | null, available = true, kind: ManifestRecord['kind'] = 'IMAGE'): ManifestRecord => ({
  id: fakeId(`${os}${architecture}${variant ?? ''}`.length),
  kind,
  descriptor: { mediaType: 'm', digest: fakeId(1), size: 1 },
  available,
  size: { total: 1, content: 1 },
  platform: kind === 'IMAGE' ? { os, architecture, variant } : null,
  containers: kind === 'IMAGE' ? 0 : null,
  unpackedSize: kind === 'IMAGE' ? 0 : null,
  attestationFor: null,
});

describe('manifests from the engine', () => {
  it('maps kinds, with UNKNOWN for kinds this code does not know, and image data only where there is some', () => {
    const out = normalizeManifests([
      raw('image', { ImageData: { Platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, Containers: ['a', 'b'], Size: { Unpacked: 20 } } }),
      raw('attestation', { AttestationData: { For: fakeId(8) } }),
      raw('signature-of-the-future'),
    ])!;
    expect(out.map((m) => m.kind)).toEqual(['IMAGE', 'ATTESTATION', 'UNKNOWN']);
    expect(out[0]).toMatchObject({ platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, containers: 2, unpackedSize: 20, size: { total: 30, content: 10 } });
    expect(out[1]).toMatchObject({ platform: null, containers: null, unpackedSize: null, attestationFor: fakeId(8) });
  });

  it('null when the engine sends none, an error (HOST_BAD_RESPONSE) when malformed or past the bound', () => {
    expect(normalizeManifests(undefined)).toBeNull();
    expect(() => normalizeManifests([raw('image', { Size: { Total: -1, Content: 0 } })])).toThrow(ZodError);
    expect(() => normalizeManifests(Array.from({ length: MAX_MANIFESTS_PER_IMAGE + 1 }, () => raw('image')))).toThrow(ZodError);
  });

  it('an image list asked with manifests=1 says null where the engine sent none; one asked without leaves them out', () => {
    const item = { Id: fakeId(1), ParentId: '', RepoTags: [], RepoDigests: [], Created: 1, Size: 1, SharedSize: -1, Labels: {}, Containers: -1 };
    expect(normalizeImage(item, true).manifests).toBeNull();
    expect('manifests' in normalizeImage(item, false)).toBe(false);
  });
});

describe('platform filter', () => {
  const images = [
    fakeImage({ id: fakeId(1), manifests: [manifest('linux', 'amd64', null), manifest('linux', 'arm64', 'v8', false)] }),
    fakeImage({ id: fakeId(2), manifests: [manifest('linux', 'arm64', 'v8')] }),
    fakeImage({ id: fakeId(3), manifests: null }),
    fakeImage({ id: fakeId(4), manifests: [manifest('linux', 'arm64', null, true, 'ATTESTATION')] }),
  ];
  const ids = async (platform: string) => (await filterHostImages('h', images, compileFilter({ platform }))).images.map((i) => i.id);

  it('matches available image manifests of the platform; a variant only when the filter names one', async () => {
    expect(await ids('linux/arm64')).toEqual([fakeId(2)]);
    expect(await ids('linux/arm64/v8')).toEqual([fakeId(2)]);
    expect(await ids('linux/arm64/v7')).toEqual([]);
    expect(await ids('Linux/AMD64')).toEqual([fakeId(1)]);
  });

  it.each(['linux', 'linux/', '/amd64', 'linux/amd64/v8/x', 'linux amd64', ''])('refuses %j (BAD_USER_INPUT)', (p) => {
    expect(() => compileFilter({ platform: p })).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argument: 'filter.platform' }) }));
  });
});

describe('imageGroups across image stores', () => {
  const index = fakeId('i');
  const hostImage = (host: string, id: string, repoDigests: string[], size = 10, descriptor?: string): HostImage => ({
    host,
    image: fakeImage({ id, repoDigests, size, ...(descriptor ? { descriptor: { mediaType: 'x', digest: descriptor, size: 1 } } : {}) }),
  });

  it('joins summaries that share an ID or a content digest, and nothing else', () => {
    const items = [
      hostImage('classic', fakeId('c'), [`r/multi@${index}`]),
      hostImage('containerd', index, [`r/multi@${index}`], 40, index),
      hostImage('other-repo', fakeId('c'), [`mirror/multi@${index}`]),
      hostImage('local', fakeId('l'), []),
      hostImage('local-cd', fakeId('m'), [], 10, fakeId('m')),
    ];
    const groups = groupImages(items).map((g) => ({ id: g.id, ids: g.ids, hosts: g.images.map((i) => i.host) }));
    expect(groups).toEqual([
      { id: [fakeId('c'), index].sort()[0], ids: [fakeId('c'), index].sort(), hosts: ['classic', 'containerd', 'other-repo'] },
      { id: fakeId('l'), ids: [fakeId('l')], hosts: ['local'] },
      { id: fakeId('m'), ids: [fakeId('m')], hosts: ['local-cd'] },
    ]);
    expect(uniqueTotals(items)).toEqual({ count: 3, size: 60 });
  });
});

describe('manifests are asked for only when the operation needs them', () => {
  function spying(): { source: FakeSource; asked: Array<ImageListOptions | undefined> } {
    const base = fakeSource({ images: { a: [fakeImage({ id: fakeId(1) })] } });
    const asked: Array<ImageListOptions | undefined> = [];
    return { source: { ...base, images: (host: string, options?: ImageListOptions) => (asked.push(options), base.images(host)) }, asked };
  }

  it.each([
    ['{ images { nodes { id descriptor { digest } } } }', false],
    ['{ images { nodes { id platforms } } }', true],
    ['{ images { nodes { manifests { id } } } }', true],
    ['query ($f: ImageFilter) { images(filter: $f) { totalCount } }', true],
    ['{ imageGroups(filter: { platform: "linux/arm64" }) { totalCount } }', true],
    ['{ hosts { images(filter: { platform: "linux/arm64" }) { totalCount } } }', true],
  ])('%s -> manifests %s, one list per host', async (query, wanted) => {
    const { source, asked } = spying();
    const res = await createFakeApp(source).query(query, { f: { platform: 'linux/amd64' } });
    expect(res.errors).toBeUndefined();
    expect(asked).toEqual([wanted ? { manifests: true } : {}]);
  });
});
