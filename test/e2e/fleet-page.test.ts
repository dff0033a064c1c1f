import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { humanSize } from '../../src/commands/format.js';
import { buildCli, CLI } from '../helpers/cli.js';
import { engineGet } from '../../src/dev/engine-api.js';
import { startEngines, type Engine } from '../../src/dev/engine.js';
import { buildImageTar, createContainer, importImage, loadImages, tagImage } from '../../src/dev/images.js';
import { freePort, spawnGroup, waitFor, type Spawned } from '../helpers/process.js';

/**
 * Issue 14 §5: the fleet page at `/` in Debian's Chromium over two real engines (private to this file, since
 * it tags images on them). The matrix, the reclaimable sizes and the search results are read from the DOM and
 * compared with each engine's own /images/json; the token prompt, a live update after a tag (SSE), and
 * `--no-ui` are checked on the built gateway. Screenshots go to test-results/fleet-page/ (gitignored).
 */

const TOKEN = 'ui-e2e-token-0123456789abcdef';
const DOWN = 'ui-down';
const SHOTS = join(process.cwd(), 'test-results', 'fleet-page');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let engines: Engine[] = [];
const servers: Spawned[] = [];
let browser: Browser | undefined;
let base: string;
let dir: string;

interface EngineImage {
  Id: string;
  RepoTags: string[] | null;
  Size: number;
}

async function serve(extra: string[]): Promise<string> {
  const port = await freePort();
  const env = { ...process.env };
  for (const k of ['NODE_ENV', 'FLEETGRAPH_HOSTS', 'FLEETGRAPH_AUTH_TOKENS', 'FLEETGRAPH_UI', 'DOCKER_HOST']) delete env[k];
  const hosts = engines.flatMap((e) => ['--host', `${e.name}=${e.endpoint}`]);
  const s = spawnGroup(process.execPath, [CLI, 'serve', ...hosts, ...extra, '--port', String(port)], env);
  servers.push(s);
  const url = `http://127.0.0.1:${port}/graphql`;
  await waitFor('the gateway to serve', () => s.output().includes(`at ${url}`), 60_000, s.output);
  return `http://127.0.0.1:${port}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleetgraph-ui-e2e-'));
  mkdirSync(SHOTS, { recursive: true });
  const tokens = join(dir, 'tokens');
  writeFileSync(tokens, `${TOKEN}\n`);
  const [, started] = await Promise.all([buildCli(), startEngines(['ui-a', 'ui-b'])]);
  engines = started;
  const [a, b] = engines as [Engine, Engine];
  // Tag drift: uitest/web:1 is a different build on each engine.
  await importImage(a.socket, { tag: 'uitest/web:1', label: { app: 'web', built: 'a' } });
  await importImage(b.socket, { tag: 'uitest/web:1', label: { app: 'web', built: 'b' } });
  // The same image on both (a loaded image: same ID everywhere, and a Cmd a container can be created with), used on b only.
  const { tar } = await buildImageTar([{ layers: [{ files: { 'shared.txt': 'shared\n' } }], created: '2024-05-01T00:00:00Z', labels: { app: 'shared' }, tags: ['uitest/shared:1'] }]);
  await Promise.all([loadImages(a.socket, tar), loadImages(b.socket, tar)]);
  await createContainer(b.socket, 'uitest/shared:1', 'ui-uses-shared');
  // A dangling image on a: its tag moved to a newer import.
  await importImage(a.socket, { tag: 'uitest/tools:1', label: { app: 'tools' } });
  await importImage(a.socket, { tag: 'uitest/tools:1', label: { app: 'tools', v: '2' } });
  // And a host that is down: the page shows the others, and says so.
  base = await serve(['--auth-token-file', tokens, '--host', `${DOWN}=unix://${join(dir, 'none.sock')}`]);
  // playwright-core gives each launch a fresh temporary profile (it refuses --user-data-dir here).
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.signal('SIGTERM');
  await Promise.all(servers.map((s) => Promise.race([s.exited, new Promise((r) => setTimeout(r, 10_000))])));
  for (const s of servers) s.signal('SIGKILL');
  await Promise.all(engines.map((e) => e.destroy()));
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** The matrix as the page shows it: image ID -> the hosts whose cell is marked, and the size text. */
function readMatrix(page: Page): Promise<Array<{ id: string; hosts: string[]; size: string; driftTags: string[] }>> {
  return page.$$eval('#matrix tbody tr', (rows) =>
    rows.map((r) => ({
      id: r.getAttribute('data-image-id') ?? '',
      hosts: [...r.querySelectorAll('td.cell.has')].map((c) => c.getAttribute('data-host') ?? ''),
      size: r.children[2]?.textContent ?? '',
      driftTags: [...r.querySelectorAll('.tag.drift')].map((t) => t.getAttribute('data-tag') ?? ''),
    })),
  );
}

/** What the engines themselves list (with an optional /images/json filter), as the matrix would show it. */
async function engineMatrix(filters?: Record<string, string[]>): Promise<Array<{ id: string; hosts: string[]; size: string }>> {
  const byId = new Map<string, { hosts: string[]; size: number }>();
  for (const e of engines) {
    const q = filters ? `?filters=${encodeURIComponent(JSON.stringify(filters))}` : '';
    for (const img of await engineGet<EngineImage[]>(e.socket, `/images/json${q}`)) {
      const entry = byId.get(img.Id) ?? { hosts: [], size: 0 };
      entry.hosts.push(e.name);
      entry.size = Math.max(entry.size, img.Size);
      byId.set(img.Id, entry);
    }
  }
  return [...byId].map(([id, v]) => ({ id, hosts: v.hosts, size: humanSize(v.size) }));
}

const sorted = <T extends { id: string }>(rows: T[]) => [...rows].sort((x, y) => x.id.localeCompare(y.id));
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

async function waitReady(page: Page): Promise<void> {
  await page.locator('#status[data-state="ready"]').waitFor({ timeout: 30_000 });
}

async function search(page: Page, kind: 'reference' | 'label', text: string): Promise<void> {
  const answered = page.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes(JSON.stringify(text)));
  await page.locator('#search-kind').selectOption(kind);
  await page.locator('#search-text').fill(text);
  await page.locator('#search button[type="submit"]').click();
  await answered;
  await waitReady(page);
}

