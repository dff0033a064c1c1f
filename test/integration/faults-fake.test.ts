/**
 * Issue #4, against fake engines only: one bad host costs only its own part of the answer.
 * Each fault is served by one fake while another fake stays healthy; the answer must hold the healthy
 * host's images, exactly one error for the bad host (with its code and name), nothing that reveals
 * where the host is, and arrive within the host deadline (a total deadline, not an idle timeout).
 */
import http from 'node:http';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReadOnlyViolation } from '../../src/docker/modem.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { HUGE_BYTES, SECRET_ADDRESS, SECRET_SOCKET, startFakeEngine, type Behaviour, type FakeEngine } from '../helpers/fake-engine.js';
import { QUERY, type Answer } from '../helpers/status-query.js';

// Long enough for the healthy fake engine (served by this same process) to answer while the process reads a
// faulty host's 8 MiB body on a loaded machine; the faults that must time out still cost one deadline.
const HOST_TIMEOUT_MS = 2000;
/** Generous: a loaded 2-core machine must not flake, and it is still far below a drip's "forever". */
const MARGIN_MS = 1500;
const MAX_RESPONSE_BYTES = 64 * 1024;

let good: FakeEngine;
let bad: FakeEngine;
const apps: TestApp[] = [];

function app(badEndpoint: string, registryOptions: Parameters<typeof createTestApp>[2] = {}): TestApp {
  const a = createTestApp(
    [
      { name: 'good', endpoint: good.endpoint },
      { name: 'bad', endpoint: badEndpoint },
    ],
    { hostTimeoutMs: HOST_TIMEOUT_MS },
    // A high breaker volume: these tests are about single faults, not about the breaker opening.
    { maxResponseBytes: MAX_RESPONSE_BYTES, breakerVolume: 1000, ...registryOptions },
  );
  apps.push(a);
  return a;
}

/** Everything in the response that a client could read as an error. */
function errorText(result: { errors?: readonly unknown[]; data?: unknown }): string {
  const hosts = (result.data as Partial<Answer> | null | undefined)?.hosts ?? [];
  return JSON.stringify([result.errors ?? [], hosts.map((h) => h.error)]);
}

function expectNothingRevealed(text: string): void {
  const forbidden = [good.socket, bad.socket, good.dir, bad.dir, tmpdir(), SECRET_SOCKET, SECRET_ADDRESS, '10.1.2.3'];
  for (const f of forbidden) expect(text, `response reveals ${f}`).not.toContain(f);
  for (const port of [good.port, bad.port]) expect(text, `response reveals port ${port}`).not.toMatch(new RegExp(`(?<!\\d)${port}(?!\\d)`));
  expect(text.toLowerCase()).not.toContain('secret');
  expect(text).not.toMatch(/127\.0\.0\.1|\.sock\b|unix:|tcp:/);
}

function goodIds(): string[] {
  return good.images.map((i) => i.Id).sort();
}

beforeAll(async () => {
  good = await startFakeEngine('good', { tcp: true });
  bad = await startFakeEngine('bad', { tcp: true });
});

afterEach(() => {
  for (const a of apps.splice(0)) a.close();
  good.reset();
  bad.reset();
});

afterAll(async () => {
  await Promise.all([good?.stop(), bad?.stop()]);
});

const FAULTS: Array<{ fault: Behaviour; code: string }> = [
  { fault: 'malformed', code: 'HOST_BAD_RESPONSE' },
  { fault: 'status500', code: 'HOST_ERROR' },
  { fault: 'drip', code: 'HOST_TIMEOUT' },
  { fault: 'huge', code: 'HOST_BAD_RESPONSE' },
  { fault: 'html', code: 'HOST_BAD_RESPONSE' },
  { fault: 'hang', code: 'HOST_TIMEOUT' },
];

