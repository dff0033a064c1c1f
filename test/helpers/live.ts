/**
 * Module: apps with the live parts (a LiveHub, optionally a MirrorSource) over real host clients, and a
 * small SSE reader for subscriptions through app.fetch (no port).
 */
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type ConfigInput } from '../../src/config.js';
import { HostRegistry } from '../../src/docker/hosts.js';
import { EngineSource } from '../../src/docker/source.js';
import { LiveHub } from '../../src/live/hub.js';
import type { EngineEvent, StreamListener, StreamState } from '../../src/live/events.js';
import { MirrorSource } from '../../src/live/mirror.js';
import { engineGet } from '../../src/dev/engine-api.js';
import { queryApp, type TestQuery } from './app.js';

export interface LiveApp {
  app: App;
  registry: HostRegistry;
  hub: LiveHub;
  direct: EngineSource;
  mirror: MirrorSource | undefined;
  query: TestQuery;
  close(): void;
}

export function createLiveApp(
  hosts: Array<{ name: string; endpoint: string }>,
  options: { mirror?: boolean; resyncMs?: number; input?: ConfigInput; env?: NodeJS.ProcessEnv; minBackoffMs?: number; maxBackoffMs?: number; heartbeatMs?: number } = {},
): LiveApp {
  const config = loadConfig({ ...options.input, hosts: hosts.map((h) => `${h.name}=${h.endpoint}`) }, options.env ?? {});
  const registry = new HostRegistry(config.hosts, { maxResponseBytes: config.maxResponseBytes, breakerResetMs: 300 });
  const hub = new LiveHub(registry, { types: options.mirror ? ['image', 'container'] : ['image'], minBackoffMs: options.minBackoffMs ?? 100, maxBackoffMs: options.maxBackoffMs ?? 500,
    // Off unless a test is about it: the counting proxy would count its /version calls.
    heartbeatMs: options.heartbeatMs ?? 0 });
  const direct = new EngineSource(registry);
  const mirror = options.mirror ? new MirrorSource(direct, hub, { resyncMs: options.resyncMs ?? 600_000 }).start() : undefined;
  const app = createApp({ source: mirror ?? direct, live: hub, config });
  return {
    app,
    registry,
    hub,
    direct,
    mirror,
    query: (q, v, h) => queryApp(app, q, v, h),
    close() {
      mirror?.close();
      hub.close();
      registry.close();
    },
  };
}

export interface Subscription<T> {
  /** The next `data` payload (or the first error list); rejects after timeoutMs. */
  next(timeoutMs?: number): Promise<{ data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>;
  /** Collects payloads until `done` says so (or rejects after timeoutMs, listing what came). */
  until(done: (seen: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
  close(): void;
}

type Message<T> = { data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };

/**
 * The reading side both transports share (SSE here, graphql-ws in ws.ts): messages are pushed as they come,
 * `end()` when the stream is over; `subscription(close)` gives next/until over them.
 */
export function messageQueue<T>(endedMessage: () => string = () => 'subscription ended') {
  const queue: Array<Message<T>> = [];
  const waiting: Array<() => void> = [];
  let ended = false;
  const wake = () => {
    for (const w of waiting.splice(0)) w();
  };
  const next: Subscription<T>['next'] = async (timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0) {
      if (ended) throw new Error(endedMessage());
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no subscription message in time');
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        setTimeout(resolve, left);
      });
    }
    return queue.shift()!;
  };
  return {
    push(m: Message<T>) {
      queue.push(m);
      wake();
    },
    end() {
      ended = true;
      wake();
    },
    subscription(close: () => void): Subscription<T> {
      return {
        next,
        async until(done, timeoutMs = 15_000) {
          const seen: T[] = [];
          const deadline = Date.now() + timeoutMs;
          while (!done(seen)) {
            const m = await next(deadline - Date.now()).catch((err: Error) => {
              throw new Error(`${err.message}; seen: ${JSON.stringify(seen)}`);
            });
            if (m.errors) throw new Error(JSON.stringify(m.errors));
            if (m.data) seen.push(m.data);
          }
          return seen;
        },
        close,
      };
    },
  };
}

/** POST a subscription with Accept: text/event-stream and read its `event: next` messages. */
export async function subscribe<T>(app: App, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Subscription<T>> {
  const controller = new AbortController();
  const res = await app.fetch('http://fleetgraph/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const messages = messageQueue<T>(() => `subscription ended (HTTP ${res.status})`);
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let sep: number;
        while ((sep = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, sep);
          buffer = buffer.slice(sep + 2);
          const data = message.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
          if (data) messages.push(JSON.parse(data) as Message<T>);
        }
      }
    } catch {
      // aborted by close()
    }
    messages.end();
  })();
  return messages.subscription(() => controller.abort());
}

/** A host's event stream that a unit test drives: its state, and image events pushed to its listeners. */
export class StubStream {
  state: StreamState = 'CONNECTED';
  listeners = new Set<StreamListener>();
  subscribe(l: StreamListener) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(action: string, id: string) {
    const e: EngineEvent = { host: 'h', type: 'image', action, id, name: undefined, timeNano: BigInt(Date.now()) * 1_000_000n };
    for (const l of this.listeners) l.event?.(e);
  }
  setState(s: StreamState) {
    this.state = s;
    for (const l of this.listeners) l.state?.(s);
  }
}

/** Calls `fn` every `everyMs` until `ok` holds for what it gives; after `timeoutMs`, throws naming `what` and the last value. */
export async function eventually<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await fn();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not reached; last ${JSON.stringify(last).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** An engine's own image list (its API), as sorted "id tag,tag" lines: what answerView makes of an answer. */
export async function engineView(socket: string): Promise<string[]> {
  const list = await engineGet<Array<{ Id: string; RepoTags: string[] | null }>>(socket, '/images/json');
  return list.map((i) => `${i.Id} ${(i.RepoTags ?? []).filter((t) => t !== '<none>:<none>').sort().join(',')}`).sort();
}

/** One host's images of an answer, as engineView's lines. */
export function answerView(r: { images: { nodes: Array<{ id: string; repoTags: string[]; host: { name: string } }> } }, host: string): string[] {
  return r.images.nodes.filter((n) => n.host.name === host).map((n) => `${n.id} ${[...n.repoTags].sort().join(',')}`).sort();
}
