/**
 * Issue #5 §4, SSH transport, against a real OpenSSH server: a private sshd whose authorized keys are
 * forced to run `docker system dial-stdio` against a private engine (see ../helpers/sshd.ts), reached
 * as `ssh://root@127.0.0.1:PORT` with `ssh: { privateKeyPath, passphraseEnv }` from a config file.
 *
 * Oracles no one here wrote: the engine's own /images/json (over its unix socket), and sshd itself —
 * its log line per accepted login and its per-connection child processes — for how many SSH
 * connections the gateway really made.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionResult } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sshAgentOf } from '../../src/docker/transport.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { engineGet } from '../helpers/engine-api.js';
import { startEngine, type Engine } from '../helpers/engine.js';
import { importImage } from '../helpers/images.js';
import { fleetEngine } from '../helpers/provided.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

const QUERY = /* GraphQL */ `
  {
    images {
      totalCount
      nodes {
        id
        host {
          name
        }
      }
    }
    hosts {
      name
      status
      error {
        code
        message
      }
    }
  }
`;

interface Answer {
  images: { totalCount: number; nodes: Array<{ id: string; host: { name: string } }> };
  hosts: Array<{ name: string; status: string; error: { code: string; message: string } | null }>;
}

const SEQUENTIAL = 10;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let engine: Engine;
let sshd: Sshd;
let configDir: string;
const apps: TestApp[] = [];

beforeAll(async () => {
  configDir = await mkdtemp(join(tmpdir(), 'fleetgraph-ssh-config-'));
  engine = await startEngine('ssh');
  await importImage(engine.socket, { tag: 'fleetgraph/ssh-probe:1', label: { probe: 'ssh' } });
  sshd = await startSshd(engine.socket);
});

afterEach(() => {
  for (const a of apps.splice(0)) a.close();
});

afterAll(async () => {
  for (const a of apps.splice(0)) a.close();
  await Promise.allSettled([sshd?.destroy(), engine?.destroy(), configDir ? rm(configDir, { recursive: true, force: true }) : undefined]);
});

let configs = 0;

/** An app over `remote` (the ssh:// host, with this `ssh` block in a config file) and `healthy` (a unix host). */
async function app(ssh: { privateKeyPath: string; passphraseEnv?: string }, options: { env?: NodeJS.ProcessEnv; hostTimeoutMs?: number } = {}): Promise<TestApp> {
  const file = join(configDir, `fleetgraph-${++configs}.yaml`);
  await writeFile(
    file,
    JSON.stringify({
      hosts: [
        { name: 'remote', endpoint: sshd.endpoint, ssh },
        { name: 'healthy', endpoint: fleetEngine('alpha').endpoint },
      ],
    }),
  );
  const a = createTestApp(
    [
      { name: 'remote', endpoint: sshd.endpoint },
      { name: 'healthy', endpoint: fleetEngine('alpha').endpoint },
    ],
    { configFile: file, hostTimeoutMs: options.hostTimeoutMs ?? 5_000 },
    // these tests are about single failures, not about the breaker opening
    { breakerVolume: 1000 },
    options.env ?? {},
  );
  apps.push(a);
  return a;
}

const ids = async (socket: string) => (await engineGet<Array<{ Id: string }>>(socket, '/images/json')).map((i) => i.Id).sort();
const idsOf = (r: ExecutionResult<Answer>, host: string) => r.data!.images.nodes.filter((n) => n.host.name === host).map((n) => n.id).sort();
/** SSH logins sshd accepted so far, from its own log. */
const acceptedLogins = async () => ((await readFile(join(sshd.dir, 'sshd.log'), 'utf8')).match(/Accepted publickey for root/g) ?? []).length;

async function expectBothUp(r: ExecutionResult<Answer> & { status: number }): Promise<void> {
  expect(r.status).toBe(200);
  expect(r.errors).toBeUndefined();
  expect(idsOf(r, 'remote')).toEqual(await ids(engine.socket));
  expect(idsOf(r, 'healthy')).toEqual(await ids(fleetEngine('alpha').socket));
  expect(r.data!.hosts).toEqual([
    { name: 'remote', status: 'UP', error: null },
    { name: 'healthy', status: 'UP', error: null },
  ]);
}

/** One error, for `remote`, with `code`; the healthy host answered in full; nothing says where `remote` is. */
async function expectRemoteFailed(r: ExecutionResult<Answer> & { status: number }, code: string): Promise<void> {
  expect(r.status).toBe(200);
  expect(r.errors?.map((e) => e.extensions)).toEqual([{ code, host: 'remote' }]);
  expect(idsOf(r, 'remote')).toEqual([]);
  expect(idsOf(r, 'healthy')).toEqual(await ids(fleetEngine('alpha').socket));
  expect(r.data!.hosts).toEqual([
    { name: 'remote', status: code.replace(/^HOST_/, ''), error: { code, message: r.errors![0]!.message } },
    { name: 'healthy', status: 'UP', error: null },
  ]);
  const text = JSON.stringify([r.errors, r.data!.hosts]);
  for (const secret of [sshd.clientKey, sshd.wrongKey, sshd.passphraseKey, sshd.passphrase, sshd.dir, configDir, engine.socket, engine.dir, tmpdir(), String(sshd.port)]) {
    expect(text, `the error reveals ${secret}`).not.toContain(secret);
  }
  expect(text).not.toMatch(/127\.0\.0\.1|localhost|ssh:|root@|_key\b|\.sock\b/);
}

