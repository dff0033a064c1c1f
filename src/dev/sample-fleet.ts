/**
 * Module: the sample fleet of `npm run demo`: three hosts (prod, staging, ci) and the images and containers
 * they hold, made locally (images.ts; nothing is pulled) and loaded into private engines (engine.ts).
 *
 * What there is to find in it:
 *  - one shared base image on every host, and app images built on it (shared layers);
 *  - tag drift: `shop/api:latest` is 1.4.2 on prod and 1.5.0-rc1 on staging and ci;
 *  - a dangling image on ci (an older shop/api build whose tag moved on);
 *  - OCI labels (source, version, revision), team labels, and an unused old image on prod;
 *  - containers created (never started, no network) from shop/api and shop/web on prod, from shop/web on staging.
 * Image IDs are the same in every run: the specs fix every byte (content, times, labels).
 */
import { createHash } from 'node:crypto';
import { buildImageTar, createContainer, loadImages, type ImageSpec, type LayerSpec } from './images.js';

export const SAMPLE_HOSTS = ['prod', 'staging', 'ci'] as const;
export type SampleHost = (typeof SAMPLE_HOSTS)[number];

/** `size` bytes that look like a binary: deterministic, incompressible. */
function blob(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

const layer = (files: LayerSpec['files']): LayerSpec => ({ files });

const BASE = layer({
  'etc/os-release': 'PRETTY_NAME="Example Linux 12"\nID=example\nVERSION_ID=12\n',
  'usr/lib/libexample.so.1': blob('base', 900_000),
});
const oci = (name: string, version: string, revision: string) => ({
  'org.opencontainers.image.source': `https://git.example.com/${name}`,
  'org.opencontainers.image.version': version,
  'org.opencontainers.image.revision': revision,
});
const app = (name: string, version: string, size: number) =>
  layer({ [`srv/${name}/VERSION`]: `${version}\n`, [`srv/${name}/bin/${name}`]: blob(`${name}:${version}`, size) });

const SPECS = {
  base: { layers: [BASE], created: '2026-03-02T07:00:00Z', labels: { ...oci('base/runtime', '12.5', '9c1e0f2'), 'com.example.team': 'platform' } },
  api142: {
    layers: [BASE, app('api', '1.4.2', 420_000)],
    created: '2026-09-14T10:21:07Z',
    labels: { ...oci('shop/api', '1.4.2', '4f7a9d1'), 'com.example.team': 'payments' },
  },
  api150rc1: {
    layers: [BASE, app('api', '1.5.0-rc1', 455_000)],
    created: '2026-11-18T16:02:44Z',
    labels: { ...oci('shop/api', '1.5.0-rc1', 'b82c3e0'), 'com.example.team': 'payments' },
  },
  apiOldBuild: {
    layers: [BASE, app('api', '1.5.0-dev.31', 450_000)],
    created: '2026-11-17T22:40:13Z',
    labels: { ...oci('shop/api', '1.5.0-dev.31', '77d0a5c'), 'com.example.team': 'payments' },
  },
  web201: {
    layers: [BASE, app('web', '2.0.1', 310_000)],
    created: '2026-10-05T08:45:30Z',
    labels: { ...oci('shop/web', '2.0.1', 'e13f9b2'), 'com.example.team': 'storefront' },
  },
  web119: {
    layers: [BASE, app('web', '1.19.4', 290_000)],
    created: '2026-05-27T13:10:00Z',
    labels: { ...oci('shop/web', '1.19.4', '05ab6cd'), 'com.example.team': 'storefront' },
  },
  db: {
    layers: [BASE, app('db', '16.4', 1_200_000)],
    created: '2026-08-01T09:00:00Z',
    labels: { ...oci('infra/postgres', '16.4', 'a4410ee'), 'com.example.team': 'platform', 'com.example.backup': 'nightly' },
  },
  builder: {
    layers: [layer({ 'opt/builder/bin/build': blob('builder', 1_600_000), 'opt/builder/README': 'CI build tools\n' })],
    created: '2026-06-30T18:30:00Z',
    labels: { ...oci('ci/builder', '2026.06', '3d3d3d3'), 'com.example.team': 'platform' },
  },
} satisfies Record<string, Omit<ImageSpec, 'tags'>>;
type SpecKey = keyof typeof SPECS;

/** What each host holds, with its tags ([] = dangling). */
const HOSTS: Record<SampleHost, Array<[SpecKey, string[]]>> = {
  prod: [
    ['base', ['base/runtime:12']],
    ['api142', ['shop/api:1.4.2', 'shop/api:latest']],
    ['web201', ['shop/web:2.0.1', 'shop/web:latest']],
    ['web119', ['shop/web:1.19.4']],
    ['db', ['infra/postgres:16.4']],
  ],
  staging: [
    ['base', ['base/runtime:12']],
    ['api150rc1', ['shop/api:1.5.0-rc1', 'shop/api:latest']],
    ['web201', ['shop/web:2.0.1', 'shop/web:latest']],
    ['db', ['infra/postgres:16.4']],
  ],
  ci: [
    ['base', ['base/runtime:12']],
    ['builder', ['ci/builder:2026.06', 'registry.example.com:5000/ci/builder:2026.06']],
    ['api150rc1', ['shop/api:1.5.0-rc1', 'shop/api:latest']],
    ['apiOldBuild', []],
  ],
};

/** Containers created from the sample images (never started; NetworkMode none). */
const CONTAINERS: Record<SampleHost, Array<[name: string, image: string]>> = {
  prod: [['shop-api-1', 'shop/api:1.4.2'], ['shop-web-1', 'shop/web:2.0.1']],
  staging: [['shop-web-1', 'shop/web:2.0.1']],
  ci: [],
};

/** Loads each host's images (one /images/load each) and creates its containers, every host in parallel. */
export async function seedSampleFleet(engines: ReadonlyArray<{ name: string; socket: string }>): Promise<void> {
  await Promise.all(
    engines.map(async (e) => {
      const host = e.name as SampleHost;
      if (!SAMPLE_HOSTS.includes(host)) throw new Error(`seedSampleFleet: no sample images for a host named ${e.name}`);
      const { tar } = await buildImageTar(HOSTS[host].map(([key, tags]) => ({ ...SPECS[key], tags })));
      await loadImages(e.socket, tar);
      for (const [name, image] of CONTAINERS[host]) await createContainer(e.socket, image, name);
    }),
  );
}