describe.each(['unix', 'tcp'] as const)('a faulty host over %s', (transport) => {
  it.each(FAULTS)('$fault: the healthy host answers, the faulty one is one $code error', async ({ fault, code }) => {
    bad.set('/images/json', fault);
    const a = app(transport === 'unix' ? bad.endpoint : bad.tcpEndpoint!);
    const t0 = Date.now();
    const result = await a.query<Answer>(QUERY);
    const elapsed = Date.now() - t0;

    expect(result.status).toBe(200);
    expect(elapsed).toBeLessThan(HOST_TIMEOUT_MS + MARGIN_MS);
    const data = result.data!;
    expect(data.images.nodes.map((n) => n.id).sort()).toEqual(goodIds());
    expect(data.images.nodes.every((n) => n.host.name === 'good')).toBe(true);
    expect(data.images.totalCount).toBe(2);

    expect(result.errors).toHaveLength(1);
    const [error] = result.errors!;
    expect(error!.path).toEqual(['images']);
    expect(error!.extensions).toEqual({ code, host: 'bad' });
    expect(error!.message).toContain('"bad"');

    expect(data.hosts).toEqual([
      { name: 'good', status: 'UP', error: null },
      { name: 'bad', status: code.replace(/^HOST_/, ''), error: { code, message: error!.message } },
    ]);
    expectNothingRevealed(errorText(result));

    // One call per host: the faulty answer was not retried (only a connection reset is).
    expect(bad.requests).toEqual([{ method: 'GET', path: '/images/json' }]);
    expect(good.requests).toEqual([{ method: 'GET', path: '/images/json' }]);
  });
});

describe('deadline', () => {
  it('is a total deadline: a dripping body (a byte every 200 ms) is cut at the deadline, not kept alive by each byte', async () => {
    bad.set('/images/json', 'drip');
    const a = app(bad.endpoint);
    const t0 = Date.now();
    const result = await a.query<Answer>(QUERY);
    const elapsed = Date.now() - t0;
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['HOST_TIMEOUT']);
    // Not before the deadline either: a drip is not an error until the deadline passes.
    expect(elapsed).toBeGreaterThanOrEqual(HOST_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(HOST_TIMEOUT_MS + MARGIN_MS);
    // The dripping connection was given up on: nothing of ours is left open on the fake.
    await expect.poll(() => bad.openConnections(), { timeout: 2000 }).toBe(0);
  });

  it('two concurrent queries over a hanging host both answer within the deadline', async () => {
    bad.set('/images/json', 'hang');
    const a = app(bad.endpoint);
    const t0 = Date.now();
    const [r1, r2] = await Promise.all([a.query<Answer>(QUERY), a.query<Answer>(QUERY)]);
    expect(Date.now() - t0).toBeLessThan(HOST_TIMEOUT_MS + MARGIN_MS);
    for (const r of [r1, r2]) {
      expect(r.status).toBe(200);
      expect(r.data!.images.nodes.map((n) => n.id).sort()).toEqual(goodIds());
      expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.host])).toEqual([['HOST_TIMEOUT', 'bad']]);
    }
  });
});

describe('body cap', () => {
  it(`stops reading a body without content-length once it passes maxResponseBytes`, async () => {
    bad.set('/images/json', 'huge');
    const a = app(bad.endpoint);
    const result = await a.query<Answer>(QUERY);
    expect(result.errors?.map((e) => [e.extensions?.code, e.extensions?.host])).toEqual([['HOST_BAD_RESPONSE', 'bad']]);
    expect(result.errors![0]!.message).toContain(`over ${MAX_RESPONSE_BYTES} bytes`);
    expect(HUGE_BYTES).toBeGreaterThan(MAX_RESPONSE_BYTES * 100);
    await expect.poll(() => bad.openConnections(), { timeout: 2000 }).toBe(0);
  });

  it('the cap is exact: a body of exactly maxResponseBytes is read, one byte more is refused', async () => {
    const goodBytes = Buffer.byteLength(JSON.stringify(good.images));
    expect(goodBytes).toBeGreaterThan(Buffer.byteLength(JSON.stringify(bad.images)) + 1);
    const exact = await app(bad.endpoint, { maxResponseBytes: goodBytes }).query<Answer>(QUERY);
    expect(exact.errors).toBeUndefined();
    expect(exact.data!.images.totalCount).toBe(4);
    const under = await app(bad.endpoint, { maxResponseBytes: goodBytes - 1 }).query<Answer>(QUERY);
    expect(under.errors?.map((e) => [e.extensions?.code, e.extensions?.host])).toEqual([['HOST_BAD_RESPONSE', 'good']]);
    expect(under.data!.images.nodes.map((n) => n.host.name)).toEqual(['bad', 'bad']);
  });
});

