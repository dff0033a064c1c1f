import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page, type Response as PlaywrightResponse } from 'playwright-core';
import { engineGet } from '../../src/dev/engine-api.js';
import { freePort, spawnGroup, waitFor, type Spawned } from '../helpers/process.js';
import { fleetEngines } from '../helpers/provided.js';
import { GRAPHIQL_TABS } from '../../src/graphiql-examples.js';

/** The product as a new user meets it: `npm start` with three hosts, then GraphiQL in a real browser. */

const QUERY = `{ images { totalCount nodes { id parentId repoTags repoDigests created size sharedSize virtualSize labels { key value } containers host { name } } } }`;

let server: Spawned;
let url: string;

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}/graphql`;
  const hosts = fleetEngines().flatMap((e) => ['--host', `${e.name}=${e.endpoint}`]);
  const env = { ...process.env };
  delete env.NODE_ENV;
  server = spawnGroup('npm', ['start', '--', ...hosts, '--port', String(port)], env);
  await waitFor('npm start to serve', () => server.output().includes(`at ${url}`), 120_000, server.output);
}, 150_000);

afterAll(async () => {
  if (!server) return;
  server.signal('SIGTERM');
  await Promise.race([server.exited, new Promise((r) => setTimeout(r, 10_000))]);
  server.signal('SIGKILL');
});

describe('npm start with three hosts', () => {
  it('answers the full inventory query with every image of every host, as each engine reports it', async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { errors?: unknown; data: { images: { totalCount: number; nodes: Array<{ id: string; repoTags: string[]; size: number; created: number; host: { name: string } }> } } };
    expect(body.errors).toBeUndefined();
    let total = 0;
    for (const engine of fleetEngines()) {
      const raw = await engineGet<Array<{ Id: string; RepoTags: string[] | null; Size: number; Created: number }>>(engine.socket, '/images/json');
      total += raw.length;
      const mine = body.data.images.nodes.filter((n) => n.host.name === engine.name);
      expect(mine.map((n) => [n.id, n.size, n.created, [...n.repoTags].sort()]).sort()).toEqual(
        raw.map((r) => [r.Id, r.Size, r.Created, (r.RepoTags ?? []).filter((t) => t !== '<none>:<none>').sort()]).sort(),
      );
    }
    expect(body.data.images.totalCount).toBe(total);
  });

  it('serves /healthz', async () => {
    const res = await fetch(url.replace('/graphql', '/healthz'));
    expect(res.status).toBe(200);
  });
});

describe('GraphiQL in Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => browser?.close());

  it('opens on a ready multi-host inventory query that runs', async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('http://127.0.0.1') && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) outside.push(r.url());
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.getByText('query Inventory').first().waitFor({ timeout: 30_000 });
    const answered = page.waitForResponse((r) => r.url() === url && r.request().method() === 'POST' && (r.request().postData() ?? '').includes('Inventory'));
    await page.locator('.graphiql-execute-button').click();
    const body = (await (await answered).json()) as { errors?: unknown; data: { hosts: Array<{ name: string; status: string }>; images: { totalCount: number } } };
    expect(body.errors).toBeUndefined();
    expect(body.data.hosts.map((h) => [h.name, h.status])).toEqual(fleetEngines().map((e) => [e.name, 'UP']));
    expect(body.data.images.totalCount).toBeGreaterThan(0);
    // And the person sees it.
    await page.locator('.graphiql-response').getByText('"totalCount"').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: '/tmp/fleetgraph-graphiql.png' });
    // Everything the page loads comes from the gateway itself.
    expect(outside).toEqual([]);

    // A reload keeps the tabs as they were (it used to add a blank "<untitled>" tab and open it), and
    // every example tab answers with something on any fleet, this one included.
    const titles = GRAPHIQL_TABS.map((t) => /query (\w+)/.exec(t.query)![1]!);
    for (let reload = 0; reload < 2; reload++) {
      await page.reload({ waitUntil: 'load' });
      await page.getByText('query Inventory').first().waitFor({ timeout: 30_000 });
      expect(await page.locator('.graphiql-tab').allInnerTexts()).toEqual(titles);
    }
    for (const title of titles) {
      await page.locator('.graphiql-tab').getByText(title, { exact: true }).click();
      await page.getByText(`query ${title}`).first().waitFor({ timeout: 30_000 });
      const answer = (await (await runTab(page, url, title)).json()) as { errors?: unknown; data: Record<string, unknown> };
      expect(answer.errors, title).toBeUndefined();
      expect(nonEmptyLists(answer.data), title).toBeGreaterThan(0);
      expect(emptyLists(answer.data), `${title}: every list in the answer has items`).toEqual([]);
    }
    await page.reload({ waitUntil: 'load' });
    await page.locator('.graphiql-tab').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('.graphiql-tab').allInnerTexts()).toEqual(titles);
  }, 180_000);
});

/** Top-level lists (a connection's nodes/edges, or a list field) with at least one item. */
function nonEmptyLists(data: Record<string, unknown>): number {
  return Object.values(data).filter((v) => listOf(v).length > 0).length;
}

function emptyLists(data: Record<string, unknown>): string[] {
  return Object.entries(data).filter(([, v]) => listOf(v) !== NOT_A_LIST && listOf(v).length === 0).map(([k]) => k);
}

const NOT_A_LIST: unknown[] = [];
function listOf(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  const c = v as { nodes?: unknown; edges?: unknown } | null;
  if (c && Array.isArray(c.nodes)) return c.nodes;
  if (c && Array.isArray(c.edges)) return c.edges;
  return NOT_A_LIST;
}

/**
 * Clicks Execute and waits for that tab's POST. Right after a tab switch GraphiQL sometimes takes the
 * click as "stop" (its button toggles while it still counts the previous tab's operation as running):
 * then no request goes out, and the next click runs it. At most three clicks.
 */
async function runTab(page: Page, url: string, title: string): Promise<PlaywrightResponse> {
  for (let attempt = 1; ; attempt++) {
    const response = page.waitForResponse((r) => r.url() === url && r.request().method() === 'POST' && (r.request().postData() ?? '').includes(`query ${title}`), { timeout: 10_000 });
    await page.locator('.graphiql-execute-button').click();
    try {
      return await response;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}
