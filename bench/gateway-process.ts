/**
 * Module: the gateway under benchmark in its own process (bench/gateway.ts, forked with an IPC channel),
 * and a client for it: one connection per query, and the window reports of its event loop, CPU and memory.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/process.js';

export interface Gateway {
  url: string;
  /** The gateway process's pid. */
  pid: number;
  ask<T>(msg: string): Promise<T>;
  /** `read: 'discard'`: the answer is read whole but not parsed (a client whose parsing must not delay another's timing). */
  query(q: string, read?: 'parse' | 'discard'): Promise<unknown>;
  stop(): Promise<void>;
}
/** Forks bench/gateway.ts with `input` (a ConfigInput; port chosen here), under NODE_ENV=production and --expose-gc. */
export async function startGateway(input: Record<string, unknown>): Promise<Gateway> {
  const port = await freePort();
  const child: ChildProcess = fork(fileURLToPath(new URL('./gateway.js', import.meta.url)), [JSON.stringify({ ...input, port })], {
    execArgv: [...process.execArgv, '--expose-gc'],
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let exited: Error | undefined;
  child.once('exit', (c) => (exited = new Error(`gateway exited ${c}`)));
  const next = <T>() => new Promise<T>((resolve, reject) => (exited ? reject(exited) : child.once('message', (m) => resolve(m as T))));
  const { url } = await next<{ url: string }>();
  // A connection per request: a kept-alive one can be closed by the server's idle timeout just as it is
  // reused (EPIPE); a loopback connect costs ~0.1 ms.
  const gwAgent = new http.Agent({ keepAlive: false });
  const query = (q: string, read: 'parse' | 'discard' = 'parse') =>
    new Promise<unknown>((resolve, reject) => {
      const body = JSON.stringify({ query: q });
      const req = http.request(url, { method: 'POST', agent: gwAgent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (read === 'discard') return res.statusCode === 200 ? resolve(undefined) : reject(new Error(`gateway: ${res.statusCode}`));
          const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { errors?: unknown };
          if (res.statusCode !== 200 || parsed.errors) reject(new Error(`gateway: ${res.statusCode} ${JSON.stringify(parsed.errors).slice(0, 300)}`));
          else resolve(parsed);
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    url,
    pid: child.pid!,
    ask: <T>(msg: string) => {
      const answer = next<T>();
      child.send(msg);
      return answer;
    },
    query,
    async stop() {
      gwAgent.destroy();
      child.send('stop');
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
      child.kill('SIGKILL');
    },
  };
}
export interface GatewayReport {
  delayMaxMs: number;
  delayP99Ms: number;
  cpuMs: number;
  /** The gateway's longest CPU stretch between two ticks of a 1 ms timer (bench/gateway.ts). */
  blockCpuMaxMs: number;
  peakRssBytes: number;
}
