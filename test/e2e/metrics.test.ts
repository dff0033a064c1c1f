/**
 * Issue 14 §3: /metrics and request ids, through the built CLI (`serve`) in front of two real engines
 * (each behind a counting proxy, the oracle for engine calls) and one host that is down. What /metrics
 * says must match what happened: the engine calls the proxies saw, by host and kind; the down host's
 * failures by code and its breaker; the errors and HTTP statuses the test itself received. Then token
 * scoping of /metrics, and request ids in response headers and log lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineCallKind } from '../../src/docker/hosts.js';
import { buildCli, CLI } from '../helpers/cli.js';
import { startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { freePort } from '../helpers/process.js';
import { parseExposition, total, type Sample } from '../helpers/prometheus.js';
import { fleetEngine } from '../helpers/provided.js';
import { waitFor } from '../../src/dev/wait.js';

const ALL = 'metrics-all-token-0123456789';
const ONLY_ALPHA = 'metrics-alpha-token-0123456789';
const HOSTS = ['alpha', 'beta', 'down'] as const;

let proxies: Record<'alpha' | 'beta', CountingProxy>;
let dir: string;
let child: ChildProcess | undefined;
let stderr = '';
let base: string;
let startedAt: number;

beforeAll(async () => {
  await buildCli();
  proxies = { alpha: await startCountingProxy(fleetEngine('alpha').socket), beta: await startCountingProxy(fleetEngine('beta').socket) };
  dir = mkdtempSync(join(tmpdir(), 'fg-metrics-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'debug', FLEETGRAPH_AUTH_TOKENS: `${ALL};${ONLY_ALPHA} hosts=alpha` };
  for (const k of ['NODE_ENV', 'FLEETGRAPH_HOSTS', 'DOCKER_HOST']) delete env[k];
  const hosts = [`alpha=${proxies.alpha.endpoint}`, `beta=${proxies.beta.endpoint}`, `down=unix://${join(dir, 'nothing.sock')}`];
  startedAt = Date.now();
  child = spawn(process.execPath, [CLI, 'serve', ...hosts.flatMap((h) => ['--host', h]), '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const said = (text: string) => {
    if (child!.exitCode !== null) throw new Error(`fleetgraph exited:\n${stderr}`);
    return stderr.includes(text);
  };
  await waitFor('fleetgraph to serve', () => said(`at ${base}/graphql`), 30_000, () => stderr);
  // its start-up probe of every host, so that the engine calls counted below are all settled ones
  await waitFor('the start-up probe', () => HOSTS.every((h) => said(`host \\"${h}\\" is up`) || said(`host \\"${h}\\" is not answering`)), 30_000, () => stderr);
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await Promise.all(Object.values(proxies ?? {}).map((p) => p.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every field of every image, with shared sizes (/system/df on these engines), containers and each host's /version. */
const FLAT = `{ images { totalCount nodes { id repoTags size sharedSize containers usedBy { id } host { name status engine { version } } } } }`;

interface Answer {
  status: number;
  requestId: string | null;
  errors: Array<{ extensions?: { code?: string; host?: string } }>;
}

async function post(query: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALL}`, ...headers },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { errors?: Answer['errors'] };
  return { status: res.status, requestId: res.headers.get('x-request-id'), errors: body.errors ?? [] };
}

async function scrape(token?: string): Promise<{ status: number; text: string; samples: Sample[] }> {
  const res = await fetch(`${base}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, text, samples: res.status === 200 ? parseExposition(text) : [] };
}

const logLines = () =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string; requestId?: string; route?: string; status?: number; host?: string });

