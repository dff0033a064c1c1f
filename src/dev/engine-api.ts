/**
 * Module: the test oracle, and how the private engines (engine.ts) are pinged and seeded: the raw Docker
 * Engine API over a unix socket, with nothing but node:http. Deliberately independent of dockerode (which
 * the code under test uses), so a bug there cannot hide itself in the assertions.
 */
import { request, type IncomingHttpHeaders } from 'node:http';

export interface EngineResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface EngineRequestOptions {
  /** Abort the request (and reject) after this many ms. Default 120 000. */
  timeoutMs?: number;
}

/** Error thrown by {@link engineGet} (and the image helpers) for a non-2xx answer. */
export class EngineApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path} -> HTTP ${status}: ${body.trim().slice(0, 2000)}`);
    this.name = 'EngineApiError';
  }
}

/**
 * One HTTP request to the engine listening on `socket` (a filesystem path, not
 * a unix:// URL). `body`: a Buffer is sent as is (default Content-Type
 * application/octet-stream), a string as text/plain, anything else as JSON.
 * `headers` override those defaults. Never throws for an HTTP status; throws
 * for connection errors and timeouts. The whole response body is buffered.
 */
export function engineRequest(
  socket: string,
  method: string,
  path: string,
  body?: Buffer | string | object,
  headers?: Record<string, string>,
  options?: EngineRequestOptions,
): Promise<EngineResponse> {
  let payload: Buffer | undefined;
  const hdrs: Record<string, string> = {};
  if (body !== undefined) {
    if (Buffer.isBuffer(body)) {
      payload = body;
      hdrs['Content-Type'] = 'application/octet-stream';
    } else if (typeof body === 'string') {
      payload = Buffer.from(body, 'utf8');
      hdrs['Content-Type'] = 'text/plain; charset=utf-8';
    } else {
      payload = Buffer.from(JSON.stringify(body), 'utf8');
      hdrs['Content-Type'] = 'application/json';
    }
    hdrs['Content-Length'] = String(payload.length);
  }
  for (const [k, v] of Object.entries(headers ?? {})) {
    // case-insensitive override of the defaults
    for (const existing of Object.keys(hdrs)) {
      if (existing.toLowerCase() === k.toLowerCase()) delete hdrs[existing];
    }
    hdrs[k] = v;
  }
  const timeoutMs = options?.timeoutMs ?? 120_000;

  return new Promise<EngineResponse>((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        headers: { Host: 'docker', ...hdrs },
        agent: false, // one connection per request: nothing pooled across engine restarts
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${path} on ${socket}: no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (payload) req.end(payload);
    else req.end();
  });
}

/** GET `path` and parse the JSON answer; throws {@link EngineApiError} on a non-2xx status. */
export async function engineGet<T = unknown>(socket: string, path: string): Promise<T> {
  const res = await engineRequest(socket, 'GET', path);
  const text = res.body.toString('utf8');
  if (res.status < 200 || res.status > 299) throw new EngineApiError('GET', path, res.status, text);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`GET ${path}: answer is not JSON (${(err as Error).message}): ${text.slice(0, 500)}`);
  }
}

/** Throw {@link EngineApiError} unless the status is 2xx; returns the response for chaining. */
export function expectOk(method: string, path: string, res: EngineResponse): EngineResponse {
  if (res.status < 200 || res.status > 299) {
    throw new EngineApiError(method, path, res.status, res.body.toString('utf8'));
  }
  return res;
}

/**
 * Parse a Docker "JSON message stream" (one JSON object per line, as sent by
 * /images/load, /images/create, …) and throw on the first `error` /
 * `errorDetail` message. Returns the parsed messages.
 */
export function parseJsonStream(what: string, body: Buffer): Array<Record<string, unknown>> {
  const messages: Array<Record<string, unknown>> = [];
  for (const line of body.toString('utf8').split(/\r?\n/)) {
    if (!line.trim()) continue;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`${what}: unparsable stream line: ${line.slice(0, 500)}`);
    }
    const detail = msg['errorDetail'] as { message?: string } | undefined;
    if (msg['error'] !== undefined || detail !== undefined) {
      throw new Error(`${what}: ${String(msg['error'] ?? detail?.message ?? JSON.stringify(msg))}`);
    }
    messages.push(msg);
  }
  return messages;
}

/** An item of the engine's own GET /images/json (API 1.41), as the tests read it. */
export interface EngineImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  Containers: number;
}
