import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { BackgroundUpdates } from '../../src/registry/background.js';
import { UpdateChecker } from '../../src/registry/checker.js';
import { queryApp } from '../helpers/app.js';
import { fakeId, fakeImage, fakeSource } from '../helpers/fake-source.js';

/** Schema behaviour of ImageSummary.updates over a fake inventory and a fake registry (fetch). */

const D = (c: string) => `sha256:${c.repeat(64)}`;
const REG = '127.0.0.1:5000';

function setup(allow: string[] = [REG]) {
  const calls: string[] = [];
  const fetchFn = (async (input: string | URL | Request) => {
    calls.push(String(input));
    return new Response(null, { status: 200, headers: { 'docker-content-digest': D('2') } });
  }) as typeof fetch;
  const img = (n: number, digest: string) => fakeImage({ id: fakeId(n), repoTags: [`${REG}/app:1`, 'nginx:1'], repoDigests: [`nginx@${D('9')}`, `${REG}/app@${digest}`] });
  const source = fakeSource({ images: { a: [img(1, D('2'))], b: [img(2, D('1'))], c: [img(2, D('1'))], d: [] }, fail: { d: 'HOST_UNREACHABLE' } });
  const config = loadConfig({ hosts: source.hostNames().map((h) => `${h}=unix:///nonexistent/${h}.sock`), checkUpdates: true, registryAllow: allow }, { DOCKER_CONFIG: '/nonexistent' });
  const checker = new UpdateChecker({ intervalMs: 3600_000, timeoutMs: 1000, allow, credentials: new Map(), fetch: fetchFn });
  const app = createApp({ source, config, updates: checker });
  return { calls, source, checker, query: <T>(q: string) => queryApp<T>(app, q) };
}

it('asks no registry when updates are not selected', async () => {
  const s = setup();
  const r = await s.query(`{ images { nodes { id repoTags repoDigests } } fleet { imageCount } }`);
  expect(r.data).toBeDefined();
  expect(s.calls).toEqual([]);
});

it('one request per tag for the fleet; filter and outdatedCount agree; a failed host is reported, not fatal', async () => {
  const s = setup();
  const r = await s.query<{ images: { nodes: Array<{ host: { name: string }; updates: Array<{ reference: string; status: string }> }> }; fleet: { outdatedCount: number }; out: { totalCount: number } }>(
    `{ images { nodes { host { name } updates { reference status } } } fleet { outdatedCount } out: images(filter: { updateStatus: [OUTDATED] }) { totalCount } }`,
  );
  expect(r.data!.images.nodes.map((n) => [n.host.name, n.updates.map((u) => `${u.reference} ${u.status}`)])).toEqual([
    ['a', [`${REG}/app:1 CURRENT`, 'nginx:1 UNKNOWN']],
    ['b', [`${REG}/app:1 OUTDATED`, 'nginx:1 UNKNOWN']],
    ['c', [`${REG}/app:1 OUTDATED`, 'nginx:1 UNKNOWN']],
  ]);
  expect(r.data!.fleet.outdatedCount).toBe(2);
  expect(r.data!.out.totalCount).toBe(2);
  expect(r.errors?.map((e) => e.extensions?.code)).toEqual(expect.arrayContaining(['HOST_UNREACHABLE']));
  expect(s.calls).toEqual([`http://${REG}/v2/app/manifests/1`]);
});

it('beside the mirror: a background round checks each distinct tag once; queries then read the cache', async () => {
  const s = setup();
  await new BackgroundUpdates(s.source, s.checker, 3600_000).refresh();
  expect(s.calls).toEqual([`http://${REG}/v2/app/manifests/1`]);
  const r = await s.query<{ fleet: { outdatedCount: number } }>(`{ fleet { outdatedCount } }`);
  expect(r.data!.fleet.outdatedCount).toBe(2);
  expect(s.calls).toHaveLength(1);
});

