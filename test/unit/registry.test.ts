import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { UpdateChecker } from '../../src/registry/checker.js';
import { MANIFEST_ACCEPT, retryAfterMs } from '../../src/registry/client.js';
import { CredentialsError, readCredentialFile, RegistryCredentials } from '../../src/registry/credentials.js';
import { apiBase, localDigests, registryName, targetOf } from '../../src/registry/reference.js';
import { RequestUpdates } from '../../src/registry/updates.js';
import { parseChallenge } from '../../src/registry/www-authenticate.js';
import type { ImageRecord } from '../../src/inventory/types.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;

describe('references, normalised as Docker does', () => {
  it.each([
    ['nginx:1.25', 'docker.io', 'library/nginx', '1.25', 'https://registry-1.docker.io'],
    ['docker.io/library/nginx:1.25', 'docker.io', 'library/nginx', '1.25', 'https://registry-1.docker.io'],
    ['index.docker.io/bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', 'https://registry-1.docker.io'],
    ['ghcr.io/org/tool:v2', 'ghcr.io', 'org/tool', 'v2', 'https://ghcr.io'],
    ['127.0.0.1:5000/fleet/app:1', '127.0.0.1:5000', 'fleet/app', '1', 'http://127.0.0.1:5000'],
    ['localhost:5000/app:latest', 'localhost:5000', 'app', 'latest', 'http://localhost:5000'],
  ])('%s', (ref, registry, repository, tag, base) => {
    const t = targetOf(ref)!;
    expect(t).toMatchObject({ registry, repository, tag });
    expect(apiBase(t.registry)).toBe(base);
  });

  it('gives no target for what is not a tagged name', () => {
    for (const ref of ['nginx@sha256:' + 'a'.repeat(64), 'UPPER:1', 'a b:1', '', 'x'.repeat(600) + ':1']) expect(targetOf(ref), ref).toBeUndefined();
  });

  it('takes the RepoDigests entry of the same repository, wherever it is in the list (not the first)', () => {
    const t = targetOf('nginx:1.25')!;
    const digests = [`127.0.0.1:5000/nginx@${D('a')}`, `docker.io/library/other@${D('b')}`, `nginx@${D('c')}`, `docker.io/library/nginx@${D('d')}`];
    expect(localDigests(digests, t)).toEqual([D('c'), D('d')]);
    expect(localDigests([`127.0.0.1:5000/nginx@${D('a')}`], t)).toEqual([]);
  });

  it('normalises registry names as docker config keys spell them', () => {
    expect(registryName('https://index.docker.io/v1/')).toBe('docker.io');
    expect(registryName('http://127.0.0.1:5000/v2/')).toBe('127.0.0.1:5000');
    expect(registryName('GHCR.io')).toBe('ghcr.io');
  });
});

describe('WWW-Authenticate', () => {
  it('reads the Docker token challenge', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' },
    });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } });
    expect(parseChallenge('bearer realm=x , service="a\\"b"')?.params).toEqual({ realm: 'x', service: 'a"b' });
  });

  it('refuses what it cannot read, and bounds its input', () => {
    for (const h of [null, '', 'Digest realm="x"', 'Bearer realm="unterminated', `Bearer realm="${'x'.repeat(5000)}"`]) expect(parseChallenge(h), String(h).slice(0, 40)).toBeUndefined();
  });
});

it('Retry-After: seconds or a date, within 1 s and 24 h', () => {
  expect(retryAfterMs('120')).toBe(120_000);
  expect(retryAfterMs(null)).toBe(60_000);
  expect(retryAfterMs('0')).toBe(1000);
  expect(retryAfterMs('99999999')).toBe(24 * 3600_000);
  expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30_000);
});