describe('ssh:// hosts through SshDialAgent', () => {
  it('an ssh:// host with ssh.privateKeyPath from a config file lists exactly what its engine lists', async () => {
    const a = await app({ privateKeyPath: sshd.clientKey });
    expect(await ids(engine.socket)).toHaveLength(1);
    await expectBothUp(await a.query<Answer>(QUERY));
  });

  it(`${SEQUENTIAL} sequential requests cost one SSH handshake and one dial-stdio channel`, async () => {
    const a = await app({ privateKeyPath: sshd.clientKey });
    const agent = sshAgentOf(a.registry.client('remote').docker)!;
    expect(agent).toBeDefined();
    const loginsBefore = await acceptedLogins();
    for (let i = 0; i < SEQUENTIAL; i++) await expectBothUp(await a.query<Answer>(QUERY));
    expect(agent.handshakes).toBe(1);
    expect(agent.channels).toBe(1);
    // sshd's view: one more accepted login, and one connection open (one per-connection child; the
    // children of earlier tests' closed apps may take a moment to exit)
    expect((await acceptedLogins()) - loginsBefore).toBe(1);
    await expect.poll(() => sshd.connections().length, { timeout: 3_000 }).toBe(1);
  });

  it('concurrent requests share the one SSH connection', async () => {
    const a = await app({ privateKeyPath: sshd.clientKey });
    const agent = sshAgentOf(a.registry.client('remote').docker)!;
    const answers = await Promise.all(Array.from({ length: 6 }, () => a.query<Answer>(QUERY)));
    for (const r of answers) await expectBothUp(r);
    expect(agent.handshakes).toBe(1);
    expect(agent.channels).toBeGreaterThanOrEqual(1);
    expect(agent.channels).toBeLessThanOrEqual(6);
    await expect.poll(() => sshd.connections().length, { timeout: 3_000 }).toBe(1);
  });

  it('a dropped SSH connection is replaced by the next request, which answers in full', async () => {
    const a = await app({ privateKeyPath: sshd.clientKey });
    const agent = sshAgentOf(a.registry.client('remote').docker)!;
    await expectBothUp(await a.query<Answer>(QUERY));
    expect(agent.handshakes).toBe(1);

    await sshd.dropConnections();
    expect(sshd.connections()).toHaveLength(0);
    await expectBothUp(await a.query<Answer>(QUERY));
    expect(agent.handshakes).toBe(2);

    // and once more with sshd itself restarted (same port, same host key)
    await sshd.stop();
    await sshd.start();
    await expectBothUp(await a.query<Answer>(QUERY));
    expect(agent.handshakes).toBe(3);
    for (let i = 0; i < 3; i++) await expectBothUp(await a.query<Answer>(QUERY));
    expect(agent.handshakes).toBe(3);
  });

  it('a key sshd does not accept is a HOST_AUTH_ERROR for that host only', async () => {
    const a = await app({ privateKeyPath: sshd.wrongKey });
    await expectRemoteFailed(await a.query<Answer>(QUERY), 'HOST_AUTH_ERROR');
    // not cached: the next request tries (and fails) again
    await expectRemoteFailed(await a.query<Answer>(QUERY), 'HOST_AUTH_ERROR');
    expect(sshAgentOf(a.registry.client('remote').docker)!.handshakes).toBe(2);
  });

  it('sshd down is HOST_UNREACHABLE for that host only, and the host comes back with sshd', async () => {
    const a = await app({ privateKeyPath: sshd.clientKey });
    await expectBothUp(await a.query<Answer>(QUERY));
    await sshd.stop();
    try {
      await expectRemoteFailed(await a.query<Answer>(QUERY), 'HOST_UNREACHABLE');
    } finally {
      await sshd.start();
    }
    await expectBothUp(await a.query<Answer>(QUERY));
  });

  it('an encrypted key with its passphrase from ssh.passphraseEnv works', async () => {
    const a = await app({ privateKeyPath: sshd.passphraseKey, passphraseEnv: 'FG_TEST_SSH_PASSPHRASE' }, { env: { FG_TEST_SSH_PASSPHRASE: sshd.passphrase } });
    await expectBothUp(await a.query<Answer>(QUERY));
  });

  it('an encrypted key without its passphrase, or with a wrong one, is a HOST_AUTH_ERROR for that host only', async () => {
    const none = await app({ privateKeyPath: sshd.passphraseKey });
    await expectRemoteFailed(await none.query<Answer>(QUERY), 'HOST_AUTH_ERROR');
    const wrong = await app({ privateKeyPath: sshd.passphraseKey, passphraseEnv: 'FG_TEST_SSH_PASSPHRASE' }, { env: { FG_TEST_SSH_PASSPHRASE: 'not the passphrase' } });
    await expectRemoteFailed(await wrong.query<Answer>(QUERY), 'HOST_AUTH_ERROR');
  });

  it('a stalled sshd (listener SIGSTOPped: TCP accepted, no SSH banner) costs the host deadline; a request that joined that handshake gets one of its own', async () => {
    const deadline = 2_000;
    const a = await app({ privateKeyPath: sshd.clientKey }, { hostTimeoutMs: deadline });
    sshd.signal('SIGSTOP');
    let first: ExecutionResult<Answer> & { status: number };
    let second: Promise<ExecutionResult<Answer> & { status: number }>;
    const t0 = Date.now();
    let elapsed: number;
    try {
      const pending = a.query<Answer>(QUERY);
      await sleep(deadline / 2);
      // joins the handshake the first request started, which dies with the first request's deadline
      second = a.query<Answer>(QUERY);
      first = await pending;
      elapsed = Date.now() - t0;
      await sleep(200);
    } finally {
      sshd.signal('SIGCONT');
    }
    await expectRemoteFailed(first, 'HOST_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(deadline - 50);
    expect(elapsed).toBeLessThan(deadline + 1_000);
    // sshd resumed within the second request's own deadline: it answers in full
    await expectBothUp(await second);
    await expectBothUp(await a.query<Answer>(QUERY));
  });
});
