/**
 * Module: issue 9 §13, a frozen host under load. CLIENTS clients ask `{ images { totalCount } hosts { name status } }`
 * in a loop for SECONDS while `freeze` keeps one engine SIGSTOPped; every answer is timed. Checks: every answer
 * within the host deadline + 500 ms, the frozen host only ever reported as HOST_TIMEOUT / HOST_CIRCUIT_OPEN, the
 * others' data in every answer, and how long after the freeze the first HOST_CIRCUIT_OPEN came (the breaker opening).
 */
import http from 'node:http';
import type { Check } from './checks.js';

const QUERY = `{ images { totalCount nodes { host { name } } } hosts { name status } }`;

interface Answer {
  data?: { images?: { totalCount: number; nodes: Array<{ host: { name: string } }> } };
  errors?: Array<{ extensions?: { code?: string; host?: string } }>;
}

function post(url: string, agent: http.Agent): Promise<{ status: number; body: Answer }> {
  const body = JSON.stringify({ query: QUERY });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface FrozenRun {
  url: string;
  frozen: string;
  healthy: string[];
  deadlineMs: number;
  freeze(): void;
  thaw(): void;
  clients?: number;
  seconds?: number;
}

export async function frozenHostRun(o: FrozenRun): Promise<Check[]> {
  const clients = o.clients ?? 20;
  const agent = new http.Agent({ keepAlive: false });
  const times: number[] = [];
  let wrong = 0;
  let failed = 0;
  let firstOpen: number | undefined;
  o.freeze();
  const t0 = performance.now();
  const end = t0 + (o.seconds ?? 15) * 1000;
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < end) {
          const start = performance.now();
          const a = await post(o.url, agent).catch(() => undefined);
          times.push(performance.now() - start);
          if (!a || a.status !== 200) {
            failed++;
            continue;
          }
          const hostsSeen = new Set(a.body.data?.images?.nodes.map((n) => n.host.name));
          const codes = (a.body.errors ?? []).map((e) => `${e.extensions?.host}:${e.extensions?.code}`);
          const ok = o.healthy.every((h) => hostsSeen.has(h)) && codes.length > 0 && codes.every((c) => c === `${o.frozen}:HOST_TIMEOUT` || c === `${o.frozen}:HOST_CIRCUIT_OPEN`);
          if (!ok) wrong++;
          if (firstOpen === undefined && codes.includes(`${o.frozen}:HOST_CIRCUIT_OPEN`)) firstOpen = performance.now() - t0;
        }
      }),
    );
  } finally {
    o.thaw();
    agent.destroy();
  }
  const sorted = [...times].sort((a, b) => a - b);
  const max = sorted[sorted.length - 1] ?? 0;
  const late = times.filter((t) => t > o.deadlineMs + 500).length;
  return [
    {
      metric: `frozen host (SIGSTOP), ${clients} clients × ${o.seconds ?? 15} s: answers later than the ${o.deadlineMs} ms deadline + 500 ms`,
      value: `${late} of ${times.length} (p50 ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms, max ${max.toFixed(0)} ms)`,
      target: '0',
      ok: times.length > 0 && late === 0,
    },
    { metric: 'frozen host: answers without the healthy hosts, or with another error', value: `${wrong} (+ ${failed} not HTTP 200)`, target: '0', ok: wrong === 0 && failed === 0 },
    { metric: 'frozen host: first HOST_CIRCUIT_OPEN after the freeze', value: firstOpen === undefined ? 'never' : `${(firstOpen / 1000).toFixed(1)} s`, target: '≤ deadline + 1 s', ok: firstOpen !== undefined && firstOpen <= o.deadlineMs + 1000 },
  ];
}
