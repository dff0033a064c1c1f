/**
 * Module: HostRegistry, one EngineClient per host, created once at start-up and reused for every
 * request (keep-alive agents, so a request costs no new connection). An EngineClient is the host's one
 * per-host object: its dockerode client, its circuit breaker, the API version negotiated with it, and
 * its calls in flight. Each client makes sure that:
 *  - only GET requests ever reach an engine (the gateway is read-only; modem.ts guards it, below every caller);
 *  - an engine's error text is never read into an error (it names sockets and addresses);
 *  - every call has a real total deadline (connect + headers + body), not a socket idle timeout;
 *  - bodies are capped and must be JSON;
 *  - a connection reset (a stale keep-alive socket) is retried once, inside the same deadline;
 *  - a host that keeps failing trips a circuit breaker and fails fast until it is probed again.
 */
import { AsyncResource } from 'node:async_hooks';
import CircuitBreaker from 'opossum';
import type Docker from 'dockerode';
import type { HostConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { HostError, type HostErrorCode } from './errors.js';
import { createDocker, dialGet, modemAgent } from './modem.js';
import { ItemMemo } from './json-chunks.js';
import { apiAtLeast } from './normalize.js';
import { ApiVersionTooOld, apiVersionHeader, DISK_USAGE_BUSY, readResponse } from './response.js';
import { dockerOptions } from './transport.js';

/** The newest Engine API version this code knows the shapes of (Docker 29.6-29.7). */
export const MAX_API_VERSION = '1.55';

/**
 * The one place the API version is negotiated: the lower of the engine's highest (its Api-Version
 * header) and ours, as the docker CLI negotiates, but never below the engine's lowest (its /version
 * MinAPIVersion, or what its refusal of an older version names: Docker 29.0-29.2 refuse anything
 * below 1.44). Requests are then pinned to it (/v1.xx/…), so an engine newer than this code cannot
 * change a response's shape under us; only one whose minimum is past MAX_API_VERSION is spoken to at
 * that minimum (its answers are still checked like any other).
 */
export function negotiateApiVersion(engineVersion: string, engineMinVersion?: string): string {
  const spoken = apiAtLeast(engineVersion, MAX_API_VERSION) ? MAX_API_VERSION : engineVersion;
  return engineMinVersion && !apiAtLeast(spoken, engineMinVersion) ? engineMinVersion : spoken;
}

const API_VERSION = /^([1-9]\d?)\.(\d{1,3})$/;

export interface RegistryOptions {
  maxResponseBytes: number;
  /** Breaker: failures (percent of calls in the rolling window) that open it. */
  breakerErrorPercent?: number;
  /** Breaker: calls in the window before it may open. */
  breakerVolume?: number;
  /** Breaker: how long an open breaker waits before letting a probe through. */
  breakerResetMs?: number;
  /** Told when a host's breaker opens, probes and closes. */
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** Told of every engine call and host failure (metrics.ts); absent in most tests. */
  observer?: HostObserver;
}

/**
 * The kinds of engine call, a fixed set so that metrics labelled by kind stay few (never an image id
 * or a path): the image list, the container list, /system/df, /version, one image's inspect, /events.
 */
export const ENGINE_CALL_KINDS = ['images', 'containers', 'df', 'version', 'inspect', 'events', 'other'] as const;
export type EngineCallKind = (typeof ENGINE_CALL_KINDS)[number];

export function engineCallKind(path: string): EngineCallKind {
  if (path === '/images/json') return 'images';
  if (path === '/containers/json') return 'containers';
  if (path === '/system/df') return 'df';
  if (path === '/version') return 'version';
  if (path === '/events') return 'events';
  if (/^\/images\/[^/]+\/json$/.test(path)) return 'inspect';
  return 'other';
}

/** What a host's EngineClient reports as it happens: each request sent to its engine, and each failure a caller saw. */
export interface HostObserver {
  engineCall(host: string, kind: EngineCallKind, seconds: number): void;
  hostFailure(host: string, code: HostErrorCode): void;
}

/** One engine answer: its parsed body, and the engine's Api-Version header (its highest version), if sent. */
export interface EngineResponse {
  body: unknown;
  apiVersion: string | undefined;
}

/** One host's per-host object (see the module comment); HostRegistry makes one per configured host. */
export class EngineClient {
  readonly docker: Docker;
  /** Set only by getJson, from the answers' return values (see negotiateApiVersion). */
  private negotiated: string | undefined;
  /** The engine's highest and lowest versions, as its answers said them. */
  private engineMax: string | undefined;
  private engineMin: string | undefined;
  private readonly breaker: CircuitBreaker<[string, Record<string, string>, number], EngineResponse>;
  /** Engine calls in flight (and answers kept for their reuse time), by path and query. */
  private readonly shared = new Map<string, Promise<EngineResponse>>();
  /** The items of the last image list answered, per call (path and query): unchanged images are not parsed again. */
  private readonly memos = new Map<string, ItemMemo>();
  /** Failed calls in a row: a host that stops answering opens its breaker without waiting for its old successes to age out. */
  private failuresInARow = 0;
  /** When the engine last answered a request (ms since 1970); undefined until it has. */
  private lastAnswerAt: number | undefined;

  constructor(
    readonly config: HostConfig,
    private readonly options: RegistryOptions,
  ) {
    this.docker = createDocker(dockerOptions(config));
    const volume = options.breakerVolume ?? 4;
    this.breaker = new CircuitBreaker((path: string, query: Record<string, string>, reuseMs: number) => this.share(path, query, reuseMs), {
      timeout: false,
      errorThresholdPercentage: options.breakerErrorPercent ?? 50,
      volumeThreshold: volume,
      resetTimeout: options.breakerResetMs ?? 10_000,
      rollingCountTimeout: 10_000,
      rollingCountBuckets: 10,
    });
    // A host frozen under load: each waiting caller counts (calls are shared, fires are not), and
    // `volume` failures in a row open the breaker even when the window still holds many earlier successes.
    this.breaker.on('success', () => (this.failuresInARow = 0));
    this.breaker.on('failure', () => {
      if (++this.failuresInARow >= volume && !this.breaker.opened) this.breaker.open();
    });
    const log = options.logger;
    if (log) {
      this.breaker.on('open', () => log.warn({ host: config.name }, `host "${config.name}" failed repeatedly: skipping it until the next probe`));
      // Its reset timer was set during the request that opened it: that request's id does not belong here.
      this.breaker.on('halfOpen', AsyncResource.bind(() => log.info({ host: config.name }, `host "${config.name}": probing again`)));
      this.breaker.on('close', () => log.info({ host: config.name }, `host "${config.name}" is answering again`));
    }
  }

  /** The API version spoken with this engine (negotiateApiVersion), once it has answered; undefined before. */
  get apiVersion(): string | undefined {
    return this.negotiated;
  }

  get name(): string {
    return this.config.name;
  }

  /** When this engine last answered a request (ms since 1970), undefined until it has. */
  get lastSuccessAt(): number | undefined {
    return this.lastAnswerAt;
  }

  /** Engine calls in flight (and /system/df answers kept for reuse). */
  get inFlight(): number {
    return this.shared.size;
  }

  /**
   * Called when a request is sent to the engine (here, and by the host's /events stream); the returned
   * function when it has answered (ok) or failed. Every request the engine receives is counted, retries too.
   */
  startCall(kind: EngineCallKind): (ok: boolean) => void {
    const started = performance.now();
    return (ok) => {
      if (ok) this.lastAnswerAt = Date.now();
      this.options.observer?.engineCall(this.name, kind, (performance.now() - started) / 1000);
    };
  }

  /** Reports a failure a caller saw (EngineSource.get, the one place host errors are made) and returns it. */
  failed<E>(err: E): E {
    if (err instanceof HostError) this.options.observer?.hostFailure(this.name, err.code);
    return err;
  }

  breakerState(): 'closed' | 'open' | 'half-open' {
    return this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'half-open' : 'closed';
  }

  /**
   * GET a JSON document from the engine. Rejects with what failed (a HostError of the checks here, a
   * transport error, the breaker's EOPENBREAKER): errors.ts hostFailure, called by EngineSource, says
   * what that means for clients.
   */
  async getJson(path: string, query: Record<string, string> = {}, reuseMs = 0): Promise<unknown> {
    const res = await this.breaker.fire(path, query, reuseMs);
    if (res.apiVersion) this.engineMax = res.apiVersion;
    const min = path === '/version' ? (res.body as { MinAPIVersion?: unknown } | null)?.MinAPIVersion : undefined;
    if (typeof min === 'string' && API_VERSION.test(min)) this.engineMin = min;
    this.renegotiate();
    return res.body;
  }

  private renegotiate(): void {
    if (this.engineMax) this.negotiated = negotiateApiVersion(this.engineMax, this.engineMin);
    else if (this.engineMin && this.negotiated && !apiAtLeast(this.negotiated, this.engineMin)) this.negotiated = this.engineMin;
  }

  /**
   * Identical calls that overlap share one engine call (N clients asking for a big host at once cost it
   * one read, and the same body object, which EngineSource normalises once). Nothing is kept after the
   * call settles, unless `reuseMs` says so (/system/df: engines before API 1.42 refuse overlapping runs).
   */
  private share(path: string, query: Record<string, string>, reuseMs: number): Promise<EngineResponse> {
    const key = `${path}?${new URLSearchParams(query).toString()}`;
    const hit = this.shared.get(key);
    if (hit) return hit;
    const promise = this.getWithRetry(path, query);
    this.shared.set(key, promise);
    const forget = () => {
      if (this.shared.get(key) === promise) this.shared.delete(key);
    };
    promise.then(() => (reuseMs > 0 ? setTimeout(forget, reuseMs).unref() : forget()), forget);
    return promise;
  }

  private async getWithRetry(path: string, query: Record<string, string>): Promise<EngineResponse> {
    const deadline = Date.now() + this.config.timeoutMs;
    let resets = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.getOnce(path, query, deadline);
      } catch (err) {
        const code = (err as { code?: string }).code;
        // One retry for a connection reset before any answer (typically a keep-alive socket the engine
        // closed, e.g. across a restart), inside the same deadline.
        if ((code === 'ECONNRESET' || code === 'EPIPE') && resets++ === 0 && Date.now() < deadline) continue;
        // The engine refused the version spoken as older than its minimum: speak that minimum, once.
        if (err instanceof ApiVersionTooOld && this.engineMin !== err.minApiVersion && Date.now() < deadline) {
          this.engineMin = err.minApiVersion;
          this.renegotiate();
          continue;
        }
        // An engine before API 1.42 refuses a /system/df while another runs (someone else's, or another
        // gateway's): it is busy, not failing, so ask again shortly, inside the same deadline.
        if (err instanceof HostError && err.detail === DISK_USAGE_BUSY) {
          const pause = Math.min(50 * 2 ** Math.min(attempt, 4), deadline - Date.now() - 1);
          if (pause > 0) {
            await new Promise((resolve) => setTimeout(resolve, pause));
            continue;
          }
          throw new HostError(this.name, 'HOST_TIMEOUT', 'disk usage busy');
        }
        throw err;
      }
    }
  }

  /**
   * One GET under a total deadline: the timer covers connect, headers and body, settles the call itself
   * when it fires (so no transport can stretch it, whatever it does with the abort), then tears down.
   */
  private getOnce(path: string, query: Record<string, string>, deadline: number): Promise<EngineResponse> {
    const controller = new AbortController();
    const done = this.startCall(engineCallKind(path));
    return new Promise<EngineResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: unknown, value?: EngineResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        done(!err);
        if (err) reject(err);
        else resolve(value!);
      };
      const timer = setTimeout(() => {
        const reason = new HostError(this.name, 'HOST_TIMEOUT');
        finish(reason);
        controller.abort(reason);
      }, Math.max(1, deadline - Date.now()));
      // Pinned to the negotiated version once there is one; the first call asks unversioned.
      const pinned = this.negotiated ? `/v${this.negotiated}${path}` : path;
      dialGet(this.docker, pinned, query, controller.signal, (err, res) => {
        if (settled) {
          res?.destroy();
          return;
        }
        if (err || !res) return finish(err ?? new HostError(this.name, 'HOST_BAD_RESPONSE', 'no response'));
        let apiVersion: string | undefined;
        try {
          apiVersion = apiVersionHeader(this.name, res);
        } catch (headerError) {
          res.destroy();
          return finish(headerError);
        }
        // Error bodies are read there, capped, and never quoted (daemons put socket paths and addresses in them).
        readResponse(this.name, res, this.options.maxResponseBytes, controller.signal, this.memoFor(path, query)).then((body) => finish(null, { body, apiVersion }), finish);
      });
    });
  }

  /** The item memo of an image list call (json-chunks.ts); other calls have none. */
  private memoFor(path: string, query: Record<string, string>): ItemMemo | undefined {
    if (path !== '/images/json') return undefined;
    const key = new URLSearchParams(query).toString();
    let memo = this.memos.get(key);
    if (!memo) this.memos.set(key, (memo = new ItemMemo()));
    return memo;
  }

  close(): void {
    this.breaker.shutdown();
    this.shared.clear();
    this.memos.clear();
    modemAgent(this.docker)?.destroy();
  }
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
