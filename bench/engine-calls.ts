/**
 * Module: what the benchmarks measure against: timing a call, the raw engine call (GET + JSON.parse over a
 * unix socket, nothing else), and the image list the fake engines serve.
 */
import http from 'node:http';
import type { FakeImage } from '../test/helpers/fake-engine.js';

export async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** GET `path` from the engine at `socket` and parse it: the physical limit the gateway is compared with. */
export function rawGet(socket: string, path: string, agent: http.Agent): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: socket, path, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** `n` distinct images for a fake engine named `name`, in the Engine API's shape. */
export function fakeList(name: string, n: number): FakeImage[] {
  return Array.from({ length: n }, (_, i) => ({
    Id: `sha256:${(i + 1).toString(16).padStart(8, '0')}${name.padEnd(8, '0').slice(0, 8)}${'0'.repeat(48)}`.replace(/[^a-z0-9:]/g, '0'),
    ParentId: '',
    RepoTags: [`bench/${name}-${i % 40}:${i}`],
    RepoDigests: [],
    Created: 1_700_000_000 + i * 60,
    Size: 1_000_000 + ((i * 7919) % 100_000),
    SharedSize: -1,
    VirtualSize: 1_000_000 + ((i * 7919) % 100_000),
    Labels: { bench: 'true', index: String(i) },
    Containers: -1,
  }));
}