describe('/metrics through the built CLI', () => {
  const answers: Answer[] = [];
  const ids = Array.from({ length: 6 }, (_, i) => `metrics-test.${i}`);

  it('counts what happened: engine calls as the engines saw them, failures by code, breaker, errors, requests', async () => {
    for (const id of ids.slice(0, 5)) answers.push(await post(FLAT, { 'x-request-id': id }));
    answers.push(await post('{ images { nodes { noSuchField } } }', { 'x-request-id': ids[5]! }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    // the down host fails every FLAT answer (unreachable, later skipped by its open breaker); the others answer
    for (const a of answers.slice(0, 5)) {
      expect(a.errors.length).toBeGreaterThan(0);
      expect(a.errors.every((e) => e.extensions?.host === 'down' && ['HOST_UNREACHABLE', 'HOST_CIRCUIT_OPEN'].includes(e.extensions.code!))).toBe(true);
    }
    expect(answers.flatMap((a) => a.errors).map((e) => e.extensions?.code)).toContain('HOST_CIRCUIT_OPEN');
    const { status, samples } = await scrape(ALL);
    expect(status).toBe(200);

    // engine calls by host and kind = the requests each engine received (through its proxy)
    for (const host of ['alpha', 'beta'] as const) {
      const seen = new Map<string, number>();
      for (const r of proxies[host].requests) seen.set(engineCallKind(r.path), (seen.get(engineCallKind(r.path)) ?? 0) + 1);
      expect([...seen.keys()]).toEqual(expect.arrayContaining(['containers', 'images', 'version']));
      for (const [kind, n] of seen) {
        expect(total(samples, 'fleetgraph_engine_calls_total', { host, kind }), `${host} ${kind}`).toBe(n);
        expect(total(samples, 'fleetgraph_engine_call_duration_seconds_count', { host, kind }), `${host} ${kind}`).toBe(n);
      }
      expect(total(samples, 'fleetgraph_engine_calls_total', { host })).toBe(proxies[host].requests.length);
      expect(total(samples, 'fleetgraph_host_failures_total', { host })).toBe(0);
      expect(total(samples, 'fleetgraph_host_breaker_state', { host, state: 'closed' })).toBe(1);
      const last = total(samples, 'fleetgraph_host_last_success_timestamp_seconds', { host }) * 1000;
      expect(last).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(last).toBeLessThanOrEqual(Date.now());
    }

    // the down host: every call it was sent failed unreachable; later ones were refused by its breaker
    const sent = total(samples, 'fleetgraph_engine_calls_total', { host: 'down' });
    expect(sent).toBeGreaterThan(0);
    expect(total(samples, 'fleetgraph_host_failures_total', { host: 'down', code: 'HOST_UNREACHABLE' })).toBe(sent);
    expect(total(samples, 'fleetgraph_host_failures_total', { host: 'down', code: 'HOST_CIRCUIT_OPEN' })).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === 'fleetgraph_host_last_success_timestamp_seconds' && s.labels.host === 'down')).toBe(false);
    const breaker = samples.filter((s) => s.name === 'fleetgraph_host_breaker_state' && s.labels.host === 'down');
    expect(breaker.map((s) => s.labels.state).sort()).toEqual(['closed', 'half-open', 'open']);
    // open since its failures; half-open if this slow machine took its reset time (10 s) to get here
    expect(breaker.filter((s) => s.value === 1).map((s) => s.labels.state)).toEqual([expect.stringMatching(/^(open|half-open)$/)]);

    // GraphQL errors by code = the errors the answers carried
    const codes = new Map<string, number>();
    for (const e of answers.flatMap((a) => a.errors)) codes.set(e.extensions?.code ?? 'NONE', (codes.get(e.extensions?.code ?? 'NONE') ?? 0) + 1);
    expect(codes.get('GRAPHQL_VALIDATION_FAILED')).toBe(1);
    for (const [code, n] of codes) expect(total(samples, 'fleetgraph_graphql_errors_total', { code }), code).toBe(n);
    expect(total(samples, 'fleetgraph_graphql_errors_total')).toBe(answers.flatMap((a) => a.errors).length);

    // HTTP requests by route and status (the scrape being answered is counted once it has finished)
    expect(total(samples, 'fleetgraph_http_requests_total', { route: 'graphql', method: 'POST', status: '200' })).toBe(answers.length);
    expect(total(samples, 'fleetgraph_http_request_duration_seconds_count', { route: 'graphql' })).toBe(answers.length);
    expect(total(samples, 'fleetgraph_http_requests_total', { route: 'metrics' })).toBe(0);
    expect(total(samples, 'fleetgraph_http_requests_total', { status: 'aborted' })).toBe(0);
    // the CLI adds prom-client's process series
    expect(samples.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);
    expect((await scrape(ALL)).samples.find((s) => s.name === 'fleetgraph_http_requests_total' && s.labels.route === 'metrics')?.labels.status).toBe('200');
  });

  it('needs a valid token when tokens are configured, and shows a scoped token only its hosts', async () => {
    for (const token of [undefined, 'not-a-token-of-this-gateway']) {
      const res = await scrape(token);
      expect(res.status).toBe(401);
      expect(res.text).not.toContain('alpha');
    }
    const all = await scrape(ALL);
    expect(new Set(all.samples.map((s) => s.labels.host).filter(Boolean))).toEqual(new Set(HOSTS));
    const scoped = await scrape(ONLY_ALPHA);
    expect(scoped.status).toBe(200);
    expect(new Set(scoped.samples.map((s) => s.labels.host).filter(Boolean))).toEqual(new Set(['alpha']));
    // not even their names, anywhere in the text
    expect(scoped.text).not.toMatch(/beta|"down"/);
    // the same alpha series, and the gateway-wide ones
    const alphaCalls = (t: Sample[]) => total(t, 'fleetgraph_engine_calls_total', { host: 'alpha' });
    expect(alphaCalls(scoped.samples)).toBe(alphaCalls(all.samples));
    expect(total(scoped.samples, 'fleetgraph_http_requests_total', { route: 'metrics', status: '401' })).toBe(2);
  });

  it('gives every answer a request id, keeping a sane incoming one, and puts it in the log lines of that request', async () => {
    expect(answers.map((a) => a.requestId)).toEqual(ids);
    for (const path of ['/healthz', '/readyz', '/metrics', '/graphql?query=%7B__typename%7D']) {
      const kept = await fetch(base + path, { headers: { 'x-request-id': 'abc-123_X:9.z' } });
      expect(kept.headers.get('x-request-id'), path).toBe('abc-123_X:9.z');
      for (const bad of ['has space', 'a'.repeat(129), '50%25', '<b>', '']) {
        const made = await fetch(base + path, { headers: { 'x-request-id': bad } });
        expect(made.headers.get('x-request-id'), `${path} ${bad}`).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      }
      const none = await fetch(base + path);
      expect(none.headers.get('x-request-id'), path).toMatch(/^[0-9a-f-]{36}$/);
    }

    await waitFor('the access lines', () => ids.every((id) => logLines().some((l) => l.msg === 'request' && l.requestId === id)), 10_000, () => stderr);
    const lines = logLines();
    // one access line per request, each with its id, route and status
    for (const id of ids) expect(lines.filter((l) => l.msg === 'request' && l.requestId === id).map((l) => [l.route, l.status])).toEqual([['graphql', 200]]);
    expect(lines.filter((l) => l.msg === 'request').every((l) => typeof l.requestId === 'string')).toBe(true);
    // yoga's own lines (debug) while it handles a request carry that request's id too
    const yoga = lines.filter((l) => l.msg.startsWith('Processing GraphQL Parameters'));
    expect(yoga.length).toBeGreaterThanOrEqual(ids.length);
    for (const id of ids) expect(yoga.some((l) => l.requestId === id), id).toBe(true);
    expect(yoga.every((l) => typeof l.requestId === 'string')).toBe(true);
    // the down host's breaker opened while one of the test's requests called it: that line names the request
    const opened = lines.filter((l) => l.host === 'down' && /failed repeatedly/.test(l.msg));
    expect(opened.length).toBeGreaterThan(0);
    expect(ids).toContain(opened[0]!.requestId);
    // start-up lines belong to no request
    expect(lines.find((l) => l.msg.startsWith('serving '))?.requestId).toBeUndefined();
  });
});
