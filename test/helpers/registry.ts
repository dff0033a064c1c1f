/**
 * A real image registry for tests: Debian's `docker-registry` (distribution 2.8) on loopback, with its
 * storage in a temp dir; and a counting HTTP proxy in front of it that can also demand basic or bearer
 * auth (with a small token server), so the engines push through it and every request the gateway makes
 * is counted where it arrives. dockerd treats registries on 127.0.0.0/8 as insecure (plain HTTP).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineRequest, expectOk, parseJsonStream } from '../../src/dev/engine-api.js';
import { freePort, spawnGroup, type Spawned } from './process.js';
import { waitFor } from '../../src/dev/wait.js';

export interface Registry {
  /** "127.0.0.1:PORT" */
  host: string;
  close(): Promise<void>;
}

/** Starts /usr/bin/docker-registry on a free loopback port; resolves once GET /v2/ answers. */
export async function startRegistry(): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}", secret: "${randomBytes(16).toString('hex')}" }`,
      '',
    ].join('\n'),
  );
  let proc: Spawned | undefined;
  const close = async () => {
    if (proc) {
      proc.signal('SIGTERM');
      await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 5000))]);
      proc.signal('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    proc = spawnGroup('/usr/bin/docker-registry', ['serve', config]);
    await waitFor('docker-registry to answer', async () => (await get(`http://127.0.0.1:${port}/v2/`).catch(() => 0)) === 200, 20_000, () => proc!.output());
  } catch (err) {
    await close();
    throw err;
  }
  return { host: `127.0.0.1:${port}`, close };
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

export type ProxyAuth = { kind: 'none' } | { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; username: string; password: string };