describe('credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-creds-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads auths (auth or username/password), skips helper-only entries, never prints a secret', () => {
    const f = join(dir, 'config.json');
    writeFileSync(f, JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('u:p4ss:word').toString('base64') }, 'ghcr.io': { username: 'x', password: 'tok' }, 'quay.io': {} }, credsStore: 'desktop' }));
    const store = readCredentialFile(f, false);
    expect([...store.keys()]).toEqual(['docker.io', 'ghcr.io']);
    expect(store.get('docker.io')!.basicHeader()).toBe(`Basic ${Buffer.from('u:p4ss:word').toString('base64')}`);
    expect(JSON.stringify([...store])).not.toContain('tok');
    expect(inspect(store, { depth: 5 })).not.toMatch(/tok|p4ss/);
  });

  it('errors name the file and entry, never the value', () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ auths: { 'ghcr.io': { auth: Buffer.from('no-colon-secret').toString('base64') } } }));
    expect(() => readCredentialFile(f, false)).toThrow(CredentialsError);
    expect(() => readCredentialFile(f, false)).toThrow(/auths entry "ghcr.io"/);
    try {
      readCredentialFile(f, false);
    } catch (err) {
      expect((err as Error).message).not.toContain('secret');
    }
    expect(readCredentialFile(join(dir, 'missing.json'), true).size).toBe(0);
    expect(() => readCredentialFile(join(dir, 'missing.json'), false)).toThrow(/ENOENT/);
  });
});

/** A fake fetch: answers HEADs from a table, counts calls, can hold answers back. */
function fakeFetch(answer: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: Array<{ url: string; method: string; headers: Record<string, string> }> = [];
  const fn = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = String(input);
    calls.push({ url, method: init.method ?? 'GET', headers: (init.headers ?? {}) as Record<string, string> });
    return answer(url, init);
  }) as typeof fetch;
  return { fn, calls };
}

const found = (digest: string) => new Response(null, { status: 200, headers: { 'docker-content-digest': digest } });

function checker(f: ReturnType<typeof fakeFetch>, extra: Partial<ConstructorParameters<typeof UpdateChecker>[0]> = {}) {
  return new UpdateChecker({ intervalMs: 60_000, timeoutMs: 1000, allow: [], credentials: new Map(), fetch: f.fn, ...extra });
}

describe('UpdateChecker', () => {
  it('asks with the index, list and manifest Accept types, and shares one request among everyone asking', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const f = fakeFetch(async () => (await gate, found(D('1'))));
    const c = checker(f);
    const t = targetOf('127.0.0.1:5000/app:1')!;
    const all = Promise.all(Array.from({ length: 50 }, () => c.check(t)));
    release();
    expect(new Set((await all).map((r) => (r.kind === 'FOUND' ? r.digest : r.kind)))).toEqual(new Set([D('1')]));
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]).toMatchObject({ url: 'http://127.0.0.1:5000/v2/app/manifests/1', method: 'HEAD' });
    expect(f.calls[0]!.headers.accept).toBe(MANIFEST_ACCEPT);
    expect(MANIFEST_ACCEPT.split(', ')[0]).toBe('application/vnd.oci.image.index.v1+json');
  });

  it('reuses an answer for the interval, then asks again', async () => {
    let now = 1_000_000;
    const f = fakeFetch(() => found(D('1')));
    const c = checker(f, { now: () => now });
    const t = targetOf('127.0.0.1:5000/app:1')!;
    await c.check(t);
    now += 59_000;
    await c.check(t);
    expect(f.calls).toHaveLength(1);
    now += 2_000;
    await c.check(t);
    expect(f.calls).toHaveLength(2);
  });

  it('never calls a registry outside the allow-list (the Docker Hub included)', async () => {
    const f = fakeFetch(() => found(D('1')));
    const c = checker(f, { allow: ['127.0.0.1:5000'] });
    expect((await c.check(targetOf('nginx:1')!)).kind).toBe('NOT_ALLOWED');
    expect((await c.check(targetOf('127.0.0.1:5001/app:1')!)).kind).toBe('NOT_ALLOWED');
    expect(f.calls).toEqual([]);
  });

  it('keeps at most `concurrency` requests in flight per registry', async () => {
    let inFlight = 0;
    let most = 0;
    const f = fakeFetch(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return found(D('1'));
    });
    const c = checker(f, { concurrency: 2 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => c.check(targetOf(`127.0.0.1:5000/app:${i}`)!)));
    expect(f.calls).toHaveLength(10);
    expect(most).toBe(2);
  });

  it('a 429 stops every request to that registry until Retry-After, and no other registry', async () => {
    let now = 1_000_000;
    const f = fakeFetch((url) => (url.includes(':5000/') ? new Response(null, { status: 429, headers: { 'retry-after': '30' } }) : found(D('2'))));
    const c = checker(f, { now: () => now });
    expect(await c.check(targetOf('127.0.0.1:5000/app:1')!)).toMatchObject({ kind: 'RATE_LIMITED', retryAfterMs: 30_000 });
    expect(await c.check(targetOf('127.0.0.1:5000/app:2')!)).toMatchObject({ kind: 'RATE_LIMITED' });
    expect((await c.check(targetOf('127.0.0.1:6000/app:2')!)).kind).toBe('FOUND');
    expect(f.calls.map((x) => x.url)).toEqual(['http://127.0.0.1:5000/v2/app/manifests/1', 'http://127.0.0.1:6000/v2/app/manifests/2']);
    now += 31_000;
    await c.check(targetOf('127.0.0.1:5000/app:2')!);
    expect(f.calls).toHaveLength(3);
  });

  it('bearer flow: token from the realm with the credentials, scope repository:NAME:pull; the token never leaves', async () => {
    const creds = new Map([['127.0.0.1:5000', new RegistryCredentials('u', 'pw')]]);
    const f = fakeFetch((url, init) => {
      const auth = (init.headers as Record<string, string>).authorization;
      if (url.startsWith('http://127.0.0.1:5001/token')) return new Response(JSON.stringify({ token: 'TKN', expires_in: 300 }), { status: 200 });
      if (auth === 'Bearer TKN') return found(D('3'));
      return new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://127.0.0.1:5001/token",service="svc"' } });
    });
    const c = checker(f, { credentials: creds });
    const r = await c.check(targetOf('127.0.0.1:5000/team/app:1')!);
    expect(r).toMatchObject({ kind: 'FOUND', digest: D('3') });
    const token = new URL(f.calls[1]!.url);
    expect(token.searchParams.get('scope')).toBe('repository:team/app:pull');
    expect(token.searchParams.get('service')).toBe('svc');
    expect(f.calls[1]!.headers.authorization).toBe(`Basic ${Buffer.from('u:pw').toString('base64')}`);
    expect(JSON.stringify(r)).not.toMatch(/TKN|pw/);
  });

  it('a token realm outside the allow-list is not contacted', async () => {
    const f = fakeFetch(() => new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://169.254.169.254/latest",service="x"' } }));
    const r = await checker(f, { allow: ['127.0.0.1:5000'] }).check(targetOf('127.0.0.1:5000/app:1')!);
    expect(r).toMatchObject({ kind: 'ERROR', reason: "the registry's token service is not in --registry-allow" });
    expect(f.calls).toHaveLength(1);
  });
});

