import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineGet, type EngineImageSummary } from '../../src/dev/engine-api.js';
import { pidsMentioning } from '../../src/dev/engine-cleanup.js';
import { MISSING_DOCKERD, NOT_ROOT } from '../../src/dev/preflight.js';
import { procAlive } from '../../src/dev/procs.js';
import { spawnGroup, waitFor, type Spawned } from '../helpers/process.js';

/** `npm run demo` as a newcomer runs it: engines, sample images, the gateway; then Ctrl-C. */

interface DemoInfo {
  graphiql: string;
  fleetPage: string;
  hosts: Array<{ name: string; endpoint: string; socket: string; dir: string; pid: number }>;
}

const QUERY = `{ hosts { name status } images { totalCount nodes { id repoTags size created host { name } } } }`;

let demo: Spawned;
let info: DemoInfo;

beforeAll(async () => {
  const env = { ...process.env };
  delete env.NODE_ENV;
  delete env.FLEETGRAPH_DOCKERD;
  demo = spawnGroup('npm', ['run', 'demo', '--', '--port', '0', '--json'], env);
  const line = () => demo.output().split('\n').find((l) => l.startsWith('{"graphiql"'));
  await waitFor('npm run demo to print its URLs', () => line() !== undefined, 240_000, demo.output);
  info = JSON.parse(line()!) as DemoInfo;
}, 260_000);

afterAll(async () => {
  if (!demo || demo.child.exitCode !== null) return;
  demo.signal('SIGTERM'); // a failed test leaves it running: it still cleans up after itself
  await Promise.race([demo.exited, new Promise((r) => setTimeout(r, 60_000))]);
}, 70_000);

describe('npm run demo', () => {
  it('serves its sample hosts, and answers a fleet query as each engine reports its images', async () => {
    expect(info.fleetPage).toBe(info.graphiql.replace(/graphql$/, ''));
    const res = await fetch(info.graphiql, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
    const body = (await res.json()) as {
      errors?: unknown;
      data: { hosts: Array<{ name: string; status: string }>; images: { totalCount: number; nodes: Array<{ id: string; repoTags: string[]; size: number; created: number; host: { name: string } }> } };
    };
    expect(body.errors).toBeUndefined();
    expect(body.data.hosts).toEqual(info.hosts.map((h) => ({ name: h.name, status: 'UP' })));
    let total = 0;
    for (const host of info.hosts) {
      const raw = await engineGet<EngineImageSummary[]>(host.socket, '/images/json');
      total += raw.length;
      const mine = body.data.images.nodes.filter((n) => n.host.name === host.name);
      expect(mine.map((n) => [n.id, n.size, n.created, [...n.repoTags].sort()]).sort()).toEqual(
        raw.map((r) => [r.Id, r.Size, r.Created, (r.RepoTags ?? []).filter((t) => t !== '<none>:<none>').sort()]).sort(),
      );
    }
    expect(body.data.images.totalCount).toBe(total);
  });

  it('seeds what there is to explore: several repositories and labels, tag drift, a dangling image, created containers', async () => {
    const images = new Map<string, EngineImageSummary[]>();
    for (const h of info.hosts) images.set(h.name, await engineGet<EngineImageSummary[]>(h.socket, '/images/json'));
    const all = [...images.values()].flat();
    const repos = new Set(all.flatMap((i) => i.RepoTags ?? []).map((t) => t.slice(0, t.lastIndexOf(':'))));
    expect(repos.size).toBeGreaterThanOrEqual(5);
    expect(all.every((i) => i.RepoTags?.[0] === '<none>:<none>' || Object.keys(i.Labels ?? {}).length > 0)).toBe(true);
    const latestApi = [...images].map(([h, list]) => [h, list.find((i) => i.RepoTags?.includes('shop/api:latest'))?.Id]);
    expect(new Set(latestApi.map(([, id]) => id)).size).toBe(2); // the same tag, two images across the fleet
    expect(all.filter((i) => (i.RepoTags ?? ['<none>:<none>'])[0] === '<none>:<none>')).toHaveLength(1);
    const containers = await Promise.all(info.hosts.map((h) => engineGet<Array<{ Image: string; State: string }>>(h.socket, '/containers/json?all=1')));
    expect(containers.flat().map((c) => c.State)).toEqual(['created', 'created', 'created']);
  });

  it('stops on Ctrl-C: the gateway, every dockerd and its helpers gone, temp dirs unmounted and removed', async () => {
    expect(info.hosts.every((h) => procAlive(h.pid) && existsSync(h.dir))).toBe(true);
    demo.signal('SIGINT'); // to the whole group, as a terminal does (npm forwards it once more)
    expect(await demo.exited).toBe(0);
    expect(demo.output()).toContain('stopped; engines and their temp dirs removed');
    expect(demo.output()).not.toContain('again: killing');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    for (const h of info.hosts) {
      expect(procAlive(h.pid), h.name).toBe(false);
      expect(pidsMentioning(`${h.dir}/`, new Set()), h.name).toEqual([]);
      expect(mounts.includes(h.dir), h.name).toBe(false);
      expect(existsSync(h.dir), h.name).toBe(false);
    }
    await expect(fetch(info.fleetPage)).rejects.toThrow();
  }, 90_000);
});

/** The built script of the run above, started without what it needs. */
describe('npm run demo without dockerd or root', () => {
  const script = new URL('../../dist/scripts/demo.js', import.meta.url).pathname;
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const emptyDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'fleetgraph-demo-path-'));
    dirs.push(d);
    chmodSync(d, 0o755);
    return d;
  };
  const run = (env: NodeJS.ProcessEnv, ids: { uid?: number; gid?: number } = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [script], { env, ...ids, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });

  it('with no dockerd on PATH, names the package to install and exits 2', async () => {
    const { code, stdout, stderr } = await run({ PATH: emptyDir() });
    expect(stderr).toBe(`fleetgraph demo: ${MISSING_DOCKERD}\n`);
    expect(stderr).toContain('apt-get install docker.io');
    expect(stdout).toBe('');
    expect(code).toBe(2);
  });

  it.runIf(process.getuid?.() === 0)('as a user other than root, says dockerd needs root and exits 2', async () => {
    const bin = emptyDir();
    writeFileSync(join(bin, 'dockerd'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const { code, stderr } = await run({ PATH: bin }, { uid: 65534, gid: 65534 });
    expect(stderr).toBe(`fleetgraph demo: ${NOT_ROOT}\n`);
    expect(code).toBe(2);
  });
});
