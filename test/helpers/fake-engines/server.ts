/**
 * Module: a fake Docker engine of a given release and image store (node:http on a unix socket in its
 * own temp dir), serving the model of ./model.ts at whatever API version each request names, as
 * ./render.ts renders it. For the versions and stores the real engines here (Debian's dockerd 20.10)
 * cannot be: Docker 25-29, the containerd image store, multi-platform images.
 *
 * As dockerd's version middleware does: every answer carries `Api-Version` (the engine's highest),
 * `Server` and `OSType`; an unversioned path is served at the highest version; a version below
 * MinAPIVersion or above the highest is refused with 400 and Docker's own message. It honours the
 * /images/json parameters `filters`, `shared-size`, `manifests` and `digests` (accepted, no effect,
 * as in Docker), and records every request target.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelContainers, modelImages, type ModelContainer, type ModelImage, type Store } from './model.js';
import { atLeast, filterImages, renderContainer, renderImage } from './render.js';

export interface VersionedEngineSpec {
  name: string;
  /** Docker release, e.g. "29.1.3". */
  release: string;
  apiVersion: string;
  minApiVersion: string;
  store: Store;
}

/** The engines of the mixed fleet: what hosts run today (../shared/engine-api/README.md has the release table). */
export const VERSIONED_ENGINES: readonly VersionedEngineSpec[] = [
  { name: 'docker25', release: '25.0.5', apiVersion: '1.44', minApiVersion: '1.24', store: 'classic' },
  { name: 'docker28', release: '28.5.1', apiVersion: '1.51', minApiVersion: '1.24', store: 'classic' },
  { name: 'docker29-1', release: '29.1.3', apiVersion: '1.52', minApiVersion: '1.44', store: 'containerd' },
  { name: 'docker29-classic', release: '29.7.0', apiVersion: '1.55', minApiVersion: '1.44', store: 'classic' },
  { name: 'docker29', release: '29.7.0', apiVersion: '1.55', minApiVersion: '1.44', store: 'containerd' },
];

export interface VersionedEngine {
  spec: VersionedEngineSpec;
  socket: string;
  endpoint: string;
  images: ModelImage[];
  containers: ModelContainer[];
  /** Every request target as received (version prefix and query included). */
  rawPaths: string[];
  stop(): Promise<void>;
}

function send(res: http.ServerResponse, spec: VersionedEngineSpec, status: number, body: unknown): void {
  // Go's json.Encoder ends the document with a newline.
  const text = `${JSON.stringify(body)}\n`;
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'api-version': spec.apiVersion,
      server: `Docker/${spec.release} (linux)`,
      ostype: 'linux',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
}

const truthy = (v: string | null) => v !== null && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

/** Docker's filters: {"key": ["v"]} or the older {"key": {"v": true}}. */
function parseFilters(raw: string | null): Record<string, string[]> | Error {
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as Record<string, string[] | Record<string, boolean>>;
    const out: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (!['dangling', 'label', 'reference', 'until', 'before', 'since'].includes(k)) return new Error(`invalid filter '${k}'`);
      out[k] = Array.isArray(v) ? v : Object.keys(v);
    }
    return out;
  } catch {
    return new Error('invalid filter');
  }
}

export async function startVersionedEngine(spec: VersionedEngineSpec): Promise<VersionedEngine> {
  const dir = await mkdtemp(join(tmpdir().length > 60 ? '/tmp' : tmpdir(), 'fleetgraph-versioned-'));
  const socket = join(dir, 'engine.sock');
  const images = modelImages();
  const containers = modelContainers();
  const rawPaths: string[] = [];
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    rawPaths.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://fake');
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const version = m ? m[1]! : spec.apiVersion;
    const path = m ? m[2]! : url.pathname;
    if (req.method !== 'GET') return send(res, spec, 405, { message: 'read-only fake' });
    if (!atLeast(version, spec.minApiVersion)) {
      return send(res, spec, 400, { message: `client version ${version} is too old. Minimum supported API version is ${spec.minApiVersion}, please upgrade your client to a newer version` });
    }
    if (!atLeast(spec.apiVersion, version)) return send(res, spec, 400, { message: `client version ${version} is too new. Maximum supported API version is ${spec.apiVersion}` });
    const q = url.searchParams;
    switch (path) {
      case '/_ping':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'api-version': spec.apiVersion, ostype: 'linux' }).end('OK');
        return;
      case '/version':
        return send(res, spec, 200, {
          Platform: { Name: 'Docker Engine - Community' },
          Version: spec.release,
          ApiVersion: spec.apiVersion,
          MinAPIVersion: spec.minApiVersion,
          GitCommit: 'fake',
          GoVersion: 'go1.24.0',
          Os: 'linux',
          Arch: 'amd64',
          KernelVersion: '6.1.0-fake',
          BuildTime: '2026-01-01T00:00:00.000000000+00:00',
        });
      case '/images/json': {
        const filters = parseFilters(q.get('filters'));
        if (filters instanceof Error) return send(res, spec, 400, { message: filters.message });
        const query = { sharedSize: truthy(q.get('shared-size')), manifests: truthy(q.get('manifests')) };
        return send(res, spec, 200, filterImages(images, spec.store, filters).map((i) => renderImage(i, spec.store, version, query, containers)));
      }
      case '/containers/json':
        return send(res, spec, 200, containers.map((c) => renderContainer(c, images, spec.store)));
      default:
        return send(res, spec, 404, { message: 'page not found' });
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });

  let stopping: Promise<void> | undefined;
  return {
    spec,
    socket,
    endpoint: `unix://${socket}`,
    images,
    containers,
    rawPaths,
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await closed;
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
