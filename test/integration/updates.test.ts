/**
 * Issue 15 against real engines and a real registry: Debian's docker-registry on loopback, reached
 * through counting proxies (plain, basic auth, bearer token flow) that the engines push to and pull from,
 * so the images carry real RepoDigests and every request the gateway makes is counted where it arrives.
 * Three private engines, named six times over (the same engine under two host names) so "the same tag on
 * many hosts" is more hosts than engines. Nothing here contacts anything beyond 127.0.0.1.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageFilter, imagesTable, OUTDATED_QUERY, type ImageNode } from '../../src/commands/images.js';
import { openFleet } from '../../src/commands/fleet.js';
import { loadConfig } from '../../src/config.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { engineGet } from '../../src/dev/engine-api.js';
import { startEngines, type Engine } from '../../src/dev/engine.js';
import { buildImageTar, loadImages, tagImage } from '../../src/dev/images.js';
import {
  getManifest,
  pullImage,
  pushImage,
  putManifest,
  startFaultyRegistry,
  startRegistry,
  startRegistryProxy,
  type Registry,
  type RegistryProxy,
} from '../helpers/registry.js';

const CREDS = { username: 'fleet', password: 'S3cret-registry-pw' };
const LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

let a: Engine, b: Engine, c: Engine;
let registry: Registry;
let plain: RegistryProxy, basic: RegistryProxy, bearer: RegistryProxy;
const faulty: Record<'429' | '500' | 'hang' | 'other', Awaited<ReturnType<typeof startFaultyRegistry>>> = {} as never;
let dir: string;
const closers: Array<() => unknown> = [];
/** Digests the engines reported when pushing (the oracle). */
let d1: string, d2: string;
let idV1: string, idV2: string, idV3: string;

interface Update { reference: string; localDigest: string | null; remoteDigest: string | null; status: string; checkedAt: string | null; reason: string | null }
interface Node { id: string; host: { name: string }; repoTags: string[]; repoDigests: string[]; updates: Update[] }
const QUERY = `{ images { nodes { id host { name } repoTags repoDigests updates { reference localDigest remoteDigest status checkedAt reason } } } }`;

const hosts = () => [
  { name: 'a', endpoint: a.endpoint },
  { name: 'b', endpoint: b.endpoint },
  { name: 'c', endpoint: c.endpoint },
  { name: 'b2', endpoint: b.endpoint },
  { name: 'c2', endpoint: c.endpoint },
  { name: 'c3', endpoint: c.endpoint },
];

function app(input: Parameters<typeof createTestApp>[1], env: NodeJS.ProcessEnv = { DOCKER_CONFIG: join(dir, 'empty') }): TestApp {
  const t = createTestApp(hosts(), { checkUpdates: true, registryTimeoutMs: 1500, ...input }, {}, env);
  closers.push(() => t.close());
  return t;
}

