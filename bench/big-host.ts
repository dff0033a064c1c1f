/**
 * Issue #9 §11: a host with 200,000 images (~52 MB of JSON). Measures, in one process, how long the
 * event loop is held while such a list is parsed and normalised for 8 concurrent requests (which share
 * one engine call and one normalisation), by timing a 10 ms heartbeat that runs meanwhile.
 * `node dist/bench/big-host.js` after `npm run build`; BENCH_BIG_IMAGES changes the size.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { HostRegistry } from '../src/docker/hosts.js';
import { EngineSource } from '../src/docker/source.js';

const COUNT = Number(process.env.BENCH_BIG_IMAGES ?? 200_000);
const CLIENTS = 8;

const images = Array.from({ length: COUNT }, (_, i) => ({
  Id: `sha256:${i.toString(16).padStart(64, '0')}`,
  ParentId: '',
  RepoTags: [`registry.example/team/app-${i % 500}:${i}`],
  RepoDigests: [],
  Created: 1_700_000_000 + i,
  Size: 1_000_000 + i,
  SharedSize: -1,
  VirtualSize: 1_000_000 + i,
  Labels: { team: 'red', index: String(i) },
  Containers: -1,
}));
const text = JSON.stringify(images);

let calls = 0;
// The engine call itself is replaced (the body is parsed here, as readResponse does), so what is
// measured is the gateway's own work on the body, not a fake engine's serialising in this process.
let inFlight: Promise<unknown> | undefined;
const client = {
  apiVersion: '1.41',
  getJson: () => (inFlight ??= new Promise((resolve) => setTimeout(() => (calls++, resolve(JSON.parse(text))), 5))),
};
const source = new EngineSource({ client: () => client, names: () => ['big'] } as unknown as HostRegistry);

const histogram = monitorEventLoopDelay({ resolution: 5 });
let longestGap = 0;
let last = performance.now();
const beat = setInterval(() => {
  const now = performance.now();
  longestGap = Math.max(longestGap, now - last);
  last = now;
}, 10);
histogram.enable();
const t0 = performance.now();
const lists = await Promise.all(Array.from({ length: CLIENTS }, () => source.images('big')));
const total = performance.now() - t0;
histogram.disable();
clearInterval(beat);

const parse0 = performance.now();
JSON.parse(text);
const parseMs = performance.now() - parse0;

const report = [
  `# Big host (${COUNT} images, ${(text.length / 1e6).toFixed(1)} MB), ${CLIENTS} concurrent requests`,
  '',
  `| measure | value |`,
  `| --- | --- |`,
  `| engine calls | ${calls} |`,
  `| images per answer | ${lists[0]!.length} |`,
  `| total time for all ${CLIENTS} | ${total.toFixed(0)} ms |`,
  `| JSON.parse of the body alone (one blocking step) | ${parseMs.toFixed(0)} ms |`,
  `| longest gap between 10 ms heartbeats | ${longestGap.toFixed(0)} ms |`,
  `| event-loop delay p99 / max | ${(histogram.percentile(99) / 1e6).toFixed(0)} / ${(histogram.max / 1e6).toFixed(0)} ms |`,
  '',
  'Normalisation yields every 500 images, so other requests run in between (the p99 delay). The longest',
  'gap is what still blocks: the one JSON.parse of the body (proportional to its size, capped by',
  '--max-response-bytes) and garbage collection of a heap this size; the machine is shared and noisy.',
].join('\n');
writeFileSync(new URL('../../bench/results/big-host.md', import.meta.url), `${report}\n`);
console.log(report);