export interface RegistryProxy {
  /** "127.0.0.1:PORT": the name engines push to and references carry. */
  host: string;
  /** Every request received, "METHOD path" (query left out), in order; token requests are not here. */
  requests: string[];
  /** Requests to the token endpoint (bearer mode), each with whether its credentials were right. */
  tokenRequests: Array<{ scope: string; ok: boolean }>;
  count(method: string, path: string): number;
  reset(): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of `target` ("127.0.0.1:PORT") that counts requests. With basic auth it answers
 * 401 + `WWW-Authenticate: Basic` to requests without the right credentials, as a registry behind
 * htpasswd does; with bearer auth it sends clients to its own token endpoint (`/token`, realm on the same
 * port, service "fleetgraph-test"), which trades the right basic credentials for a random token, and it
 * accepts only tokens it issued.
 */
export async function startRegistryProxy(target: string, auth: ProxyAuth = { kind: 'none' }): Promise<RegistryProxy> {
  const requests: string[] = [];
  const tokenRequests: Array<{ scope: string; ok: boolean }> = [];
  const tokens = new Set<string>();
  const [targetHost, targetPort] = target.split(':') as [string, string];
  let self = '';
  const basicOk = (header: string | undefined) =>
    auth.kind !== 'none' && header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (auth.kind === 'bearer' && url.pathname === '/token') {
      const ok = basicOk(req.headers.authorization);
      tokenRequests.push({ scope: url.searchParams.get('scope') ?? '', ok });
      if (!ok) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      const token = randomBytes(24).toString('base64url');
      tokens.add(token);
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
    }
    requests.push(`${req.method} ${url.pathname}`);
    if (auth.kind === 'basic' && !basicOk(req.headers.authorization)) {
      req.resume();
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="fleetgraph-test"', 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    if (auth.kind === 'bearer') {
      const given = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!given || !tokens.has(given)) {
        req.resume();
        const repo = /^\/v2\/(.+)\/(?:manifests|blobs|tags)\//.exec(url.pathname)?.[1];
        const scope = repo ? `,scope="repository:${repo}:pull,push"` : '';
        return void res
          .writeHead(401, { 'www-authenticate': `Bearer realm="http://${self}/token",service="fleetgraph-test"${scope}`, 'content-type': 'application/json' })
          .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      }
    }
    const headers = { ...req.headers, host: target };
    delete headers.authorization;
    const up = http.request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers }, (ur) => {
      // The registry's Location headers name itself; clients must come back through the proxy.
      const out = { ...ur.headers };
      if (typeof out.location === 'string') out.location = out.location.replace(`http://${target}`, `http://${self}`);
      res.writeHead(ur.statusCode ?? 502, out);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host: self,
    requests,
    tokenRequests,
    count: (method, path) => requests.filter((r) => r === `${method} ${path}`).length,
    reset: () => {
      requests.length = 0;
      tokenRequests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type FaultMode = '429' | '500' | 'hang';

/** A registry that only misbehaves: 429 with Retry-After, 500, or accepts and never answers. Counts requests. */
export async function startFaultyRegistry(mode: FaultMode): Promise<{ host: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${(req.url ?? '').split('?')[0]}`);
    if (mode === '429') res.writeHead(429, { 'retry-after': '3600', 'content-type': 'application/json' }).end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
    else if (mode === '500') res.writeHead(500).end('boom');
    // 'hang': never answer
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Credentials = { username: string; password: string };

/** X-Registry-Auth as the docker CLI sends it (base64url of the JSON, with padding: Go's URLEncoding). */
function registryAuthHeader(ref: string, credentials?: Credentials): string {
  const json = credentials ? { ...credentials, serveraddress: ref.split('/')[0] } : {};
  return Buffer.from(JSON.stringify(json)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function splitTag(ref: string): [string, string] {
  const colon = ref.lastIndexOf(':');
  return [ref.slice(0, colon), ref.slice(colon + 1)];
}

/** POST /images/{name}/push?tag=; returns the manifest digest the engine reports in the stream's aux message. */
export async function pushImage(socket: string, ref: string, credentials?: Credentials): Promise<string> {
  const [name, tag] = splitTag(ref);
  const path = `/images/${name}/push?tag=${encodeURIComponent(tag)}`;
  const res = await engineRequest(socket, 'POST', path, undefined, { 'X-Registry-Auth': registryAuthHeader(ref, credentials) });
  expectOk('POST', path, res);
  const lines = parseJsonStream(`push ${ref}`, res.body) as Array<{ aux?: { Digest?: string } }>;
  const digest = lines.find((l) => l.aux?.Digest)?.aux?.Digest;
  if (!digest) throw new Error(`push ${ref}: no digest in ${res.body.toString('utf8').slice(0, 500)}`);
  return digest;
}

/** POST /images/create?fromImage=&tag= from the loopback registry (the only pull the tests make). */
export async function pullImage(socket: string, ref: string, credentials?: Credentials): Promise<void> {
  const [name, tag] = splitTag(ref);
  const path = `/images/create?${new URLSearchParams({ fromImage: name, tag }).toString()}`;
  const res = await engineRequest(socket, 'POST', path, undefined, { 'X-Registry-Auth': registryAuthHeader(ref, credentials) });
  expectOk('POST', path, res);
  parseJsonStream(`pull ${ref}`, res.body);
}

/** GET a manifest's exact bytes from the registry (what its digest is the sha256 of). */
export async function getManifest(registry: string, repo: string, reference: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${reference}`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  if (res.status !== 200) throw new Error(`GET manifest ${repo}:${reference}: HTTP ${res.status}`);
  return { bytes: Buffer.from(await res.arrayBuffer()), mediaType: res.headers.get('content-type') ?? '', digest: res.headers.get('docker-content-digest') ?? '' };
}

/** PUT a manifest (e.g. a crafted manifest list) under a tag; returns the digest the registry gives it. */
export async function putManifest(registry: string, repo: string, tag: string, mediaType: string, body: Buffer): Promise<string> {
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: new Uint8Array(body) });
  if (res.status !== 201) throw new Error(`PUT manifest ${repo}:${tag}: HTTP ${res.status}: ${(await res.text()).slice(0, 500)}`);
  return res.headers.get('docker-content-digest') ?? '';
}