/** The update entry for `reference` on `host`. */
function entry(nodes: Node[], host: string, reference: string): Update {
  const found = nodes.filter((n) => n.host.name === host).flatMap((n) => n.updates).find((u) => u.reference === reference);
  if (!found) throw new Error(`no update entry for ${reference} on ${host}: ${JSON.stringify(nodes.filter((n) => n.host.name === host))}`);
  return found;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-updates-'));
  registry = await startRegistry();
  [plain, basic, bearer] = await Promise.all([
    startRegistryProxy(registry.host),
    startRegistryProxy(registry.host, { kind: 'basic', ...CREDS }),
    startRegistryProxy(registry.host, { kind: 'bearer', ...CREDS }),
  ]);
  for (const mode of ['429', '500', 'hang'] as const) faulty[mode] = await startFaultyRegistry(mode);
  faulty.other = await startFaultyRegistry('500');
  [a, b, c] = (await startEngines(['upda', 'updb', 'updc'])) as [Engine, Engine, Engine];

  const specs = ['v1', 'v2', 'v3'].map((v) => ({ layers: [{ files: { 'app/version': `${v}\n` } }], created: '2024-05-05T05:05:05Z', labels: { version: v } }));
  const { tar, ids } = await buildImageTar(specs);
  [idV1, idV2, idV3] = ids as [string, string, string];
  await loadImages(a.socket, tar);
  const app1 = `${plain.host}/fleet/app:1`;
  // v1 pushed, pulled by b and c (real RepoDigests), then superseded in the registry by v2 from a.
  await tagImage(a.socket, idV1, `${plain.host}/fleet/app`, '1');
  d1 = await pushImage(a.socket, app1);
  await pullImage(b.socket, app1);
  await pullImage(c.socket, app1);
  await tagImage(a.socket, idV2, `${plain.host}/fleet/app`, '1');
  d2 = await pushImage(a.socket, app1);
  // The same v2 through the authenticating proxies (same storage, so the same digest).
  await tagImage(a.socket, idV2, `${basic.host}/fleet/app`, '1');
  expect(await pushImage(a.socket, `${basic.host}/fleet/app:1`, CREDS)).toBe(d2);
  await tagImage(a.socket, idV2, `${bearer.host}/fleet/app`, '1');
  expect(await pushImage(a.socket, `${bearer.host}/fleet/app:1`, CREDS)).toBe(d2);
  // Tags naming registries that misbehave, one that is not allowed, and the Docker Hub (never contacted).
  for (const r of ['429', '500', 'hang', 'other'] as const) await tagImage(a.socket, idV2, `${faulty[r].host}/fleet/app`, '1');
  await tagImage(a.socket, idV2, 'nginx', '1.25');
  for (const p of [plain, basic, bearer]) p.reset();

  writeFileSync(join(dir, 'bearer.json'), JSON.stringify({ auths: { [`http://${bearer.host}/v2/`]: { username: CREDS.username, password: CREDS.password } } }));
}, 600_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await Promise.all([a, b, c].map((e) => e?.destroy()));
  await Promise.all([plain, basic, bearer, ...Object.values(faulty)].map((p) => p?.close()));
  await registry?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a pushed, then superseded, tag across the fleet', () => {
  let t: TestApp;
  let nodes: Node[];
  beforeAll(async () => {
    t = app({ registryAllow: [plain.host, faulty['429'].host, faulty['500'].host, faulty.hang.host] });
    const r = await t.query<{ images: { nodes: Node[] } }>(QUERY);
    expect(r.errors).toBeUndefined();
    nodes = r.data!.images.nodes;
  });

  it('reads OUTDATED on every host holding the old digest and CURRENT where the new one is', async () => {
    const ref = `${plain.host}/fleet/app:1`;
    for (const [host, engine] of [['a', a], ['b', b], ['c', c], ['b2', b], ['c2', c], ['c3', c]] as const) {
      // The oracle: the engine's own RepoDigests for the repository, and the digest the pushes reported.
      const own = await engineGet<{ Id: string; RepoDigests: string[] }>(engine.socket, `/images/${ref}/json`);
      const local = own.RepoDigests.find((d) => d.startsWith(`${plain.host}/fleet/app@`))!.split('@')[1];
      const u = entry(nodes, host, ref);
      expect(u).toMatchObject({ localDigest: local, remoteDigest: d2, status: local === d2 ? 'CURRENT' : 'OUTDATED', reason: null });
      expect(new Date(u.checkedAt!).getTime()).toBeGreaterThan(0);
    }
    expect(entry(nodes, 'a', ref).status).toBe('CURRENT');
    expect(['b', 'c', 'b2', 'c2', 'c3'].map((h) => entry(nodes, h, ref).localDigest)).toEqual(Array(5).fill(d1));
    expect(d1).not.toBe(d2);
  });

  it('asked the registry once for the tag, for six hosts, and not again within the interval', async () => {
    expect(plain.count('HEAD', '/v2/fleet/app/manifests/1')).toBe(1);
    const r = await t.query<{ images: { nodes: Array<{ host: { name: string } }> }; fleet: { outdatedCount: number } }>(
      `{ images(filter: { updateStatus: OUTDATED }) { nodes { host { name } } } fleet { outdatedCount } }`,
    );
    expect(r.data!.images.nodes.map((n) => n.host.name).sort()).toEqual(['b', 'b2', 'c', 'c2', 'c3']);
    expect(r.data!.fleet.outdatedCount).toBe(5);
    await t.query(QUERY);
    expect(plain.requests.filter((q) => q.startsWith('HEAD '))).toEqual(['HEAD /v2/fleet/app/manifests/1']);
    // Nothing but manifest HEADs: no pull, no GET of a manifest or blob.
    expect(plain.requests.every((q) => q.startsWith('HEAD /v2/') || q === 'GET /v2/')).toBe(true);
  });

  it('marks only the bad registries’ tags: 429 UNKNOWN (and no second request), 500 and silence ERROR', async () => {
    expect(entry(nodes, 'a', `${faulty['429'].host}/fleet/app:1`)).toMatchObject({ status: 'UNKNOWN', remoteDigest: null });
    expect(entry(nodes, 'a', `${faulty['429'].host}/fleet/app:1`).reason).toMatch(/429/);
    expect(entry(nodes, 'a', `${faulty['500'].host}/fleet/app:1`)).toMatchObject({ status: 'ERROR', reason: 'the registry answered HTTP 500' });
    expect(entry(nodes, 'a', `${faulty.hang.host}/fleet/app:1`)).toMatchObject({ status: 'ERROR', reason: 'no answer within 1500 ms' });
    expect(faulty['429'].requests).toEqual(['HEAD /v2/fleet/app/manifests/1']);
  });

  it('never contacts a registry outside --registry-allow, nor the Docker Hub', () => {
    expect(entry(nodes, 'a', `${faulty.other.host}/fleet/app:1`)).toMatchObject({ status: 'UNKNOWN', remoteDigest: null, checkedAt: null });
    expect(entry(nodes, 'a', 'nginx:1.25')).toMatchObject({ status: 'UNKNOWN', remoteDigest: null, checkedAt: null });
    expect(entry(nodes, 'a', 'nginx:1.25').reason).toMatch(/--registry-allow/);
    expect(faulty.other.requests).toEqual([]);
  });
});

