import type http from 'node:http';
import type { IncomingMessage } from 'node:http';
import Docker from 'dockerode';
import CircuitBreaker from 'opossum';
import type { HostConfig } from '../config.js';
import { HostError, toHostError } from './errors.js';
import { dockerOptions } from './transport.js';

/**
 * HostRegistry: one dockerode client per host, created once at start-up and reused for every request
 * (keep-alive agents, so a request costs no new connection). Each client is wrapped so that:
 *  - only GET requests ever reach an engine (the gateway is read-only; enforced here, below every caller);
 *  - every call has a real total deadline (connect + headers + body), not a socket idle timeout;
 *  - bodies are capped and must be JSON;
 *  - a connection reset (a stale keep-alive socket) is retried once, inside the same deadline;
 *  - a host that keeps failing trips a circuit breaker and fails fast until it is probed again.
 */

export interface RegistryOptions {
  maxResponseBytes: number;
  /** Breaker: failures (percent of calls in the rolling window) that open it. */
  breakerErrorPercent?: number;
  /** Breaker: calls in the window before it may open. */
  breakerVolume?: number;
  /** Breaker: how long an open breaker waits before letting a probe through. */
  breakerResetMs?: number;
}

export class ReadOnlyViolation extends Error {
  override name = 'ReadOnlyViolation';
}

type DialOptions = { method?: string; path?: string; [k: string]: unknown };
type Dial = (options: DialOptions, callback: (err: unknown, data: unknown) => void) => void;

export interface EngineResponse {
  body: unknown;
  apiVersion: string | undefined;
}

export class EngineClient {
  /** The engine's API version, learned from the Api-Version header of its last answer. */
  apiVersion: string | undefined;
  readonly docker: Docker;
  private readonly breaker: CircuitBreaker<[string, Record<string, string>], EngineResponse>;

  constructor(
    readonly config: HostConfig,
    private readonly options: RegistryOptions,
  ) {
    this.docker = new Docker(dockerOptions(config));
    guardReadOnly(this.docker);
    this.breaker = new CircuitBreaker((path: string, query: Record<string, string>) => this.getWithRetry(path, query), {
      timeout: false,
      errorThresholdPercentage: options.breakerErrorPercent ?? 50,
      volumeThreshold: options.breakerVolume ?? 4,
      resetTimeout: options.breakerResetMs ?? 10_000,
      rollingCountTimeout: 30_000,
      rollingCountBuckets: 10,
    });
  }

  get name(): string {
    return this.config.name;
  }

  breakerState(): 'closed' | 'open' | 'half-open' {
    return this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'half-open' : 'closed';
  }

  /** GET a JSON document from the engine. Rejects with a HostError only. */
  async getJson(path: string, query: Record<string, string> = {}): Promise<unknown> {
    try {
      const res = await this.breaker.fire(path, query);
      return res.body;
    } catch (err) {
      if ((err as { code?: string }).code === 'EOPENBREAKER') throw new HostError(this.name, 'HOST_CIRCUIT_OPEN');
      throw toHostError(this.name, err);
    }
  }

  private async getWithRetry(path: string, query: Record<string, string>): Promise<EngineResponse> {
    const deadline = Date.now() + this.config.timeoutMs;
    try {
      return await this.getOnce(path, query, deadline);
    } catch (err) {
      // One retry, and only for a reset of a connection that had worked (a stale keep-alive socket).
      const code = (err as { code?: string }).code;
      if ((code === 'ECONNRESET' || code === 'EPIPE') && Date.now() < deadline) return this.getOnce(path, query, deadline);
      throw err;
    }
  }

  private getOnce(path: string, query: Record<string, string>, deadline: number): Promise<EngineResponse> {
    const controller = new AbortController();
    const remaining = Math.max(1, deadline - Date.now());
    const timer = setTimeout(() => controller.abort(new HostError(this.name, 'HOST_TIMEOUT')), remaining);
    return new Promise<EngineResponse>((resolve, reject) => {
      const done = (err: unknown, value?: EngineResponse) => {
        clearTimeout(timer);
        if (err) reject(controller.signal.aborted ? controller.signal.reason : err);
        else resolve(value!);
      };
      const dial = this.docker.modem.dial.bind(this.docker.modem) as Dial;
      dial(
        {
          path: `${path}?`,
          method: 'GET',
          options: { ...query },
          isStream: true,
          abortSignal: controller.signal,
          statusCodes: { 200: true, 400: 'bad parameter', 401: 'unauthorized', 403: 'forbidden', 404: 'no such object', 500: 'server error', 503: 'unavailable' },
        },
        (err, data) => {
          if (err) return done(err);
          readJson(this.name, data as IncomingMessage, this.options.maxResponseBytes, controller.signal).then(
            (body) => {
              const header = (data as IncomingMessage).headers['api-version'];
              const apiVersion = typeof header === 'string' ? header : undefined;
              if (apiVersion) this.apiVersion = apiVersion;
              done(null, { body, apiVersion });
            },
            (e) => done(e),
          );
        },
      );
    });
  }

  close(): void {
    this.breaker.shutdown();
    const agent = (this.docker.modem as unknown as { agent?: http.Agent }).agent;
    agent?.destroy();
  }
}

function readJson(host: string, res: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const type = String(res.headers['content-type'] ?? '');
    if (!/^application\/json\b/i.test(type)) {
      res.destroy();
      return reject(new HostError(host, 'HOST_BAD_RESPONSE', 'not JSON'));
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.destroy();
      return reject(new HostError(host, 'HOST_BAD_RESPONSE', `response over ${maxBytes} bytes`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onAbort = () => res.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy(new HostError(host, 'HOST_BAD_RESPONSE', `response over ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    res.on('aborted', () => reject(new HostError(host, 'HOST_UNREACHABLE', 'connection closed mid-response')));
    res.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HostError(host, 'HOST_BAD_RESPONSE', 'malformed JSON'));
      }
    });
  });
}

/** Every request of this client goes through dial: refuse anything but GET before it leaves the process. */
function guardReadOnly(docker: Docker): void {
  const modem = docker.modem as unknown as { dial: Dial };
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    const method = (options.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      callback(new ReadOnlyViolation(`fleetgraph is read-only: refused ${method} ${String(options.path ?? '')}`), null);
      return;
    }
    dial(options, callback);
  };
}

export class HostRegistry {
  private readonly clients = new Map<string, EngineClient>();

  constructor(hosts: HostConfig[], options: RegistryOptions) {
    for (const h of hosts) this.clients.set(h.name, new EngineClient(h, options));
  }

  names(): string[] {
    return [...this.clients.keys()];
  }

  has(name: string): boolean {
    return this.clients.has(name);
  }

  client(name: string): EngineClient {
    const c = this.clients.get(name);
    if (!c) throw new Error(`no host named ${name}`);
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
  }
}
