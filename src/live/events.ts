/** Module: one Engine API /events stream per host, shared by every consumer (mirror, subscriptions). */
import type { IncomingMessage } from 'node:http';
import type { EngineClient } from '../docker/hosts.js';

/** One engine event, narrowed to what fleetgraph uses. */
export interface EngineEvent {
  host: string;
  /** "image" or "container" (older engines and Podman may leave it out: then "image" when asked only for images). */
  type: string;
  /** As the engine names it: tag, untag, delete, import, load, pull, … (Podman 4.3: tag, untag, delete, loadfromarchive). */
  action: string;
  /** Actor.ID: an image ID for classic-store image events (bare hex on Podman), a reference, or "" (Podman's loadfromarchive). */
  id: string;
  /** Actor.Attributes.name, when the engine gave one. */
  name: string | undefined;
  timeNano: bigint;
}

export const STREAM_STATES = ['CONNECTED', 'RECONNECTING', 'DOWN', 'OFF'] as const;
export type StreamState = (typeof STREAM_STATES)[number];

export interface StreamListener {
  event?(e: EngineEvent): void;
  /**
   * The stream is (re)connected. Events may have been lost before this moment (the engine keeps only its
   * last 256 events, and drops events for a slow reader), so a consumer that keeps state reloads it now.
   */
  connected?(): void;
  state?(s: StreamState): void;
}

export interface StreamOptions {
  /** Event types to ask for (filters={"type":[…]}). */
  types: readonly string[];
  /** Longest accepted event line; a longer one ends the connection (and a reload follows the reconnect). */
  maxLineBytes?: number;
  /** Reconnect backoff: first pause, doubled per failed attempt up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Failed attempts in a row after which the stream is reported DOWN rather than RECONNECTING. */
  downAfter?: number;
  /**
   * While connected, ask the engine for /version this often: a quiet stream cannot tell an idle engine
   * from a frozen one (SIGSTOP, a partition that holds the socket open), and the engine sends no
   * keep-alive on /events. A probe that fails within the host deadline drops the stream (so it reconnects,
   * and the mirror reloads and reports HOST_STALE meanwhile). 0: never.
   */
  heartbeatMs?: number;
}

const DEFAULT_HEARTBEAT_MS = 10_000;

const DEFAULT_MAX_LINE = 64 * 1024;

/** "seconds.nanoseconds", the form `since=` takes with full precision. */
export function sinceParam(timeNano: bigint): string {
  const s = timeNano / 1_000_000_000n;
  const ns = timeNano % 1_000_000_000n;
  return `${s}.${ns.toString().padStart(9, '0')}`;
}

/** One line of /events into an EngineEvent; undefined for a line that is not an event we can use. */
export function parseEventLine(host: string, line: string, types: readonly string[]): EngineEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as { Type?: unknown; Action?: unknown; status?: unknown; id?: unknown; Actor?: { ID?: unknown; Attributes?: Record<string, unknown> }; timeNano?: unknown; time?: unknown };
  const type = typeof r.Type === 'string' ? r.Type : types.length === 1 ? types[0]! : 'image';
  const action = typeof r.Action === 'string' ? r.Action : typeof r.status === 'string' ? r.status : undefined;
  const id = typeof r.Actor?.ID === 'string' ? r.Actor.ID : typeof r.id === 'string' ? r.id : undefined;
  if (!action || id === undefined || action.length > 200 || id.length > 1000) return undefined;
  const name = r.Actor?.Attributes?.name;
  let timeNano: bigint;
  // Read from the text: nanoseconds since 1970 are past 2^53, so the parsed number has lost its last digits.
  const exact = /"timeNano"\s*:\s*(\d{1,25})\b/.exec(line)?.[1];
  if (exact !== undefined && typeof r.timeNano === 'number') timeNano = BigInt(exact);
  else if (typeof r.timeNano === 'number' && Number.isFinite(r.timeNano)) timeNano = BigInt(Math.trunc(r.timeNano));
  else if (typeof r.time === 'number' && Number.isFinite(r.time)) timeNano = BigInt(Math.trunc(r.time)) * 1_000_000_000n;
  else timeNano = BigInt(Date.now()) * 1_000_000n;
  return { host, type, action, id, name: typeof name === 'string' && name.length <= 1000 ? name : undefined, timeNano };
}

/**
 * One host's /events, opened while anyone listens and closed after the last leaves. Lines are JSON, one
 * event each, capped at maxLineBytes. Reconnects with backoff and `since=` the last event seen; the engine
 * replays from its buffer including the event whose timeNano equals since, so replayed events before
 * since are dropped here (by time, and by identity at the same nanosecond). Every (re)connect
 * tells listeners `connected()`: the buffer holds only 256 events, so only a reload is sure to reconcile.
 * GET only: the request goes through the client's read-only modem (hosts.ts guardReadOnly).
 */
export class HostEventStream {
  private readonly listeners = new Set<StreamListener>();
  private current: StreamState = 'OFF';
  private response: IncomingMessage | undefined;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastNano: bigint | undefined;
  private seenAtLast = new Set<string>();
  /** The current connection's since= (the newest event seen before it) and the events seen at that time. */
  private floor: { nano: bigint; seen: ReadonlySet<string> } | undefined;
  /** Connections opened, for tests and metrics. */
  connections = 0;