it('fleetgraph images --outdated: the outdated tags, on the hosts holding the old digest', async () => {
  const config = loadConfig({ hosts: hosts().map((h) => `${h.name}=${h.endpoint}`), checkUpdates: true, registryAllow: [plain.host] }, { DOCKER_CONFIG: join(dir, 'empty') });
  const fleet = openFleet(config);
  closers.push(() => fleet.close());
  const result = await fleet.run(OUTDATED_QUERY, { filter: { ...imageFilter([]), updateStatus: ['OUTDATED'] } });
  expect(result.errors).toBeUndefined();
  const rows = imagesTable((result.data!.images as { nodes: ImageNode[] }).nodes).trim().split('\n').slice(1).map((l) => l.split(/\s{2,}/).slice(0, 4).join(' '));
  const short = idV1.slice(7, 19);
  expect(rows.sort()).toEqual(['b', 'b2', 'c', 'c2', 'c3'].map((h) => `${h} ${plain.host}/fleet/app 1 ${short}`));
});

it('without --check-updates every entry is UNKNOWN and no registry is asked', async () => {
  plain.reset();
  const t = createTestApp(hosts(), {});
  closers.push(() => t.close());
  const r = await t.query<{ images: { nodes: Node[] } }>(QUERY);
  expect(r.data!.images.nodes.flatMap((n) => n.updates.map((u) => u.status))).not.toContain('CURRENT');
  expect(entry(r.data!.images.nodes, 'b', `${plain.host}/fleet/app:1`)).toMatchObject({ status: 'UNKNOWN', remoteDigest: null, localDigest: d1 });
  expect(plain.requests).toEqual([]);
});

