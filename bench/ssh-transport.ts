/**
 * `npm run build && node dist/bench/ssh-transport.js`: latency of sequential GET /images/json calls
 * to one engine over SSH, docker-modem's built-in ssh transport (a new SSH connection, and a new remote
 * `docker system dial-stdio`, per request) against our SshDialAgent (one SSH connection, kept-alive
 * dial-stdio channels), with the engine's unix socket as the floor. Everything is private and local:
 * one dockerd and one sshd (test/helpers), both on loopback / temp dirs, stopped and removed at the end.
 * Writes bench/results/ssh-transport.md. Ratios are from one run on one machine.
 *
 * BENCH_SSH_CALLS (default 50) measured calls per transport, after BENCH_SSH_WARMUP (default 3).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import Docker from 'dockerode';
import type { HostConfig } from '../src/config.js';
import { dockerOptions, sshAgentOf } from '../src/docker/transport.js';
import { startEngine, type Engine } from '../src/dev/engine.js';
import { buildImageTar, loadImages, type ImageSpec } from '../src/dev/images.js';
import { startSshd, type Sshd } from '../test/helpers/sshd.js';

const CALLS = Number(process.env.BENCH_SSH_CALLS ?? 50);
const WARMUP = Number(process.env.BENCH_SSH_WARMUP ?? 3);
const IMAGES = 20;
const OUT = new URL('../../bench/results/ssh-transport.md', import.meta.url);

interface Row {
  name: string;
  mean: number;
  p50: number;
  p95: number;
  logins: number;
}

function stats(samples: number[]): { mean: number; p50: number; p95: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p95: at(0.95) };
}

async function measure(docker: Docker, expected: number): Promise<number[]> {
  const once = async () => {
    const t0 = process.hrtime.bigint();
    const list = await docker.listImages();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (list.length !== expected) throw new Error(`expected ${expected} images, got ${list.length}`);
    return ms;
  };
  for (let i = 0; i < WARMUP; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) samples.push(await once());
  return samples;
}

const logins = (sshd: Sshd) => (readFileSync(`${sshd.dir}/sshd.log`, 'utf8').match(/Accepted publickey for root/g) ?? []).length;
const fmt = (n: number) => n.toFixed(1);

async function main(): Promise<void> {
  let engine: Engine | undefined;
  let sshd: Sshd | undefined;
  const closers: Array<() => void> = [];
  try {
    engine = await startEngine('bench-ssh');
    const specs: ImageSpec[] = Array.from({ length: IMAGES }, (_, i) => ({
      layers: [{ files: { [`bench/${i}.txt`]: `image ${i}\n` } }],
      created: new Date(Date.UTC(2024, 0, 1 + i)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      labels: { bench: 'ssh', index: String(i) },
      tags: [`bench/ssh-${i}:1`],
    }));
    await loadImages(engine.socket, (await buildImageTar(specs)).tar);
    sshd = await startSshd(engine.socket);
    const privateKey = readFileSync(sshd.clientKey);

    const rows: Row[] = [];
    const run = async (name: string, docker: Docker) => {
      const before = logins(sshd!);
      const s = stats(await measure(docker, IMAGES));
      rows.push({ name, ...s, logins: logins(sshd!) - before });
    };

    const unix = new Docker(dockerOptions({ name: 'unix', endpoint: engine.endpoint, timeoutMs: 10_000 }));
    closers.push(() => (unix.modem as unknown as { agent: { destroy(): void } }).agent.destroy());
    await run('unix socket (floor)', unix);

    const builtin = new Docker({ protocol: 'ssh', host: '127.0.0.1', port: sshd.port, username: 'root', sshOptions: { privateKey } });
    await run("docker-modem protocol 'ssh'", builtin);

    const host: HostConfig = { name: 'ssh', endpoint: sshd.endpoint, timeoutMs: 10_000, ssh: { privateKey, knownHosts: readFileSync(sshd.knownHosts, 'utf8') } };
    const ours = new Docker(dockerOptions(host));
    const agent = sshAgentOf(ours)!;
    closers.push(() => agent.destroy());
    await run('SshDialAgent', ours);

    const base = rows.find((r) => r.name === 'SshDialAgent')!;
    const builtinRow = rows.find((r) => r.name.startsWith('docker-modem'))!;
    const lines = [
      `| transport | calls | mean ms | p50 ms | p95 ms | SSH logins, incl. warm-up (sshd log) | mean × SshDialAgent |`,
      `| --- | --- | --- | --- | --- | --- | --- |`,
      ...rows.map((r) => `| ${r.name} | ${CALLS} (+${WARMUP} warm-up) | ${fmt(r.mean)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${r.name.startsWith('unix') ? '–' : r.logins} | ${(r.mean / base.mean).toFixed(2)} |`),
    ];
    const summary =
      `SshDialAgent: ${agent.handshakes} SSH handshake(s) and ${agent.channels} dial-stdio channel(s) for ${CALLS + WARMUP} calls. ` +
      `docker-modem's ssh transport is ${(builtinRow.mean / base.mean).toFixed(1)}× slower on the mean and ` +
      `${(builtinRow.p95 / base.p95).toFixed(1)}× on p95.`;
    console.log(lines.join('\n'));
    console.log(summary);

    const md = [
      '# SSH transport: docker-modem built-in vs SshDialAgent',
      '',
      `Run: ${new Date().toISOString()} · ${cpus().length} cores · Node ${process.version} · dockerd 20.10 (vfs) with ${IMAGES} images · ` +
        `OpenSSH sshd on 127.0.0.1, ed25519 keys, forced command \`${sshd.dockerCli} system dial-stdio\`.`,
      `Sequential \`GET /images/json\` through dockerode's listImages(); same engine, same sshd, one process.`,
      '',
      ...lines,
      '',
      summary,
      '',
      'Per call, the built-in transport pays a TCP connect, an SSH key exchange and login, a new session channel and a new ' +
        'remote `docker system dial-stdio` process; SshDialAgent pays those once and then only an HTTP request on a kept-alive channel.',
      '',
      `Reproduce: \`npm run build && node dist/bench/ssh-transport.js\` (BENCH_SSH_CALLS, BENCH_SSH_WARMUP).`,
      '',
    ].join('\n');
    mkdirSync(new URL('.', OUT), { recursive: true });
    writeFileSync(OUT, md);
    console.log(`wrote ${OUT.pathname}`);
  } finally {
    for (const c of closers) c();
    await sshd?.destroy();
    await engine?.destroy();
  }
}

// Interrupted: exit through process.exit so the helpers' 'exit' hooks kill the daemons and remove their dirs.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