describe('the fleet page in Chromium, over two engines, with a token', () => {
  let page: Page;
  const outside: string[] = [];
  const problems: string[] = [];

  it('asks for the token, refuses a wrong one, then shows the fleet', async () => {
    page = await browser!.newPage();
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) outside.push(r.url());
    });
    page.on('console', (m) => {
      // The 401s the token prompt is about are logged by Chromium as failed loads; anything else is a problem.
      if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await page.locator('#token').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator('#content').isHidden()).toBe(true);
    await shot(page, '1-token-prompt');

    await page.locator('#token-input').fill('not-the-token-0123456789');
    await page.locator('#token button[type="submit"]').click();
    await page.locator('#token-error').getByText('That token was refused.').waitFor({ timeout: 30_000 });

    await page.locator('#token-input').fill(TOKEN);
    await page.locator('#token button[type="submit"]').click();
    await waitReady(page);
    expect(await page.locator('#token').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('fleetgraph.token'))).toBe(TOKEN);
    await shot(page, '2-fleet');

    const hosts = await page.$$eval('#hosts tbody tr', (rows) => rows.map((r) => [r.getAttribute('data-host'), r.querySelector('[data-status]')?.getAttribute('data-status')]));
    expect(hosts).toEqual([...engines.map((e) => [e.name, 'UP']), [DOWN, 'UNREACHABLE']]);
    expect(await page.locator('#errors li[data-code="HOST_UNREACHABLE"]').count()).toBe(1);
    expect(await page.locator(`#matrix tbody td.cell.unknown[data-host="${DOWN}"]`).count()).toBe(await page.locator('#matrix tbody tr').count());
  }, 120_000);

  it("shows the images × hosts matrix as the engines list their images, with the drifting tag marked", async () => {
    const matrix = await readMatrix(page);
    expect(sorted(matrix.map(({ id, hosts, size }) => ({ id, hosts, size })))).toEqual(sorted(await engineMatrix()));
    // Each engine's list, one by one: the page marks exactly the images the engine holds.
    for (const e of engines) {
      const own = (await engineGet<EngineImage[]>(e.socket, '/images/json')).map((i) => i.Id).sort();
      expect(matrix.filter((r) => r.hosts.includes(e.name)).map((r) => r.id).sort(), e.name).toEqual(own);
    }
    const drifting = matrix.filter((r) => r.driftTags.length > 0);
    expect(drifting.map((r) => r.driftTags)).toEqual([['uitest/web:1'], ['uitest/web:1']]);
    expect(await page.locator('#drift li[data-tag="uitest/web:1"]').count()).toBe(1);
  });

  it('shows unused and dangling images with their sizes per host, as the engines count them', async () => {
    for (const e of engines) {
      const images = await engineGet<EngineImage[]>(e.socket, '/images/json');
      const used = new Set((await engineGet<Array<{ ImageID: string }>>(e.socket, '/containers/json?all=1')).map((c) => c.ImageID));
      const unused = images.filter((i) => !used.has(i.Id));
      const dangling = await engineGet<EngineImage[]>(e.socket, `/images/json?filters=${encodeURIComponent('{"dangling":["true"]}')}`);
      const row = await page.$eval(`#reclaim tbody tr[data-host="${e.name}"]`, (r) => [...r.querySelectorAll('td')].map((c) => c.textContent));
      const sum = (l: EngineImage[]) => humanSize(l.reduce((s, i) => s + i.Size, 0));
      expect(row, e.name).toEqual([String(unused.length), sum(unused), String(dangling.length), sum(dangling)]);
      const listed = await page.$$eval(`#unused tbody tr[data-host="${e.name}"]`, (rows) => rows.map((r) => r.getAttribute('data-image-id') ?? ''));
      expect(listed.sort(), e.name).toEqual([...new Set([...unused, ...dangling].map((i) => i.Id))].sort());
    }
    // The seed made one dangling image (on ui-a) and one image used on ui-b only.
    expect(await page.locator('#reclaim tbody tr[data-host="ui-a"] td').nth(2).textContent()).toBe('1');
  });

  it('narrows the matrix with the search box, by reference and by label, as the engines filter', async () => {
    await search(page, 'reference', 'uitest/web:*');
    expect(sorted((await readMatrix(page)).map(({ id, hosts, size }) => ({ id, hosts, size })))).toEqual(sorted(await engineMatrix({ reference: ['uitest/web:*'] })));
    expect((await readMatrix(page)).length).toBe(2);
    await shot(page, '3-search-reference');

    await search(page, 'label', 'app=shared');
    const byLabel = await readMatrix(page);
    expect(sorted(byLabel.map(({ id, hosts, size }) => ({ id, hosts, size })))).toEqual(sorted(await engineMatrix({ label: ['app=shared'] })));
    expect(byLabel.map((r) => r.hosts)).toEqual([engines.map((e) => e.name)]);

    await search(page, 'reference', 'no-such/*');
    expect(await readMatrix(page)).toEqual([]);
    expect(await page.locator('#matrix-note').textContent()).toBe('No image matches.');

    await page.locator('#search-text').fill('');
    await waitReady(page);
    await page.waitForFunction((n) => document.querySelectorAll('#matrix tbody tr').length === n, (await engineMatrix()).length, { timeout: 30_000 });
  }, 120_000);

  it('updates from the imageEvents subscription when an image is tagged on one engine, without a reload', async () => {
    await page.locator('#live[data-state="on"]').waitFor({ timeout: 30_000 });
    const [a] = engines as [Engine];
    // The gateway opens the engine's /events stream when the page subscribes: wait until the engine has that listener.
    await waitFor('the gateway to listen to ui-a events', async () => (await engineGet<{ NEventsListener: number }>(a.socket, '/info')).NEventsListener > 0, 30_000);
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const shared = (await engineGet<{ Id: string }>(a.socket, '/images/uitest/shared:1/json')).Id;
    await tagImage(a.socket, shared, 'uitest/live', 'tagged');
    await page.locator('#matrix .tag[data-tag="uitest/live:tagged"]').waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    const row = (await readMatrix(page)).find((r) => r.id === shared)!;
    expect(row.hosts).toEqual(engines.map((e) => e.name));
    expect(sorted((await readMatrix(page)).map(({ id, hosts, size }) => ({ id, hosts, size })))).toEqual(sorted(await engineMatrix()));
    await shot(page, '4-live-update');
  }, 90_000);

  it('loaded nothing from outside the gateway and broke no rule of its CSP', () => {
    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
  });
});

