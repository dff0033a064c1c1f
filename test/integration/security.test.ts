import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig, type ConfigInput } from '../../src/config.js';
import { ReadOnlyViolation } from '../../src/docker/modem.js';
import type { InventorySource } from '../../src/docker/source.js';
import { GRAPHIQL_TABS } from '../../src/graphiql-examples.js';
import { schema } from '../../src/schema/index.js';
import type { TestApp } from '../helpers/app.js';
import { proxiedFleet } from '../helpers/proxied-fleet.js';

const TOKEN_ALL = 'all-hosts-token-0123456789';
const TOKEN_ALPHA = 'alpha-only-token-0123456789';

const fleet = proxiedFleet();
const { proxies } = fleet;
const app = (input: ConfigInput = {}, env: NodeJS.ProcessEnv = {}) => fleet.app(input, env);

async function raw(t: TestApp, init: RequestInit & { path?: string } = {}) {
  const res = await t.app.fetch(`http://fleetgraph${init.path ?? '/graphql'}`, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('read-only', () => {
  it('has no mutation type; the one subscription only reads (image events)', () => {
    expect(schema.getMutationType()).toBeUndefined();
    expect(Object.keys(schema.getSubscriptionType()?.getFields() ?? {})).toEqual(['imageEvents']);
  });

  it('refuses any non-GET request in the host client, before it reaches the engine', async () => {
    const t = app();
    fleet.reset();
    const docker = t.registry.client('alpha').docker;
    await expect(docker.createContainer({ Image: 'fleet/base:1' })).rejects.toBeInstanceOf(ReadOnlyViolation);
    await expect(docker.getImage('fleet/base:1').remove()).rejects.toBeInstanceOf(ReadOnlyViolation);
    await expect(docker.pruneImages()).rejects.toBeInstanceOf(ReadOnlyViolation);
    expect(proxies[0]!.requests).toEqual([]);
    // A real query sends GETs only.
    await t.query(`{ images { nodes { id containers sharedSize usedBy { id } } } hosts { engine { version } } fleet { unusedSize } }`);
    for (const p of proxies) {
      expect(p.requests.length).toBeGreaterThan(0);
      expect(p.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    }
  });
});

describe('bearer tokens', () => {
  const tokens = { FLEETGRAPH_AUTH_TOKENS: `${TOKEN_ALL};${TOKEN_ALPHA} hosts=alpha` };

  it('answers 401 without a valid token, 200 with one', async () => {
    const t = app({}, tokens);
    expect((await t.query(`{ hosts { name } }`)).status).toBe(401);
    expect((await t.query(`{ hosts { name } }`, {}, { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    expect((await t.query(`{ hosts { name } }`, {}, { authorization: `Basic ${TOKEN_ALL}` })).status).toBe(401);
    const unauth = await raw(t, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ hosts { name } }' }) });
    expect(unauth.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(unauth.text).not.toContain('alpha');
    const ok = await t.query<{ hosts: Array<{ name: string }> }>(`{ hosts { name } }`, {}, { authorization: `Bearer ${TOKEN_ALL}` });
    expect(ok.status).toBe(200);
    expect(ok.data!.hosts.map((h) => h.name)).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('still serves the GraphiQL page (it holds no data)', async () => {
    const t = app({}, tokens);
    const page = await raw(t, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>fleetgraph</title>');
  });

  it('a scoped token never learns that other hosts exist', async () => {
    const t = app({}, tokens);
    const auth = { authorization: `Bearer ${TOKEN_ALPHA}` };
    fleet.reset();
    const res = await t.query<{ hosts: Array<{ name: string }>; images: { nodes: Array<{ host: { name: string } }> }; gamma: unknown; fleet: { hostCount: number } }>(
      `{ hosts { name } images { nodes { host { name } } } gamma: host(name: "gamma") { name } fleet { hostCount } }`,
      {},
      auth,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.hosts).toEqual([{ name: 'alpha' }]);
    expect(new Set(res.data!.images.nodes.map((n) => n.host.name))).toEqual(new Set(['alpha']));
    expect(res.data!.gamma).toBeNull();
    expect(res.data!.fleet.hostCount).toBe(1);
    expect(proxies[1]!.requests).toEqual([]);
    expect(proxies[2]!.requests).toEqual([]);
    // Asking for a hidden host reads exactly like asking for one that does not exist.
    const hidden = await t.query(`{ images(hosts: ["gamma"]) { totalCount } }`, {}, auth);
    const missing = await t.query(`{ images(hosts: ["nosuch"]) { totalCount } }`, {}, auth);
    expect(hidden.errors?.[0]?.message.replace('gamma', 'X')).toBe(missing.errors?.[0]?.message.replace('nosuch', 'X'));
    expect(hidden.errors?.[0]?.extensions?.code).toBe('UNKNOWN_HOST');
  });
});

describe('query limits (graphql-armor)', () => {
  it('lets every GraphiQL example tab run under the default limits', async () => {
    const t = app();
    for (const tab of GRAPHIQL_TABS) {
      const res = await t.query(tab.query);
      expect(res.errors, tab.query.split('\n')[0]).toBeUndefined();
    }
  });

  it('rejects queries over each configured limit, each limit on its own', async () => {
    const cases: Array<[ConfigInput['limits'], string, RegExp]> = [
      [{ maxDepth: 4 }, `{ hosts { images { nodes { host { name } } } } }`, /depth/i],
      [{ maxAliases: 2 }, `{ a: hosts { name } b: hosts { name } c: hosts { name } }`, /aliases/i],
      [{ maxTokens: 60 }, `{ ${Array.from({ length: 40 }, () => 'hosts { name }').join(' ')} }`, /token/i],
      [{ maxCost: 20 }, `{ images { nodes { id repoTags repoDigests size created labels { key value } host { name imageCount } } } }`, /cost/i],
    ];
    for (const [limits, query, message] of cases) {
      const res = await app({ limits }).query(query);
      expect(res.status).not.toBe(500);
      expect(res.errors?.[0]?.message).toMatch(message);
      // The same query passes under the defaults.
      expect((await app().query(query)).errors).toBeUndefined();
    }
  });
});

describe('production mode', () => {
  const prod = { NODE_ENV: 'production' };

  it('turns off GraphiQL, introspection and field suggestions', async () => {
    const t = app({}, prod);
    const page = await raw(t, { headers: { accept: 'text/html' } });
    expect(page.text).not.toContain('<title>fleetgraph</title>');
    const intro = await t.query(`{ __schema { types { name } } }`);
    expect(intro.errors?.[0]?.message).toMatch(/introspection/i);
    const typo = await t.query(`{ imagez { totalCount } }`);
    expect(typo.errors?.[0]?.message).not.toMatch(/Did you mean/);
    const dev = app();
    expect((await dev.query(`{ imagez { totalCount } }`)).errors?.[0]?.message).toMatch(/Did you mean .*"images"/);
    expect((await dev.query(`{ __schema { types { name } } }`)).errors).toBeUndefined();
    const devPage = await raw(dev, { headers: { accept: 'text/html' } });
    expect(devPage.text).toContain('<title>fleetgraph</title>');
    // GraphiQL is served from the installed package, never from a CDN.
    expect(devPage.text).not.toMatch(/unpkg\.com|jsdelivr|cdn\./);
  });

  it('can turn introspection back on and GraphiQL off explicitly', async () => {
    const t = app({ introspection: true }, prod);
    expect((await t.query(`{ __schema { queryType { name } } }`)).errors).toBeUndefined();
    const noGraphiql = app({ graphiql: false });
    expect((await raw(noGraphiql, { headers: { accept: 'text/html' } })).text).not.toContain('<title>fleetgraph</title>');
  });

  it('masks unexpected errors', async () => {
    const broken: InventorySource = {
      hostNames: () => ['x'],
      // Not a HostError and not data: the resolver fails with a TypeError nobody planned for.
      images: () => Promise.resolve(new Proxy([], { get: () => { throw new TypeError('secret /var/run/docker.sock 10.0.0.1'); } }) as never),
      containers: () => Promise.reject(new Error('nope')),
      version: () => Promise.reject(new Error('nope')),
      sharedSizes: () => Promise.reject(new Error('nope')),
      breakerState: () => 'closed',
      negotiatedApiVersion: () => undefined,
    };
    // yoga decides what a masked error carries from process.env.NODE_ENV when the error is masked.
    const saved = process.env.NODE_ENV;
    try {
      for (const mode of ['production', 'development', 'test', undefined]) {
        if (mode === undefined) delete process.env.NODE_ENV;
        else process.env.NODE_ENV = mode;
        const logged: string[] = [];
        const logger = pino({ level: 'debug' }, { write: (line: string) => logged.push(line) });
        const a = createApp({ source: broken, config: loadConfig({ hosts: ['x=unix:///nowhere.sock'] }, process.env), logger });
        const res = await a.fetch('http://fleetgraph/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ images { totalCount } }' }) });
        const text = await res.text();
        expect(text, String(mode)).toContain('Unexpected error.');
        // No original error, message, stack or file path, in any mode.
        expect(text, String(mode)).not.toMatch(/secret|docker\.sock|10\.0\.0\.1|originalError|stack|TypeError|\.ts:|\.js:|\/src\/|node_modules/);
        // The details go to the log instead.
        expect(logged.join('\n'), String(mode)).toMatch(/TypeError[\s\S]*\/src\//);
      }
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved;
    }
  });
});

describe('the GraphiQL page', () => {
  const page = async (t: TestApp, headers: Record<string, string> = {}) => t.app.fetch('http://fleetgraph/graphql', { headers: { accept: 'text/html', ...headers } });

  it('is sent compressed and cacheable: gzip or brotli as accepted, the same page, and 304 on a matching ETag', async () => {
    const t = app();
    const plain = await page(t);
    expect(plain.headers.get('content-encoding')).toBeNull();
    const html = Buffer.from(await plain.arrayBuffer());
    expect(html.toString('utf8')).toContain('<title>fleetgraph</title>');
    const etag = plain.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(plain.headers.get('cache-control')).toBe('no-cache');
    expect(plain.headers.get('vary')).toMatch(/accept-encoding/i);

    for (const [accept, encoding, decode] of [
      ['gzip, deflate', 'gzip', gunzipSync],
      ['gzip, deflate, br', 'br', brotliDecompressSync],
      ['br;q=0, gzip', 'gzip', gunzipSync],
    ] as const) {
      const res = await page(t, { 'accept-encoding': accept });
      expect(res.headers.get('content-encoding'), accept).toBe(encoding);
      expect(res.headers.get('etag')).toBe(etag);
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.length, accept).toBeLessThan(html.length / 3);
      expect(decode(body).equals(html), accept).toBe(true);
    }

    const again = await page(t, { 'if-none-match': etag!, 'accept-encoding': 'gzip' });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    expect(again.headers.get('etag')).toBe(etag);
    expect((await page(t, { 'if-none-match': '"other"' })).status).toBe(200);
  });
});

describe('browser protections', () => {
  it('refuses simple (CSRF-able) requests without a preflight-forcing header', async () => {
    const t = app();
    const form = await raw(t, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ hosts { name } }' }) });
    expect(form.status).toBe(403);
    const get = await raw(t, { path: `/graphql?query=${encodeURIComponent('{ hosts { name } }')}` });
    expect(get.status).toBe(403);
    const getWithHeader = await raw(t, { path: `/graphql?query=${encodeURIComponent('{ hosts { name } }')}`, headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(getWithHeader.status).toBe(200);
  });

  it('sends no CORS headers for foreign origins unless configured', async () => {
    const closed = app();
    const preflight = { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } };
    expect((await raw(closed, preflight)).headers.get('access-control-allow-origin')).toBeNull();
    const open = app({ corsOrigins: ['https://ok.example'] });
    expect((await raw(open, preflight)).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    const ok = await raw(open, { ...preflight, headers: { ...preflight.headers, origin: 'https://ok.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://ok.example');
  });

  it('limits the request body', async () => {
    const t = app({ limits: { maxBodyBytes: 1000 } });
    const big = JSON.stringify({ query: `{ hosts { name } }`, variables: { pad: 'x'.repeat(2000) } });
    const res = await raw(t, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) }, body: big });
    expect(res.status).toBe(413);
    expect((await t.query(`{ hosts { name } }`)).status).toBe(200);
  });
});