describe('RequestUpdates', () => {
  const image = (tags: string[], digests: string[]): ImageRecord => ({ id: D('f'), parentId: null, repoTags: tags, repoDigests: digests, created: 0, size: 0, sharedSize: null, virtualSize: null, labels: {}, containers: null });

  it('CURRENT when the registry has a digest this host holds for the repository; OUTDATED otherwise; UNKNOWN without one', async () => {
    const f = fakeFetch((url) => found(url.includes('/a/') ? D('1') : D('9')));
    const u = new RequestUpdates(checker(f));
    const img = image(['127.0.0.1:5000/a:1', '127.0.0.1:5000/b:1', '127.0.0.1:5000/c:1'], [`127.0.0.1:5000/b@${D('2')}`, `127.0.0.1:5000/a@${D('1')}`]);
    expect((await u.of(img)).map((x) => [x.reference, x.status, x.localDigest])).toEqual([
      ['127.0.0.1:5000/a:1', 'CURRENT', D('1')],
      ['127.0.0.1:5000/b:1', 'OUTDATED', D('2')],
      ['127.0.0.1:5000/c:1', 'UNKNOWN', null],
    ]);
  });

  it('starts at most its budget of new checks per request; the rest are UNKNOWN without a request', async () => {
    const f = fakeFetch(() => found(D('1')));
    const u = new RequestUpdates(checker(f), 3);
    const img = image(Array.from({ length: 10 }, (_, i) => `127.0.0.1:5000/app:${i}`), []);
    const got = await u.of(img);
    expect(f.calls).toHaveLength(3);
    expect(got.filter((x) => x.reason?.includes('at most 3 tags'))).toHaveLength(7);
  });

  it('without a checker (no --check-updates) nothing is asked', async () => {
    const got = await new RequestUpdates(undefined).of(image(['nginx:1'], [`nginx@${D('1')}`]));
    expect(got).toEqual([{ reference: 'nginx:1', localDigest: D('1'), remoteDigest: null, status: 'UNKNOWN', checkedAt: null, reason: expect.stringMatching(/--check-updates/) }]);
  });
});
