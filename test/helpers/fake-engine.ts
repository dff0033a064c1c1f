/**
 * A small fake Docker Engine API for fault tests: node:http on a unix socket in its own temp dir
 * (and, if asked, on 127.0.0.1 with a kernel-chosen port), with a programmable behaviour per path.
 *
 * Behaviours (per path, default 'ok'):
 *  - 'ok'         valid answers: /images/json (two images), /containers/json ([]), /system/df, /version, /_ping
 *  - 'malformed'  200, application/json, body `[{"Id": ` (cut short)
 *  - 'status500'  500 with a JSON error body quoting a socket path and an address (must never reach clients)
 *  - 'drip'       headers at once, then one byte every 200 ms, forever
 *  - 'huge'       a valid JSON image list of ~8 MiB, chunked (no content-length), written as fast as the client reads
 *  - 'html'       200, text/html
 *  - 'hang'       never answers
 *  - 'resetOnce'  destroys the socket on the first request to that path, then answers as 'ok'
 *  - 'busyOnce'   the first request to that path gets Docker 20.10's refusal of an overlapping /system/df
 *                 (500 "a disk usage operation is already running"), then answers as 'ok'
 *  - 'reset'      destroys the socket on every request
 *  - { slowMs }   answers as 'ok' after slowMs
 *  - { body }     200, application/json, exactly these bytes (prebuilt, e.g. a 200,000-image list: no JSON.stringify per request)
 *
 * It records every request (method and path, query string removed, an /vX.Y prefix removed; the raw
 * request target too, in `rawPaths`), and stop() closes every connection it has open, including
 * hanging and dripping ones. `setApiVersion` changes the Api-Version header (and /version's ApiVersion)
 * it answers with; `images` can be edited in place to serve other image lists.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Behaviour = 'ok' | 'malformed' | 'status500' | 'drip' | 'huge' | 'html' | 'hang' | 'resetOnce' | 'busyOnce' | 'reset' | { slowMs: number } | { body: Buffer };

/** Text the status500 body carries: none of it may appear in anything fleetgraph sends a client. */
export const SECRET_SOCKET = '/var/run/secret.sock';
export const SECRET_ADDRESS = '10.1.2.3:2376';
export const HUGE_BYTES = 8 * 1024 * 1024;

export interface FakeRequest {
  method: string;
  path: string;
}

export interface FakeImage {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize: number;
  Labels: Record<string, string>;
  Containers: number;
}

export interface FakeEngine {
  name: string;
  dir: string;
  socket: string;
  /** unix://SOCKET */
  endpoint: string;
  /** tcp://127.0.0.1:PORT when started with { tcp: true } */
  tcpEndpoint: string | undefined;
  port: number | undefined;
  /** The two images 'ok' answers /images/json with (IDs differ per fake name). */
  images: FakeImage[];
  /** Set the behaviour of one path ('/images/json', '/version', …), or of every path with '*'. */
  set(path: string, behaviour: Behaviour): void;
  /** Every request received, in order. */
  requests: FakeRequest[];
  /** Every request target exactly as received (with version prefix and query), in order. */
  rawPaths: string[];
  /** The Api-Version header (and /version ApiVersion) of every answer from now on; reset() restores 1.41. */
  setApiVersion(version: string): void;
  count(filter?: { method?: string; path?: string }): number;
  /** Back to 'ok' everywhere, with no requests recorded. */
  reset(): void;
  /** Connections open right now. */
  openConnections(): number;
  stop(): Promise<void>;
}

function imageId(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

function fakeImages(name: string): FakeImage[] {
  return [
    { Id: imageId(`${name}/1`), ParentId: '', RepoTags: [`fake/${name}:1`], RepoDigests: [], Created: 1_700_000_000, Size: 1000, SharedSize: -1, VirtualSize: 1000, Labels: { fake: name }, Containers: -1 },
    { Id: imageId(`${name}/2`), ParentId: '', RepoTags: [`fake/${name}:2`, `fake/${name}:latest`], RepoDigests: [], Created: 1_700_000_100, Size: 2000, SharedSize: -1, VirtualSize: 2000, Labels: {}, Containers: -1 },
  ];
}

const VERSION = { Version: '20.10.24', ApiVersion: '1.41', MinAPIVersion: '1.12', Os: 'linux', Arch: 'amd64', KernelVersion: '6.1.0-fake' };

function json(res: http.ServerResponse, status: number, body: unknown, apiVersion = '1.41'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'api-version': apiVersion, 'content-length': Buffer.byteLength(text) }).end(text);
}

/** A valid image list of about `bytes` bytes, written with backpressure until done or the client goes. */
function streamHuge(res: http.ServerResponse, name: string, bytes: number): void {
  res.writeHead(200, { 'content-type': 'application/json', 'api-version': '1.41' });
  let written = 0;
  let i = 0;
  const write = () => {
    while (!res.destroyed) {
      if (written >= bytes) {
        res.end(']');
        return;
      }
      const image = { ...fakeImages(name)[0]!, Id: imageId(`${name}/huge/${i}`), Labels: { pad: 'x'.repeat(900) } };
      const chunk = `${i === 0 ? '[' : ','}${JSON.stringify(image)}`;
      i++;
      written += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', write);
        return;
      }
    }
  };
  write();
}

