/**
 * Module: the one small model behind every versioned fake engine (./render.ts turns it into each API
 * version's JSON, ./server.ts serves it). The images are what Docker 25-29 hosts hold today: a
 * two-platform image with a BuildKit attestation, pulled from a registry (so it has a repo digest);
 * a locally built single-platform image; an arm64-only image with an extra artifact of a kind this
 * gateway does not know; a dangling image. Digests are made up but well formed and stable.
 */
import { createHash } from 'node:crypto';

export const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

export type Store = 'classic' | 'containerd';

export interface ModelPlatform {
  os: string;
  architecture: string;
  variant?: string;
  /** Digest and size of its image manifest. */
  manifest: string;
  manifestSize: number;
  /** Digest of its image config: the image ID on a classic-store host. */
  config: string;
  /** Compressed blobs in the content store (containerd) and unpacked layers. */
  content: number;
  unpacked: number;
  /** Whether its content is on the host (containerd keeps an index whose other platforms were not pulled). */
  available: boolean;
}

export interface ModelExtra {
  kind: 'attestation' | 'unknown';
  digest: string;
  size: number;
  content: number;
  available: boolean;
  /** For attestations: the manifest digest it is about. */
  for?: string;
}

export interface ModelImage {
  key: string;
  tags: string[];
  /** Repositories it was pulled from: its repo digests are `repo@index`. */
  repos: string[];
  /** The digest a containerd-store host knows it by: of its index, or of its one manifest (`index` undefined). */
  index?: { digest: string; size: number };
  created: number;
  /** When the containerd store recorded it (what its `until` filter compares). */
  recorded: number;
  labels: Record<string, string>;
  platforms: ModelPlatform[];
  extras: ModelExtra[];
  /** SharedSize with shared-size=1. */
  shared: number;
}

export interface ModelContainer {
  id: string;
  name: string;
  image: string;
  /** Which platform of the image it runs (its architecture). */
  architecture: string;
  created: number;
}

export const digest = (seed: string): string => `sha256:${createHash('sha256').update(seed).digest('hex')}`;

function platform(key: string, os: string, architecture: string, sizes: { content: number; unpacked: number }, available = true, variant?: string): ModelPlatform {
  const p = `${key}/${os}/${architecture}${variant ? `/${variant}` : ''}`;
  return { os, architecture, ...(variant ? { variant } : {}), manifest: digest(`manifest:${p}`), manifestSize: 480 + key.length, config: digest(`config:${p}`), ...sizes, available };
}

/** The model's images. The host platform is linux/amd64: a classic-store host keeps only that one of a multi-platform image. */
export function modelImages(): ModelImage[] {
  const multiAmd = platform('multi', 'linux', 'amd64', { content: 3_000_000, unpacked: 7_500_000 });
  // Pulled on an amd64 host: the index lists arm64 too, but its content is not there.
  const multiArm = platform('multi', 'linux', 'arm64', { content: 2_900_000, unpacked: 7_100_000 }, false, 'v8');
  const arm = platform('arm', 'linux', 'arm64', { content: 1_200_000, unpacked: 2_600_000 }, true, 'v8');
  return [
    {
      key: 'multi',
      tags: ['registry.test:5000/fleet/multi:1'],
      repos: ['registry.test:5000/fleet/multi'],
      index: { digest: digest('index:multi'), size: 1_609 },
      created: 1_760_000_000,
      recorded: 1_764_000_000,
      labels: { 'org.opencontainers.image.title': 'multi' },
      platforms: [multiAmd, multiArm],
      extras: [{ kind: 'attestation', digest: digest('att:multi/amd64'), size: 566, content: 24_000, available: true, for: multiAmd.manifest }],
      shared: 3_000_000,
    },
    {
      key: 'single',
      tags: ['fleet/single:2', 'fleet/single:latest'],
      repos: [],
      created: 1_762_000_000,
      recorded: 1_762_000_100,
      labels: { tier: 'web', empty: '' },
      platforms: [platform('single', 'linux', 'amd64', { content: 800_000, unpacked: 2_000_000 })],
      extras: [],
      shared: 0,
    },
    {
      key: 'arm',
      tags: ['fleet/arm:1'],
      repos: ['registry.test:5000/fleet/arm'],
      index: { digest: digest('index:arm'), size: 1_024 },
      created: 1_761_000_000,
      recorded: 1_763_000_000,
      labels: {},
      platforms: [arm],
      extras: [{ kind: 'unknown', digest: digest('sig:arm'), size: 321, content: 321, available: true }],
      shared: 0,
    },
    {
      key: 'dangling',
      tags: [],
      repos: [],
      created: 1_759_000_000,
      recorded: 1_759_000_000,
      labels: {},
      platforms: [platform('dangling', 'linux', 'amd64', { content: 100_000, unpacked: 250_000 })],
      extras: [],
      shared: 0,
    },
  ];
}

export function modelContainers(): ModelContainer[] {
  return [
    { id: digest('container:web-1').slice(7), name: 'web-1', image: 'multi', architecture: 'amd64', created: 1_764_100_000 },
    { id: digest('container:web-2').slice(7), name: 'web-2', image: 'multi', architecture: 'amd64', created: 1_764_100_001 },
    { id: digest('container:job').slice(7), name: 'job', image: 'single', architecture: 'amd64', created: 1_764_100_002 },
  ];
}
