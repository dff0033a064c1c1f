import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A unix-socket proxy in front of an engine that records every HTTP request line it forwards, so a
 * test can count what the engine actually received (method and path, API version prefix stripped).
 * GET requests from the gateway carry no body, so every request line starts a request.
 */
export interface CountingProxy {
  endpoint: string;
  socket: string;
  requests: Array<{ method: string; path: string }>;
  /** The request targets as sent (with any /v1.xx prefix and query string). */
  rawPaths: string[];
  count(method: string, path: string): number;
  /**
   * A partition: from now on nothing is forwarded either way (connections stay open, new ones are
   * accepted, bytes are held as a stalled network would) until resume(), which delivers what was held.
   */
  pause(): void;
  resume(): void;
  reset(): void;
  close(): Promise<void>;
}

const REQUEST_LINE = /(?:^|\r\n)(GET|HEAD|POST|PUT|DELETE|PATCH) (\S+) HTTP\/1\.[01]\r\n/g;

export async function startCountingProxy(targetSocket: string): Promise<CountingProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-proxy-'));
  const socket = join(dir, 'p.sock');
  const requests: Array<{ method: string; path: string }> = [];
  const rawPaths: string[] = [];
  const conns = new Set<net.Socket>();
  let paused = false;
  const held: Array<() => void> = [];
  const forward = (to: net.Socket, chunk: Buffer) => {
    if (paused) held.push(() => !to.destroyed && to.write(chunk));
    else to.write(chunk);
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetSocket);
    conns.add(client).add(upstream);
    let carry = '';
    client.on('data', (chunk: Buffer) => {
      const text = carry + chunk.toString('latin1');
      for (const m of text.matchAll(REQUEST_LINE)) {
        const path = m[2]!.replace(/^\/v\d+\.\d+/, '').split('?')[0]!;
        requests.push({ method: m[1]!, path });
        rawPaths.push(m[2]!);
      }
      // Keep a tail in case a request line is split across chunks (and was not counted yet).
      const lastBreak = text.lastIndexOf('\r\n');
      carry = lastBreak >= 0 ? text.slice(lastBreak) : text;
      if (carry.length > 512) carry = carry.slice(-512);
      forward(upstream, chunk);
    });
    upstream.on('data', (chunk: Buffer) => forward(client, chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      conns.delete(client);
      conns.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    endpoint: `unix://${socket}`,
    socket,
    requests,
    rawPaths,
    count: (method, path) => requests.filter((r) => r.method === method && r.path === path).length,
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      for (const f of held.splice(0)) f();
    },
    reset: () => {
      requests.length = 0;
      rawPaths.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