describe('the fleet page over a --mirror gateway (no token)', () => {
  it('opens without a prompt and follows a tag on the other engine', async () => {
    const mirror = await serve(['--mirror']);
    const page = await browser!.newPage();
    await page.goto(`${mirror}/`, { waitUntil: 'load' });
    await waitReady(page);
    expect(await page.locator('#token').isHidden()).toBe(true);
    expect(await page.$$eval('#hosts tbody tr td:last-child', (cells) => cells.map((c) => c.textContent))).toEqual(['connected', 'connected']);
    await page.locator('#live[data-state="on"]').waitFor({ timeout: 30_000 });
    const [, b] = engines as [Engine, Engine];
    await tagImage(b.socket, 'uitest/web:1', 'uitest/mirror', 'tagged');
    await page.locator('#matrix .tag[data-tag="uitest/mirror:tagged"]').waitFor({ timeout: 30_000 });
    expect(sorted((await readMatrix(page)).map(({ id, hosts, size }) => ({ id, hosts, size })))).toEqual(sorted(await engineMatrix()));
    await shot(page, '5-mirror-live-update');
    await page.close();
  }, 90_000);
});

describe('--no-ui', () => {
  it('answers 404 at / and for the page files; GraphQL still answers', async () => {
    const off = await serve(['--no-ui']);
    for (const path of ['/', '/ui/fleet.js']) expect((await fetch(`${off}${path}`)).status, path).toBe(404);
    const res = await fetch(`${off}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ hosts { name } }"}' });
    expect(res.status).toBe(200);
  }, 90_000);
});