describe('connection reset', () => {
  it('a reset connection is retried once, and the answer is complete', async () => {
    bad.set('/images/json', 'resetOnce');
    const a = app(bad.endpoint);
    const result = await a.query<Answer>(QUERY);
    expect(result.errors).toBeUndefined();
    expect(result.data!.images.totalCount).toBe(4);
    expect(result.data!.hosts.map((h) => h.status)).toEqual(['UP', 'UP']);
    expect(bad.requests).toEqual([
      { method: 'GET', path: '/images/json' },
      { method: 'GET', path: '/images/json' },
    ]);
  });

  it('a connection reset on every try is HOST_UNREACHABLE after exactly one retry', async () => {
    bad.set('/images/json', 'reset');
    const a = app(bad.endpoint);
    const result = await a.query<Answer>(QUERY);
    expect(result.data!.images.nodes.map((n) => n.id).sort()).toEqual(goodIds());
    expect(result.errors?.map((e) => [e.extensions?.code, e.extensions?.host])).toEqual([['HOST_UNREACHABLE', 'bad']]);
    expect(bad.count({ path: '/images/json' })).toBe(2);
  });
});

describe('circuit breaker', () => {
  it('opens after repeated failures (no more calls), then lets a probe through and closes when the host is healthy', async () => {
    const RESET_MS = 600;
    const logged: string[] = [];
    const logger = { warn: (_o: object, msg: string) => void logged.push(`warn ${msg}`), info: (_o: object, msg: string) => void logged.push(`info ${msg}`) };
    const a = app(bad.endpoint, { breakerVolume: 3, breakerErrorPercent: 50, breakerResetMs: RESET_MS, logger: logger as never });
    bad.set('*', 'status500');

    for (let i = 1; i <= 3; i++) {
      const r = await a.query<Answer>(QUERY);
      expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['HOST_ERROR']);
      expect(bad.count()).toBe(i);
    }
    const open = await a.query<Answer>(QUERY);
    expect(open.status).toBe(200);
    expect(open.data!.images.nodes.map((n) => n.id).sort()).toEqual(goodIds());
    expect(open.errors?.map((e) => [e.extensions?.code, e.extensions?.host])).toEqual([['HOST_CIRCUIT_OPEN', 'bad']]);
    expect(open.data!.hosts[1]).toMatchObject({ name: 'bad', status: 'CIRCUIT_OPEN', error: { code: 'HOST_CIRCUIT_OPEN' } });
    expect(bad.count()).toBe(3);
    expect(a.registry.client('bad').breakerState()).toBe('open');
    // The healthy host's breaker is its own.
    expect(a.registry.client('good').breakerState()).toBe('closed');

    bad.set('*', 'ok');
    await new Promise((r) => setTimeout(r, RESET_MS + 200));
    const probed = await a.query<Answer>(QUERY);
    expect(probed.errors).toBeUndefined();
    expect(probed.data!.hosts.map((h) => h.status)).toEqual(['UP', 'UP']);
    expect(bad.count()).toBe(4);
    expect(a.registry.client('bad').breakerState()).toBe('closed');

    const after = await a.query<Answer>(QUERY);
    expect(after.errors).toBeUndefined();
    expect(bad.count()).toBe(5);
    // Operators see each change of a host's breaker in the log, once.
    expect(logged).toEqual([
      'warn host "bad" failed repeatedly: skipping it until the next probe',
      'info host "bad": probing again',
      'info host "bad" is answering again',
    ]);
  });

  it('a probe that fails again keeps the breaker open', async () => {
    const RESET_MS = 400;
    const a = app(bad.endpoint, { breakerVolume: 2, breakerErrorPercent: 50, breakerResetMs: RESET_MS });
    bad.set('*', 'malformed');
    await a.query(QUERY);
    await a.query(QUERY);
    expect(bad.count()).toBe(2);
    expect(a.registry.client('bad').breakerState()).toBe('open');
    await new Promise((r) => setTimeout(r, RESET_MS + 200));
    const probe = await a.query(QUERY);
    expect(probe.errors?.map((e) => e.extensions?.code)).toEqual(['HOST_BAD_RESPONSE']);
    expect(bad.count()).toBe(3);
    const again = await a.query(QUERY);
    expect(again.errors?.map((e) => e.extensions?.code)).toEqual(['HOST_CIRCUIT_OPEN']);
    expect(bad.count()).toBe(3);
  });
});