  constructor(
    private readonly client: EngineClient,
    private readonly options: StreamOptions,
  ) {}

  get host(): string {
    return this.client.name;
  }

  get state(): StreamState {
    return this.current;
  }

  /** Starts the stream on the first listener; the returned function removes the listener (and stops the stream after the last). */
  subscribe(listener: StreamListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.open();
    return () => {
      if (!this.listeners.delete(listener)) return;
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    this.listeners.clear();
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    const controller = this.controller;
    this.controller = undefined;
    controller?.abort();
    this.response?.destroy();
    this.response = undefined;
    this.setState('OFF');
  }

  private setState(s: StreamState): void {
    if (s === this.current) return;
    this.current = s;
    for (const l of [...this.listeners]) l.state?.(s);
  }

  private open(): void {
    if (this.listeners.size === 0) return;
    const controller = new AbortController();
    this.controller = controller;
    const query: Record<string, string> = { filters: JSON.stringify({ type: this.options.types }) };
    if (this.lastNano !== undefined) query.since = sinceParam(this.lastNano);
    this.floor = this.lastNano === undefined ? undefined : { nano: this.lastNano, seen: new Set(this.seenAtLast) };
    // Headers must come within the host deadline; after that the stream may stay quiet for as long as the engine has nothing to say.
    const headerTimer = setTimeout(() => controller.abort(), this.client.config.timeoutMs);
    const dial = this.client.docker.modem.dial.bind(this.client.docker.modem) as (o: object, cb: (err: unknown, data: unknown) => void) => void;
    // Counted with the host's other engine calls; its latency is the time until the stream's headers.
    const done = this.client.startCall('events');
    dial({ path: '/events?', method: 'GET', options: query, isStream: true, abortSignal: controller.signal, statusCodes: { 200: true } }, (err, data) => {
      clearTimeout(headerTimer);
      const res = data as IncomingMessage | null;
      done(!err && !!res && !controller.signal.aborted);
      if (controller !== this.controller || controller.signal.aborted) {
        res?.destroy();
        if (controller === this.controller) this.retry();
        return;
      }
      if (err || !res) return this.retry();
      this.response = res;
      this.connections++;
      this.failures = 0;
      this.setState('CONNECTED');
      for (const l of [...this.listeners]) l.connected?.();
      this.read(res, controller);
      this.probe(res, controller);
    });
  }

  private read(res: IncomingMessage, controller: AbortController): void {
    const max = this.options.maxLineBytes ?? DEFAULT_MAX_LINE;
    let pending = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.trim()) this.deliver(line);
      }
      if (pending.length > max) res.destroy();
    });
    const ended = () => {
      if (controller !== this.controller) return;
      clearInterval(this.heartbeat);
      this.response = undefined;
      this.retry();
    };
    res.on('end', ended);
    res.on('close', ended);
    res.on('error', () => undefined);
  }

  private probe(res: IncomingMessage, controller: AbortController): void {
    const every = this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    if (every <= 0) return;
    let inFlight = false;
    clearInterval(this.heartbeat);
    const timer = setInterval(() => {
      if (controller !== this.controller || res.destroyed) return clearInterval(timer);
      if (inFlight) return;
      inFlight = true;
      // Through the host's client: same deadline and breaker as every call.
      this.client.getJson('/version').then(
        () => (inFlight = false),
        () => {
          inFlight = false;
          if (controller === this.controller) res.destroy();
        },
      );
    }, every);
    timer.unref();
    this.heartbeat = timer;
  }

  private deliver(line: string): void {
    const e = parseEventLine(this.host, line, this.options.types);
    if (!e) return;
    const key = `${e.type}\u0000${e.action}\u0000${e.id}\u0000${e.name ?? ''}`;
    // Replayed after a reconnect: anything before this connection's since=, and what was seen at exactly it.
    // Only the replay is dropped by time: a live event may be older than one already delivered (Podman
    // stamps an image's `remove` before the `untag` it writes first), and is still new.
    const floor = this.floor;
    if (floor && (e.timeNano < floor.nano || (e.timeNano === floor.nano && floor.seen.has(key)))) return;
    if (this.lastNano === undefined || e.timeNano > this.lastNano) {
      this.lastNano = e.timeNano;
      this.seenAtLast = new Set([key]);
    } else if (e.timeNano === this.lastNano) {
      this.seenAtLast.add(key);
    }
    for (const l of [...this.listeners]) l.event?.(e);
  }

  private retry(): void {
    if (this.listeners.size === 0 || this.timer) return;
    this.controller = undefined;
    this.failures++;
    this.setState(this.failures > (this.options.downAfter ?? 3) ? 'DOWN' : 'RECONNECTING');
    const pause = Math.min((this.options.minBackoffMs ?? 250) * 2 ** Math.min(this.failures - 1, 10), this.options.maxBackoffMs ?? 5000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, pause);
    this.timer.unref();
  }
}