describe('registries that want credentials', () => {
  it('basic auth: credentials from the docker config (DOCKER_CONFIG) give CURRENT; none give UNAUTHORIZED', async () => {
    const cfg = join(dir, 'docker-config');
    mkdirSync(cfg);
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ auths: { [basic.host]: { auth: Buffer.from(`${CREDS.username}:${CREDS.password}`).toString('base64') } } }));
    const ref = `${basic.host}/fleet/app:1`;
    const withCreds = await app({ registryAllow: [basic.host] }, { DOCKER_CONFIG: cfg }).query<{ images: { nodes: Node[] } }>(QUERY);
    expect(entry(withCreds.data!.images.nodes, 'a', ref)).toMatchObject({ status: 'CURRENT', remoteDigest: d2, localDigest: d2 });
    const without = await app({ registryAllow: [basic.host] }).query<{ images: { nodes: Node[] } }>(QUERY);
    expect(entry(without.data!.images.nodes, 'a', ref)).toMatchObject({ status: 'UNAUTHORIZED', remoteDigest: null });
    expect(JSON.stringify([withCreds, without])).not.toContain(CREDS.password);
    expect(JSON.stringify([withCreds, without])).not.toContain(Buffer.from(`${CREDS.username}:${CREDS.password}`).toString('base64'));
  });

  it('bearer: the token flow with --registry-auth credentials gives CURRENT; refused credentials give UNAUTHORIZED', async () => {
    const ref = `${bearer.host}/fleet/app:1`;
    bearer.reset();
    const ok = await app({ registryAllow: [bearer.host], registryAuthFile: join(dir, 'bearer.json') }).query<{ images: { nodes: Node[] } }>(QUERY);
    expect(entry(ok.data!.images.nodes, 'a', ref)).toMatchObject({ status: 'CURRENT', remoteDigest: d2, localDigest: d2 });
    expect(bearer.tokenRequests).toEqual([{ scope: 'repository:fleet/app:pull', ok: true }]);
    writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ auths: { [bearer.host]: { username: CREDS.username, password: 'wrong' } } }));
    const refused = await app({ registryAllow: [bearer.host], registryAuthFile: join(dir, 'wrong.json') }).query<{ images: { nodes: Node[] } }>(QUERY);
    expect(entry(refused.data!.images.nodes, 'a', ref)).toMatchObject({ status: 'UNAUTHORIZED', reason: 'the token service refused the configured credentials' });
    expect(JSON.stringify([ok, refused])).not.toContain(CREDS.password);
  });
});

it('a multi-platform tag is compared with the index digest it points at', async () => {
  // A two-platform manifest list over v1's and v3's manifests, crafted and put under fleet/app:multi.
  const v1 = await getManifest(registry.host, 'fleet/app', d1);
  await tagImage(a.socket, idV3, `${plain.host}/fleet/app`, 'arm');
  const d3 = await pushImage(a.socket, `${plain.host}/fleet/app:arm`);
  const v3 = await getManifest(registry.host, 'fleet/app', d3);
  const list = (second: string) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: LIST,
        manifests: [
          { mediaType: v1.mediaType, size: v1.bytes.length, digest: d1, platform: { architecture: 'amd64', os: 'linux' } },
          { mediaType: v3.mediaType, size: v3.bytes.length, digest: d3, platform: { architecture: second, os: 'linux' } },
        ],
      }),
    );
  const index1 = await putManifest(registry.host, 'fleet/app', 'multi', LIST, list('arm64'));
  // c pulls the tag: the engine picks the amd64 manifest (v1, which it has) and records the index digest.
  await pullImage(c.socket, `${plain.host}/fleet/app:multi`);
  const own = await engineGet<{ RepoDigests: string[] }>(c.socket, `/images/${plain.host}/fleet/app:multi/json`);
  expect(own.RepoDigests).toContain(`${plain.host}/fleet/app@${index1}`);
  expect(own.RepoDigests).toContain(`${plain.host}/fleet/app@${d1}`);
  const ref = `${plain.host}/fleet/app:multi`;
  const first = await app({ registryAllow: [plain.host] }).query<{ images: { nodes: Node[] } }>(QUERY);
  expect(entry(first.data!.images.nodes, 'c', ref)).toMatchObject({ status: 'CURRENT', remoteDigest: index1, localDigest: index1 });
  // The index is replaced (another second platform): the host's copy is now behind.
  const index2 = await putManifest(registry.host, 'fleet/app', 'multi', LIST, list('s390x'));
  const second = await app({ registryAllow: [plain.host] }).query<{ images: { nodes: Node[] } }>(QUERY);
  const behind = entry(second.data!.images.nodes, 'c', ref);
  expect(behind).toMatchObject({ status: 'OUTDATED', remoteDigest: index2 });
  // Neither of the host's digests for the repository (the old index, the platform manifest) is the new index.
  expect([index1, d1]).toContain(behind.localDigest);
});