describe('read-only', () => {
  it('refuses every non-GET call through the dockerode client before it leaves the process', async () => {
    const a = app(bad.endpoint);
    const docker = a.registry.client('bad').docker;
    const refused = [
      docker.createContainer({ Image: 'x' }),
      docker.getImage('fake/bad:1').remove(),
      docker.getImage('fake/bad:1').tag({ repo: 'x', tag: 'y' }),
      docker.pruneImages(),
      docker.createVolume({ Name: 'v' }),
      docker.getContainer('c').kill(),
      new Promise((resolve, reject) =>
        docker.modem.dial({ method: 'POST', path: '/images/json?', options: {}, statusCodes: { 200: true } }, (err: unknown, data: unknown) => (err ? reject(err) : resolve(data))),
      ),
      new Promise((resolve, reject) =>
        docker.modem.dial({ method: 'head', path: '/images/json?', options: {}, statusCodes: { 200: true } }, (err: unknown, data: unknown) => (err ? reject(err) : resolve(data))),
      ),
      new Promise((resolve, reject) => {
        const req = http.request({ agent: (docker.modem as unknown as { agent: http.Agent }).agent, socketPath: bad.socket, method: 'PUT', path: '/containers/c/archive' }, resolve);
        req.on('error', reject);
        req.end('x');
      }),
      new Promise((resolve, reject) =>
        (docker.modem as unknown as { buildRequest(o: object, c: object, d: unknown, cb: (e: unknown, r: unknown) => void): void }).buildRequest(
          { method: 'DELETE', path: '/images/x', socketPath: bad.socket, headers: {} },
          { statusCodes: { 200: true } },
          undefined,
          (err, data) => (err ? reject(err) : resolve(data)),
        ),
      ),
    ];
    const results = await Promise.allSettled(refused);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ReadOnlyViolation);
    }
    // Give anything that did leave the process time to arrive.
    await new Promise((r) => setTimeout(r, 100));
    expect(bad.requests).toEqual([]);

    // GET still works through the same client.
    const list = await docker.listImages();
    expect(list.map((i) => i.Id).sort()).toEqual(bad.images.map((i) => i.Id).sort());
    expect(bad.requests).toEqual([{ method: 'GET', path: '/images/json' }]);
  });

  it('a whole query touching every kind of engine data sends only GETs', async () => {
    const a = app(bad.endpoint);
    const result = await a.query(/* GraphQL */ `
      {
        images(filter: { inUse: false }) {
          nodes {
            id
            sharedSize
            containers
          }
        }
        image(ref: "fake/good:1") {
          id
        }
        hosts {
          name
          status
          imageCount
          engine {
            version
            apiVersion
          }
        }
      }
    `);
    expect(result.errors).toBeUndefined();
    const paths = new Set([...good.requests, ...bad.requests].map((r) => r.path));
    expect(paths).toEqual(new Set(['/images/json', '/containers/json', '/system/df', '/version']));
    for (const r of [...good.requests, ...bad.requests]) expect(r.method).toBe('GET');
  });
});

describe('the fake engine itself', () => {
  it('stop() closes connections that are hanging or dripping', async () => {
    const f = await startFakeEngine('selftest');
    f.set('/images/json', 'hang');
    f.set('/version', 'drip');
    const get = (path: string) =>
      new Promise<string>((resolve) => {
        const req = http.get({ socketPath: f.socket, path }, (res) => {
          res.on('data', () => undefined);
          res.on('error', () => resolve('closed'));
          res.on('end', () => resolve('ended'));
        });
        req.on('error', () => resolve('closed'));
      });
    const hanging = get('/images/json');
    const dripping = get('/version');
    await expect.poll(() => f.count(), { timeout: 2000 }).toBe(2);
    expect(f.openConnections()).toBe(2);
    const t0 = Date.now();
    await f.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await hanging).toBe('closed');
    expect(['closed', 'ended']).toContain(await dripping);
    expect(f.openConnections()).toBe(0);
  });
});