export async function startFakeEngine(name: string, options: { tcp?: boolean } = {}): Promise<FakeEngine> {
  const dir = await mkdtemp(join(tmpdir().length > 60 ? '/tmp' : tmpdir(), 'fleetgraph-fake-'));
  const socket = join(dir, 'engine.sock');
  const behaviours = new Map<string, Behaviour>();
  const resetDone = new Set<string>();
  const requests: FakeRequest[] = [];
  const rawPaths: string[] = [];
  let apiVersion = '1.41';
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const images = fakeImages(name);

  const later = (ms: number, fn: () => void, repeat = false) => {
    const t = repeat ? setInterval(fn, ms) : setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  const answerOk = (path: string, res: http.ServerResponse) => {
    switch (path) {
      case '/images/json':
        return json(res, 200, images, apiVersion);
      case '/containers/json':
        return json(res, 200, [], apiVersion);
      case '/system/df':
        return json(res, 200, { Images: images.map((i) => ({ ...i, SharedSize: 0 })), Containers: [], Volumes: [], BuildCache: [] }, apiVersion);
      case '/version':
        return json(res, 200, { ...VERSION, ApiVersion: apiVersion }, apiVersion);
      case '/_ping':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'api-version': '1.41' }).end('OK');
        return;
      default:
        return json(res, 404, { message: `page not found` });
    }
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/v\d+\.\d+(?=\/)/, '');
    requests.push({ method: req.method ?? '?', path });
    rawPaths.push(req.url ?? '');
    const behaviour = behaviours.get(path) ?? behaviours.get('*') ?? 'ok';
    if (typeof behaviour === 'object' && 'body' in behaviour) {
      res.writeHead(200, { 'content-type': 'application/json', 'api-version': apiVersion, 'content-length': behaviour.body.length }).end(behaviour.body);
      return;
    }
    if (typeof behaviour === 'object') {
      later(behaviour.slowMs, () => {
        if (!res.destroyed) answerOk(path, res);
      });
      return;
    }
    switch (behaviour) {
      case 'ok':
        return answerOk(path, res);
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json', 'api-version': '1.41' }).end('[{"Id": ');
        return;
      case 'status500':
        return json(res, 500, {
          message: `error during connect: Get "http://%2Fvar%2Frun%2Fsecret.sock/v1.41${path}": dial unix ${SECRET_SOCKET}: connect: permission denied; proxy ${SECRET_ADDRESS} said: secret token abc123`,
        });
      case 'drip': {
        res.writeHead(200, { 'content-type': 'application/json', 'api-version': '1.41' });
        res.flushHeaders();
        res.write('[');
        const t = later(200, () => (res.destroyed ? clearInterval(t) : res.write(' ')), true);
        res.once('close', () => clearInterval(t));
        return;
      }
      case 'huge':
        return streamHuge(res, name, HUGE_BYTES);
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><html><body><h1>It works!</h1></body></html>');
        return;
      case 'hang':
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'busyOnce':
        if (!resetDone.has(path)) {
          resetDone.add(path);
          return json(res, 500, { message: 'a disk usage operation is already running' }, apiVersion);
        }
        return answerOk(path, res);
      case 'resetOnce':
        if (!resetDone.has(path)) {
          resetDone.add(path);
          req.socket.destroy();
          return;
        }
        return answerOk(path, res);
    }
  };

  const servers: http.Server[] = [];
  const listen = (server: http.Server, target: string | { host: string; port: number }) =>
    new Promise<void>((resolve, reject) => {
      server.on('connection', (s: Socket) => {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      });
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve();
      };
      if (typeof target === 'string') server.listen(target, done);
      else server.listen(target.port, target.host, done);
    });

  const unixServer = http.createServer(handler);
  servers.push(unixServer);
  let port: number | undefined;
  try {
    await listen(unixServer, socket);
    if (options.tcp) {
      const tcpServer = http.createServer(handler);
      servers.push(tcpServer);
      await listen(tcpServer, { host: '127.0.0.1', port: 0 });
      port = (tcpServer.address() as AddressInfo).port;
    }
  } catch (err) {
    for (const s of servers) s.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    name,
    dir,
    socket,
    endpoint: `unix://${socket}`,
    tcpEndpoint: port === undefined ? undefined : `tcp://127.0.0.1:${port}`,
    port,
    images,
    set(path, behaviour) {
      behaviours.set(path, behaviour);
      if (behaviour === 'resetOnce' || behaviour === 'busyOnce') resetDone.delete(path);
    },
    requests,
    rawPaths,
    setApiVersion(version) {
      apiVersion = version;
    },
    count(filter = {}) {
      return requests.filter((r) => (filter.method === undefined || r.method === filter.method) && (filter.path === undefined || r.path === filter.path)).length;
    },
    reset() {
      behaviours.clear();
      resetDone.clear();
      requests.length = 0;
      rawPaths.length = 0;
      apiVersion = '1.41';
      images.splice(0, images.length, ...fakeImages(name));
    },
    openConnections() {
      return sockets.size;
    },
    stop() {
      stopping ??= (async () => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
        for (const s of sockets) s.destroy();
        await Promise.all(closed);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