describe('configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-upd-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const hosts = ['a=unix:///x.sock'];

  it('is off by default, and then reads no credentials at all', () => {
    writeFileSync(join(dir, 'config.json'), '{ not json');
    const c = loadConfig({ hosts }, { DOCKER_CONFIG: dir });
    expect(c.updates).toMatchObject({ enabled: false, intervalMs: 6 * 3600_000, allow: [] });
    expect(() => loadConfig({ hosts, checkUpdates: true }, { DOCKER_CONFIG: dir })).toThrow(/config\.json: not valid JSON/);
  });

  it('takes the same settings from the config file, its auth file relative to it', () => {
    const sub = mkdtempSync(join(dir, 'file-'));
    writeFileSync(join(sub, 'creds.json'), JSON.stringify({ auths: { 'ghcr.io': { username: 'u', password: 'p' } } }));
    writeFileSync(join(sub, 'fleet.yaml'), 'checkUpdates: true\nregistryAllow: [ghcr.io]\nregistryAuthFile: creds.json\nupdateIntervalSeconds: 120\nregistryTimeoutMs: 500\n');
    const c = loadConfig({ hosts, configFile: join(sub, 'fleet.yaml') }, { DOCKER_CONFIG: join(dir, 'none') });
    expect(c.updates).toMatchObject({ enabled: true, allow: ['ghcr.io'], intervalMs: 120_000, timeoutMs: 500 });
    expect([...c.updates.credentials.keys()]).toEqual(['ghcr.io']);
    writeFileSync(join(sub, 'bad.yaml'), 'registryAllow: ["a b"]\n');
    expect(() => loadConfig({ hosts, configFile: join(sub, 'bad.yaml') }, {})).toThrow(/registryAllow/);
  });

  it('validates flags like the file, naming the flag', () => {
    const env = { DOCKER_CONFIG: join(dir, 'none') };
    expect(loadConfig({ hosts, checkUpdates: true, updateInterval: '60', registryAllow: ['127.0.0.1:5000', 'ghcr.io'] }, env).updates).toMatchObject({ enabled: true, intervalMs: 60_000, allow: ['127.0.0.1:5000', 'ghcr.io'] });
    expect(() => loadConfig({ hosts, registryAllow: ['http://x/y'] }, env)).toThrow(/--registry-allow: is not a registry host/);
    expect(() => loadConfig({ hosts, updateInterval: '0' }, env)).toThrow(/--update-interval/);
    expect(() => loadConfig({ hosts, checkUpdates: true, registryAuthFile: join(dir, 'missing.json') }, env)).toThrow(ConfigError);
    const f = join(dir, 'auth.json');
    writeFileSync(f, JSON.stringify({ auths: { 'ghcr.io': { password: 'hunter2-secret' } } }));
    let message = '';
    try {
      loadConfig({ hosts, checkUpdates: true, registryAuthFile: f }, env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/--registry-auth.*auths entry "ghcr.io"/);
    expect(message).not.toContain('hunter2');
  });
});

it("the fleet page's query lists the outdated images (one registry request), and none without --check-updates", async () => {
  const page = (await import(new URL('../../src/ui/query.js', import.meta.url).href)) as { FLEET_QUERY: string; fleetVariables(f: unknown): Record<string, unknown> };
  type Answer = { outdated: { totalCount: number; nodes: Array<{ host: { name: string }; updates: Array<{ reference: string; status: string; remoteDigest: string | null }> }> } };
  const run = async (app: ReturnType<typeof createApp>) => {
    const res = await app.fetch('http://fleetgraph/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: page.FLEET_QUERY, variables: page.fleetVariables(null) }) });
    return (await res.json()) as { data: Answer; errors?: Array<{ extensions?: { code?: string } }> };
  };
  const s = setup();
  const on = await run(createApp({ source: s.source, config: loadConfig({ hosts: s.source.hostNames().map((h) => `${h}=unix:///nonexistent/${h}.sock`), checkUpdates: true, registryAllow: [REG] }, { DOCKER_CONFIG: '/nonexistent' }), updates: s.checker }));
  expect(new Set(on.errors?.map((e) => e.extensions?.code))).toEqual(new Set(['HOST_UNREACHABLE']));
  expect(on.data.outdated.totalCount).toBe(2);
  expect(on.data.outdated.nodes.map((n) => [n.host.name, n.updates.filter((u) => u.status === 'OUTDATED').map((u) => `${u.reference} ${u.remoteDigest}`)])).toEqual([
    ['b', [`${REG}/app:1 ${D('2')}`]],
    ['c', [`${REG}/app:1 ${D('2')}`]],
  ]);
  expect(s.calls).toEqual([`http://${REG}/v2/app/manifests/1`]);
  const off = setup();
  const none = await run(createApp({ source: off.source, config: loadConfig({ hosts: off.source.hostNames().map((h) => `${h}=unix:///nonexistent/${h}.sock`) }, {}) }));
  expect(none.data.outdated.totalCount).toBe(0);
  expect(off.calls).toEqual([]);
});
