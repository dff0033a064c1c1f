/**
 * Module: a CPU profile of the gateway answering a query over fake engines (no dockerd needed):
 * `node dist/bench/profile.js [--hosts 4] [--images 1000] [--runs 30] [--warm 1] [--query wire|every|count|page]`
 * writes a .cpuprofile under bench/results/profile/ (open it in Chrome DevTools) and prints the top
 * self-time functions. Profile first, then change what the profile shows.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fakeList } from './engine-calls.js';
import { startFakeEngine, type FakeEngine } from '../test/helpers/fake-engine.js';
import { freePort } from '../test/helpers/process.js';
import { flag, numberFlag } from './args.js';

const K = numberFlag('hosts', 4);
const M = numberFlag('images', 1000);
const RUNS = numberFlag('runs', 30);
/** Requests before the measured ones: V8 optimises a new operation's code paths during its first tens of requests. */
const WARM = numberFlag('warm', 1);
const QUERIES: Record<string, string> = {
  wire: `{ images { nodes { id parentId repoTags repoDigests created size virtualSize labels { key value } host { name } } } }`,
  every: `{ images { totalCount nodes { id parentId repoTags repoDigests created createdAt size sharedSize virtualSize containers inUse usedBy { id } labels { key value } host { name } } } }`,
  count: `{ images { totalCount } }`,
  page: `{ images(first: 20, orderBy: [{ field: SIZE, direction: DESC }]) { totalCount edges { cursor node { id size } } } }`,
};
const query = QUERIES[flag('query', 'wire')]!;
/**
 * --new-op: the measured requests send a new operation (the query with `__typename` added): the warm-up
 * warms the shared code, and the first measured request shows the cost of an operation's first runs.
 */
const NEW_OP = process.argv.includes('--new-op');
/** --no-prof: no CPU profiler (it slows the gateway); for comparing timings, CPU and event-loop numbers only. */
const PROFILE = !process.argv.includes('--no-prof');

const fakes: FakeEngine[] = [];
for (let i = 0; i < K; i++) fakes.push(await startFakeEngine(`p${i}`));
for (const f of fakes)
  f.images.splice(0, f.images.length, ...fakeList(f.name, M));
const dir = fileURLToPath(new URL('../../bench/results/profile/', import.meta.url));
mkdirSync(dir, { recursive: true });
const port = await freePort();
const child = fork(fileURLToPath(new URL('./gateway.js', import.meta.url)), [JSON.stringify({ hosts: fakes.map((f) => `${f.name}=${f.endpoint}`), port, maxImages: 1_000_000 })], {
  execArgv: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [],
  env: { ...process.env, NODE_ENV: 'production' },
});
const { url } = await new Promise<{ url: string }>((r) => child.once('message', (m) => r(m as { url: string })));
const post = async (q = query) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"errors"')) throw new Error(`profile: ${res.status} ${text.slice(0, 300)}`);
};
const ask = <T>(msg: string) => {
  const answer = new Promise<T>((r) => child.once('message', (m) => r(m as T)));
  child.send(msg);
  return answer;
};
try {
  for (let i = 0; i < WARM; i++) await post();
  await ask('reset');
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) await post(NEW_OP ? query.replace(/^\{/, '{ __typename ') : query);
  const { cpuMs, delayMaxMs, blockCpuMaxMs } = await ask<{ cpuMs: number; delayMaxMs: number; blockCpuMaxMs: number }>('report');
  console.log(`${RUNS} requests, ${((performance.now() - t0) / RUNS).toFixed(1)} ms each, gateway CPU ${(cpuMs / RUNS).toFixed(1)} ms each, event-loop delay max ${delayMaxMs.toFixed(1)} ms, longest CPU block ${blockCpuMaxMs.toFixed(1)} ms`);
} finally {
  // Stopped also when a request failed, so no gateway is left behind.
  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  await Promise.all(fakes.map((f) => f.stop()));
}

if (!PROFILE) process.exit(0);
interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }
const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort().pop()!;
const profile = JSON.parse(readFileSync(dir + file, 'utf8')) as { nodes: Node[]; startTime: number; endTime: number; samples: number[] };
const per = (profile.endTime - profile.startTime) / 1000 / profile.samples.length;
const self = new Map<string, number>();
for (const n of profile.nodes) {
  const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, '')}:${n.callFrame.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + n.hitCount * per);
}
console.log(`profile: ${dir}${file}; self ms per request (the whole process over its ${RUNS + WARM} requests):`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(v / (RUNS + WARM)).toFixed(2).padStart(8)}  ${k}`);
