import { createHash } from 'node:crypto';
import type { ContainerRecord, ImageRecord } from '../../src/inventory/types.js';
import type { InventorySource } from '../../src/docker/source.js';

/**
 * Module: an in-process InventorySource with `count` made-up images per host (see fake-source.ts for the general one),
 * with every call counted. `gate`, when set, holds each images() call until it is resolved.
 */
export interface BulkSource extends InventorySource {
  calls: { images: number; containers: number; version: number; sharedSizes: number };
  gate: Promise<void> | undefined;
}

export function bulkImage(host: string, i: number): ImageRecord {
  return {
    id: `sha256:${createHash('sha256').update(`${host}/${i}`).digest('hex')}`,
    parentId: null,
    repoTags: [`fake/${host}-${i}:latest`],
    repoDigests: [],
    created: 1_700_000_000 + i,
    size: 1000 + i,
    sharedSize: 0,
    virtualSize: null,
    labels: { 'org.example.n': String(i) },
    containers: 0,
  };
}

export function bulkSource(hosts: string[], count: number): BulkSource {
  const images = new Map(hosts.map((h) => [h, Array.from({ length: count }, (_, i) => bulkImage(h, i))]));
  const source: BulkSource = {
    calls: { images: 0, containers: 0, version: 0, sharedSizes: 0 },
    gate: undefined,
    hostNames: () => hosts,
    async images(host) {
      source.calls.images++;
      await source.gate;
      return images.get(host)!;
    },
    containers: () => {
      source.calls.containers++;
      return Promise.resolve([] as ContainerRecord[]);
    },
    version: () => {
      source.calls.version++;
      return Promise.resolve({ version: '20.10.24', apiVersion: '1.41', minApiVersion: '1.12', os: 'linux', arch: 'amd64', kernelVersion: null });
    },
    sharedSizes: () => {
      source.calls.sharedSizes++;
      return Promise.resolve(new Map());
    },
    breakerState: () => 'closed',
    negotiatedApiVersion: () => '1.41',
  };
  return source;
}
