import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { engineCallKind, HostRegistry } from '../../src/docker/hosts.js';
import { Metrics, routeOf } from '../../src/metrics.js';
import { currentRequestId, requestIdFrom, withRequestId } from '../../src/request-id.js';
import { queryApp } from '../helpers/app.js';
import { fakeSource } from '../helpers/fake-source.js';
import { parseExposition, total } from '../helpers/prometheus.js';

describe('request ids', () => {
  it('keeps a sane incoming id and makes a UUID for anything else', () => {
    expect(requestIdFrom('abc-123_X:9.z')).toBe('abc-123_X:9.z');
    expect(requestIdFrom('a'.repeat(128))).toBe('a'.repeat(128));
    for (const bad of [undefined, null, '', 'a'.repeat(129), 'has space', 'x\ny', '{"a":1}', ['a', 'b']]) {
      expect(requestIdFrom(bad)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('follows the request through its async work, and only there', async () => {
    expect(currentRequestId()).toBeUndefined();
    const seen = await withRequestId('r-1', async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentRequestId();
    });
    expect(seen).toBe('r-1');
    expect(currentRequestId()).toBeUndefined();
  });
});

describe('metric labels stay few', () => {
  it('names routes and engine call kinds from fixed sets', () => {
    expect(['/graphql', '/metrics', '/readyz', '/healthz', '/', '/graphql/x', '/metricsx'].map(routeOf)).toEqual(['graphql', 'metrics', 'readyz', 'healthz', 'other', 'other', 'other']);
    expect(['/images/json', '/containers/json', '/system/df', '/version', '/events', `/images/sha256:${'a'.repeat(64)}/json`, '/info'].map(engineCallKind)).toEqual([
      'images',
      'containers',
      'df',
      'version',
      'events',
      'inspect',
      'other',
    ]);
  });
});

describe('Metrics', () => {
  it('leaves out the series of hosts a scrape may not see', async () => {
    const m = new Metrics();
    const registry = new HostRegistry(
      ['alpha', 'alpha2', 'beta'].map((name) => ({ name, endpoint: `unix:///nonexistent/${name}.sock`, timeoutMs: 1000 })),
      { maxResponseBytes: 1024, observer: m },
    );
    m.watchHosts(registry);
    for (const host of ['alpha', 'alpha2', 'beta']) {
      m.engineCall(host, 'images', 0.01);
      m.hostFailure(host, 'HOST_TIMEOUT');
    }
    m.httpRequest('graphql', 'POST', 200, 0.02);
    const all = parseExposition(await m.scrape(['alpha', 'alpha2', 'beta']));
    expect(new Set(all.map((s) => s.labels.host).filter(Boolean))).toEqual(new Set(['alpha', 'alpha2', 'beta']));
    const text = await m.scrape(['alpha']);
    expect(text).not.toMatch(/alpha2|beta/);
    const some = parseExposition(text);
    expect(total(some, 'fleetgraph_engine_calls_total', { host: 'alpha', kind: 'images' })).toBe(1);
    expect(total(some, 'fleetgraph_host_failures_total', { host: 'alpha', code: 'HOST_TIMEOUT' })).toBe(1);
    expect(total(some, 'fleetgraph_host_breaker_state', { host: 'alpha', state: 'closed' })).toBe(1);
    expect(total(some, 'fleetgraph_http_requests_total', { route: 'graphql', method: 'POST', status: '200' })).toBe(1);
    registry.close();
  });

  it('counts the errors of each answer by extensions.code', async () => {
    const metrics = new Metrics();
    const source = fakeSource({ hosts: ['a', 'b'], fail: { b: 'HOST_UNREACHABLE' } });
    const config = loadConfig({ hosts: ['a=unix:///nonexistent/a.sock', 'b=unix:///nonexistent/b.sock'] }, {});
    const app = createApp({ source, config, metrics });
    const one = await queryApp(app, '{ images { totalCount } hosts { name imageCount } }');
    const two = await queryApp(app, '{ nope }');
    const codes = [...(one.errors ?? []), ...(two.errors ?? [])].map((e) => e.extensions?.code);
    expect(codes.filter((c) => c === 'HOST_UNREACHABLE').length).toBeGreaterThan(0);
    const samples = parseExposition(await metrics.scrape([]));
    for (const code of new Set(codes)) expect(total(samples, 'fleetgraph_graphql_errors_total', { code: String(code) }), String(code)).toBe(codes.filter((c) => c === code).length);
    expect(total(samples, 'fleetgraph_graphql_errors_total')).toBe(codes.length);
  });

  it('lets a configured browser origin read the request id', async () => {
    const source = fakeSource({ hosts: ['a'] });
    const config = loadConfig({ hosts: ['a=unix:///nonexistent/a.sock'], corsOrigins: ['https://ui.example'] }, {});
    const res = await createApp({ source, config }).fetch('http://fleetgraph/graphql?query=%7B__typename%7D', { headers: { origin: 'https://ui.example' } });
    expect(res.headers.get('access-control-expose-headers')?.split(',').map((h) => h.trim().toLowerCase())).toContain('x-request-id');
  });
});
