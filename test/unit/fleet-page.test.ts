import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { FLEET_PAGE_CSP } from '../../src/fleet-page.js';
import { createFakeApp, fakeContainer, fakeId, fakeImage, fakeSource } from '../helpers/fake-source.js';

/**
 * Issue 14 §5, the fleet page at `/`: its setting (--ui / --no-ui, FLEETGRAPH_UI, the file's `ui:`; off in
 * production), the files served from memory with a strict CSP, and its query run against the schema on a
 * fake fleet (the browser test, test/e2e/fleet-page.test.ts, drives it over real engines).
 */

const dir = mkdtempSync(join(tmpdir(), 'fleetgraph-ui-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const UI = new URL('../../src/ui/', import.meta.url);
const PATHS = ['/', '/ui/fleet.js', '/ui/render.js', '/ui/query.js', '/ui/fleet.css'];

interface PageModule {
  FLEET_QUERY: string;
  fleetSubscription(mirror: boolean): string;
  fleetVariables(filter: Record<string, unknown> | null): Record<string, unknown>;
}
// The page's own module, as the browser loads it (a plain .js file: imported by URL, typed here).
const page = (await import(new URL('query.js', UI).href)) as PageModule;

const fleet = () =>
  fakeSource({
    hosts: ['a', 'b', 'c'],
    images: {
      a: [fakeImage({ id: fakeId(1), repoTags: ['web:1', 'tools:2'], size: 1500 }), fakeImage({ id: fakeId(3), repoTags: [], size: 70 })],
      b: [fakeImage({ id: fakeId(1), repoTags: ['web:1'], size: 1500 }), fakeImage({ id: fakeId(2), repoTags: ['tools:2'], size: 2_000_000 })],
    },
    containers: { a: [fakeContainer({ id: fakeId(9), imageId: fakeId(1) })] },
    fail: { c: 'HOST_UNREACHABLE' },
  });

const get = (app: ReturnType<typeof createFakeApp>['app'], path: string, headers: Record<string, string> = {}) => app.fetch(`http://fleetgraph${path}`, { headers });

describe('the ui setting', () => {
  const hosts = ['a=unix:///a.sock'];
  it('is on by default, off with NODE_ENV=production; --ui and --no-ui win over both', () => {
    expect(loadConfig({ hosts }, {}).ui).toBe(true);
    expect(loadConfig({ hosts }, { NODE_ENV: 'production' }).ui).toBe(false);
    expect(loadConfig({ hosts, ui: true }, { NODE_ENV: 'production' }).ui).toBe(true);
    expect(loadConfig({ hosts, ui: false }, {}).ui).toBe(false);
  });

  it('comes from FLEETGRAPH_UI and the config file, the flag first, then the environment, then the file', () => {
    const off = join(dir, 'off.yaml');
    writeFileSync(off, 'ui: false\n');
    const on = join(dir, 'on.json');
    writeFileSync(on, '{"ui": true}');
    expect(loadConfig({ hosts, configFile: off }, {}).ui).toBe(false);
    expect(loadConfig({ hosts, configFile: on }, { NODE_ENV: 'production' }).ui).toBe(true);
    expect(loadConfig({ hosts, configFile: off }, { FLEETGRAPH_UI: '1' }).ui).toBe(true);
    expect(loadConfig({ hosts }, { FLEETGRAPH_UI: 'off' }).ui).toBe(false);
    expect(loadConfig({ hosts, ui: true }, { FLEETGRAPH_UI: 'false' }).ui).toBe(true);
  });

  it('refuses values that are not booleans, naming where they came from', () => {
    expect(() => loadConfig({ hosts }, { FLEETGRAPH_UI: 'maybe' })).toThrow(new ConfigError('FLEETGRAPH_UI: expected true or false (also 1/0, on/off)'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'ui: yes please\n');
    expect(() => loadConfig({ hosts, configFile: bad }, {})).toThrow(/config file .*bad\.yaml: ui: /);
  });
});

describe('GET / with the ui on', () => {
  it('serves the page and its files from memory, with a strict CSP and no external URL', async () => {
    const { app } = createFakeApp(fleet());
    for (const path of PATHS) {
      const res = await get(app, path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy'), path).toBe(FLEET_PAGE_CSP);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      const text = await res.text();
      expect(text, path).toBe(readFileSync(new URL(path === '/' ? 'index.html' : path.slice(4), UI), 'utf8'));
      expect(text, `${path} names no other site`).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    }
    expect(FLEET_PAGE_CSP).toMatch(/default-src 'none'/);
    expect(FLEET_PAGE_CSP).not.toMatch(/unsafe|https?:|\*/);
  });

  it('references only files it serves, with no inline script or style (the CSP would block them)', async () => {
    const html = readFileSync(new URL('index.html', UI), 'utf8');
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.filter((r) => !r.startsWith('data:')).sort()).toEqual(['/ui/fleet.css', '/ui/fleet.js']);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/\sstyle=|<style|\son[a-z]+=/i);
    const imports = ['fleet.js', 'render.js', 'query.js'].flatMap((f) => [...readFileSync(new URL(f, UI), 'utf8').matchAll(/from '\.\/([\w.-]+)'/g)].map((m) => `/ui/${m[1]}`));
    for (const path of imports) expect(PATHS, path).toContain(path);
  });

  it('never writes markup from data: no innerHTML, outerHTML, insertAdjacentHTML or document.write in its scripts', () => {
    for (const f of ['fleet.js', 'render.js', 'query.js']) expect(readFileSync(new URL(f, UI), 'utf8'), f).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });

  it('compresses once and answers a reload with 304', async () => {
    const { app } = createFakeApp(fleet());
    const first = await get(app, '/', { 'accept-encoding': 'gzip' });
    expect(first.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await first.arrayBuffer())).toString()).toContain('<title>');
    const again = await get(app, '/', { 'if-none-match': first.headers.get('etag')! });
    expect(again.status).toBe(304);
  });

  it('loads without a token when tokens are configured (it holds no data); the API still answers 401', async () => {
    const tokens = join(dir, 'tokens');
    writeFileSync(tokens, 'ui-test-token-0123456789\n');
    const { app } = createFakeApp(fleet(), { authTokenFile: tokens });
    for (const path of PATHS) expect((await get(app, path)).status, path).toBe(200);
    const api = await app.fetch('http://fleetgraph/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: page.FLEET_QUERY, variables: page.fleetVariables(null) }) });
    expect(api.status).toBe(401);
  });
});

describe('GET / with the ui off', () => {
  it.each([
    ['--no-ui', { ui: false }, {}],
    ['NODE_ENV=production', {}, { NODE_ENV: 'production' }],
  ])('%s: 404 for the page and its files, as without the feature', async (_what, input, env) => {
    const { app } = createFakeApp(fleet(), input, env);
    for (const path of PATHS) expect((await get(app, path)).status, path).toBe(404);
  });
});

describe("the page's query", () => {
  it('runs within the default limits and answers the hosts, the matrix, drift and what can be reclaimed', async () => {
    const res = await createFakeApp(fleet()).query<Record<string, any>>(page.FLEET_QUERY, page.fleetVariables(null));
    // Only the failed host's errors (one per list that would have held it): the query is valid, and not too costly.
    expect(new Set(res.errors?.map((e) => `${String(e.extensions?.code)} ${String(e.extensions?.host)}`))).toEqual(new Set(['HOST_UNREACHABLE c']));
    const d = res.data!;
    expect(d.hosts.map((h: any) => [h.name, h.status])).toEqual([['a', 'UP'], ['b', 'UP'], ['c', 'UNREACHABLE']]);
    expect(d.imageGroups.nodes.map((g: any) => [g.repoTags, g.hosts.map((h: any) => h.name)])).toEqual([
      [['tools:2', 'web:1'], ['a', 'b']],
      [['tools:2'], ['b']],
      [[], ['a']],
    ]);
    expect(d.tagDrift).toEqual([{ tag: 'tools:2', variants: [{ id: fakeId(1), hosts: [{ name: 'a' }] }, { id: fakeId(2), hosts: [{ name: 'b' }] }] }]);
    expect(d.hosts[1].stats).toMatchObject({ unusedCount: 2, unusedSize: 2_001_500, danglingCount: 0 });
    expect(d.hosts[0].stats).toMatchObject({ unusedCount: 1, unusedSize: 70, danglingCount: 1, danglingSize: 70 });
    expect(d.unused.nodes.map((n: any) => `${n.host.name} ${n.size}`)).toEqual(['b 2000000', 'b 1500', 'a 70']);
    expect(d.dangling.nodes.map((n: any) => `${n.host.name} ${n.id}`)).toEqual([`a ${fakeId(3)}`]);
  });

  it('narrows everything with the search box filter (reference or label)', async () => {
    const res = await createFakeApp(fleet()).query<Record<string, any>>(page.FLEET_QUERY, page.fleetVariables({ reference: ['web:*'] }));
    expect(res.data!.imageGroups.nodes.map((g: any) => g.id)).toEqual([fakeId(1)]);
    expect(res.data!.tagDrift).toEqual([]);
    expect(res.data!.unused.nodes.map((n: any) => n.host.name)).toEqual(['b']);
    const bad = await createFakeApp(fleet()).query(page.FLEET_QUERY, page.fleetVariables({ label: ['x'.repeat(2000)] }));
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it.each([false, true])('its subscription is valid (mirror: %s)', async (mirror) => {
    const res = await createFakeApp(fleet()).app.fetch('http://fleetgraph/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: page.fleetSubscription(mirror) }),
    });
    // The fake app has no live hub: the operation validates and then says so, instead of a validation error.
    const text = await res.text();
    expect(text).toContain('LIVE_UNAVAILABLE');
  });
});
