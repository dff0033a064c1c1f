/**
 * Issue #5 §4, SSH transport, against a real OpenSSH server: a private sshd whose authorized keys are
 * forced to run `docker system dial-stdio` against a private engine (see ../helpers/sshd.ts), reached
 * as `ssh://root@127.0.0.1:PORT` with `ssh: { privateKeyPath, passphraseEnv, knownHostsPath }` from a
 * config file, and its host key checked against known_hosts (the sshd's own public host key, written
 * plainly or hashed; or another key, none, or a revoked one).
 *
 * Oracles no one here wrote: the engine's own /images/json (over its unix socket), and sshd itself —
 * its log line per accepted login and its per-connection child processes — for how many SSH
 * connections the gateway really made, and whether it ever logged in.
 *
 * No test reads or writes the real ~/.ssh: every app gets HOME set to a temp dir.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ExecutionResult } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { sshAgentOf } from '../../src/docker/transport.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { engineGet } from '../../src/dev/engine-api.js';
import { startEngine, type Engine } from '../../src/dev/engine.js';
import { importImage } from '../../src/dev/images.js';
import { fleetEngine } from '../helpers/provided.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { QUERY, type Answer } from '../helpers/status-query.js';

const SEQUENTIAL = 10;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let engine: Engine;
let sshd: Sshd;
let configDir: string;
/** HOME for every app: an empty dir, so no default ~/.ssh/known_hosts unless a test writes one there */
let emptyHome: string;
const apps: TestApp[] = [];

beforeAll(async () => {
  configDir = await mkdtemp(join(tmpdir(), 'fleetgraph-ssh-config-'));
  emptyHome = join(configDir, 'home-empty');
  await mkdir(emptyHome);
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

interface SshBlock {
  privateKeyPath?: string;
  passphraseEnv?: string;
  knownHostsPath?: string;
  insecureIgnoreHostKey?: boolean;
}

/** A config file naming `remote` (the ssh:// host, with this `ssh` block) and `healthy` (a unix host). */
async function configFile(ssh: SshBlock): Promise<string> {
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
  return file;
}

const HOSTS = () => [
  { name: 'remote', endpoint: sshd.endpoint },
  { name: 'healthy', endpoint: fleetEngine('alpha').endpoint },
];

/** An app over the hosts of {@link configFile}; HOME is {@link emptyHome} unless `env` says otherwise. */
async function app(ssh: SshBlock, options: { env?: NodeJS.ProcessEnv; hostTimeoutMs?: number } = {}): Promise<TestApp> {
  const a = createTestApp(
    HOSTS(),
    { configFile: await configFile(ssh), hostTimeoutMs: options.hostTimeoutMs ?? 10_000 },
    // these tests are about single failures, not about the breaker opening
    { breakerVolume: 1000 },
    { HOME: emptyHome, ...options.env },
  );
  apps.push(a);
  return a;
}

/** The ConfigError that loading a config with this `ssh` block stops start-up with. */
async function startupError(ssh: SshBlock, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
  const file = await configFile(ssh);
  try {
    loadConfig({ configFile: file, hosts: HOSTS().map((h) => `${h.name}=${h.endpoint}`) }, { HOME: emptyHome, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('the config loaded');
}

/** A known_hosts file in the config dir with these lines. */
async function knownHostsFile(...lines: string[]): Promise<string> {
  const file = join(configDir, `known_hosts-${++configs}`);
  await writeFile(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

/** `|1|salt|hmac` for `name`, as OpenSSH's HashKnownHosts writes it. */
function hashedName(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
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
  const hostKeyBase64 = sshd.hostKey.split(' ')[1]!;
  for (const secret of [sshd.clientKey, sshd.wrongKey, sshd.passphraseKey, sshd.passphrase, sshd.dir, sshd.knownHosts, hostKeyBase64, configDir, engine.socket, engine.dir, tmpdir(), String(sshd.port)]) {
    expect(text, `the error reveals ${secret}`).not.toContain(secret);
  }
  expect(text).not.toMatch(/127\.0\.0\.1|localhost|ssh:|root@|_key\b|\.sock\b/);
}

describe('ssh:// hosts through SshDialAgent', () => {
  it('an ssh:// host with ssh.privateKeyPath from a config file lists exactly what its engine lists', async () => {
    const a = await app({ privateKeyPath: sshd.clientKey, knownHostsPath: sshd.knownHosts });
    expect(await ids(engine.socket)).toHaveLength(1);
    await expectBothUp(await a.query<Answer>(QUERY));
  });

  it('ssh:// without a user logs in as the user running the gateway, as ssh does (issue 8 §4)', async () => {
    // the harness's sshd lets only root in, and the suite runs as root
    expect(userInfo().username).toBe('root');
    const noUser = sshd.endpoint.replace(/\/\/[^@/]+@/, '//');
    expect(noUser).not.toContain('@');
    const a = createTestApp(
      [{ name: 'remote', endpoint: noUser }, { name: 'healthy', endpoint: fleetEngine('alpha').endpoint }],
      // a roomy deadline: this test is about who logs in, not about time (a loaded machine's handshake can pass 5 s)
      { configFile: await configFile({ privateKeyPath: sshd.clientKey, knownHostsPath: sshd.knownHosts }), hostTimeoutMs: 20_000 },
      { breakerVolume: 1000 },
      { HOME: emptyHome },
    );
    apps.push(a);
    const loginsBefore = await acceptedLogins();
    await expectBothUp(await a.query<Answer>(QUERY));
    expect(await acceptedLogins()).toBe(loginsBefore + 1);
  });

  it(`${SEQUENTIAL} sequential requests cost one SSH handshake and one dial-stdio channel`, async () => {
    const a = await app({ privateKeyPath: sshd.clientKey, knownHostsPath: sshd.knownHosts });
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
    const a = await app({ privateKeyPath: sshd.clientKey, knownHostsPath: sshd.knownHosts });
    const agent = sshAgentOf(a.registry.client('remote').docker)!;
    const answers = await Promise.all(Array.from({ length: 6 }, () => a.query<Answer>(QUERY)));
    for (const r of answers) await expectBothUp(r);
    expect(agent.handshakes).toBe(1);
    expect(agent.channels).toBeGreaterThanOrEqual(1);
    expect(agent.channels).toBeLessThanOrEqual(6);
    await expect.poll(() => sshd.connections().length, { timeout: 3_000 }).toBe(1);
  });

  it('a dropped SSH connection is replaced by the next request, which answers in full', async () => {
    const a = await app({ privateKeyPath: sshd.clientKey, knownHostsPath: sshd.knownHosts });
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
    const a = await app({ privateKeyPath: sshd.wrongKey, knownHostsPath: sshd.knownHosts });
    await expectRemoteFailed(await a.query<Answer>(QUERY), 'HOST_AUTH_ERROR');
    // not cached: the next request tries (and fails) again
    await expectRemoteFailed(await a.query<Answer>(QUERY), 'HOST_AUTH_ERROR');
    expect(sshAgentOf(a.registry.client('remote').docker)!.handshakes).toBe(2);
  });

  it('sshd down is HOST_UNREACHABLE for that host only, and the host comes back with sshd', async () => {
    const a = await app({ privateKeyPath: sshd.clientKey, knownHostsPath: sshd.knownHosts });
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
    const a = await app({ privateKeyPath: sshd.passphraseKey, passphraseEnv: 'FG_TEST_SSH_PASSPHRASE', knownHostsPath: sshd.knownHosts }, { env: { FG_TEST_SSH_PASSPHRASE: sshd.passphrase } });
    await expectBothUp(await a.query<Answer>(QUERY));
  });


  it('a stalled sshd (listener SIGSTOPped: TCP accepted, no SSH banner) costs the host deadline; a request that joined that handshake gets one of its own', async () => {
    // After SIGCONT the second request has about deadline/2 - 200 ms left for a whole cold connection
    // (handshake, channel, dial-stdio's start, the request): 1.0-1.5 s measured with load ~19 on 2 cores.
    const deadline = 6_000;
    const a = await app({ privateKeyPath: sshd.clientKey, knownHostsPath: sshd.knownHosts }, { hostTimeoutMs: deadline });
    sshd.signal('SIGSTOP');
    let first: ExecutionResult<Answer> & { status: number };
    let second: Promise<ExecutionResult<{ hosts: Array<{ name: string; engine: { version: string } | null }> }> & { status: number }>;
    const t0 = Date.now();
    let elapsed: number;
    try {
      const pending = a.query<Answer>(QUERY);
      await sleep(deadline / 2);
      // joins the handshake the first request started, which dies with the first request's deadline; it
      // asks another path, since an identical overlapping call would share the first one's (issue 9 §11)
      second = a.query(`{ hosts { name engine { version } } }`);
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
    const joined = await second;
    expect(joined.errors).toBeUndefined();
    expect(joined.data!.hosts.map((h) => [h.name, typeof h.engine?.version])).toEqual([
      ['remote', 'string'],
      ['healthy', 'string'],
    ]);
    await expectBothUp(await a.query<Answer>(QUERY));
  });
});

describe('ssh:// host keys are checked against known_hosts', () => {
  const untrusted = (detail: string) => `host "remote": the SSH server's host key is not trusted, so the connection was not used (${detail})`;
  const name = () => `[127.0.0.1]:${sshd.port}`;

  /** Refused before any credential was sent, every time: each request makes (and drops) a handshake of its own. */
  async function expectRefused(a: TestApp, detail: string): Promise<void> {
    const agent = sshAgentOf(a.registry.client('remote').docker)!;
    const loginsBefore = await acceptedLogins();
    for (let i = 1; i <= 2; i++) {
      const r = await a.query<Answer>(QUERY);
      await expectRemoteFailed(r, 'HOST_KEY_UNTRUSTED');
      expect(r.errors![0]!.message).toBe(untrusted(detail));
      expect(agent.handshakes).toBe(i);
      expect(agent.channels).toBe(0);
    }
    // sshd's view: no login, and no connection left open
    expect(await acceptedLogins()).toBe(loginsBefore);
    await expect.poll(() => sshd.connections().length, { timeout: 3_000 }).toBe(0);
  }

  it('a known_hosts without this server is HOST_KEY_UNTRUSTED for that host only, and the refused connection is not reused', async () => {
    const other = (await readFile(`${sshd.wrongKey}.pub`, 'utf8')).trim();
    // the right key, but for other names: port 22, another port, another address
    const file = await knownHostsFile(`127.0.0.1 ${sshd.hostKey}`, `[127.0.0.1]:${sshd.port + 1} ${sshd.hostKey}`, `[127.0.0.2]:${sshd.port} ${sshd.hostKey}`, `edge-1 ${other}`);
    await expectRefused(await app({ privateKeyPath: sshd.clientKey, knownHostsPath: file }), 'not in known_hosts');
  });

  it('a known_hosts with another key for [127.0.0.1]:PORT is HOST_KEY_UNTRUSTED (changed)', async () => {
    const other = (await readFile(`${sshd.wrongKey}.pub`, 'utf8')).trim();
    const file = await knownHostsFile(`${name()} ${other}`);
    await expectRefused(await app({ privateKeyPath: sshd.clientKey, knownHostsPath: file }), 'changed');
  });

  it('a key marked @revoked is HOST_KEY_UNTRUSTED even though another line trusts it', async () => {
    const file = await knownHostsFile(`@revoked * ${sshd.hostKey}`, `${name()} ${sshd.hostKey}`);
    await expectRefused(await app({ privateKeyPath: sshd.clientKey, knownHostsPath: file }), 'revoked');
  });

  it('no known_hosts at all (no knownHostsPath, no ~/.ssh/known_hosts) is HOST_KEY_UNTRUSTED', async () => {
    await expectRefused(await app({ privateKeyPath: sshd.clientKey }), 'no known_hosts file');
  });

  it('a hashed known_hosts entry for [127.0.0.1]:PORT is trusted', async () => {
    const file = await knownHostsFile('# hashed, as with HashKnownHosts yes', `${hashedName(name())} ${sshd.hostKey}`);
    expect(await readFile(file, 'utf8')).not.toContain('127.0.0.1');
    await expectBothUp(await (await app({ privateKeyPath: sshd.clientKey, knownHostsPath: file })).query<Answer>(QUERY));
  });

  it('without knownHostsPath, the known_hosts of the HOME the gateway runs with is used', async () => {
    const home = join(configDir, 'home-trusting');
    await mkdir(join(home, '.ssh'), { recursive: true });
    await writeFile(join(home, '.ssh', 'known_hosts'), `${name()} ${sshd.hostKey}\n`);
    await expectBothUp(await (await app({ privateKeyPath: sshd.clientKey }, { env: { HOME: home } })).query<Answer>(QUERY));
  });

  it('insecureIgnoreHostKey: true accepts the key without any known_hosts', async () => {
    const a = await app({ privateKeyPath: sshd.clientKey, insecureIgnoreHostKey: true });
    expect(a.config.hosts[0]!.ssh).toMatchObject({ insecureIgnoreHostKey: true });
    expect(a.config.hosts[0]!.ssh!.knownHosts).toBeUndefined();
    await expectBothUp(await a.query<Answer>(QUERY));
  });
});

describe('ssh:// settings that cannot work stop start-up', () => {
  const oneLine = (err: Error) => {
    expect(err.message).not.toContain('\n');
    expect(err.message).toMatch(/^host "remote": /);
    return err.message;
  };

  it('a knownHostsPath that cannot be read', async () => {
    const missing = join(configDir, 'no-such-known_hosts');
    expect(oneLine(await startupError({ privateKeyPath: sshd.clientKey, knownHostsPath: missing }))).toBe(`host "remote": cannot read SSH known_hosts file ${missing} (ENOENT)`);
    expect(oneLine(await startupError({ privateKeyPath: sshd.clientKey, knownHostsPath: configDir }))).toMatch(/cannot read SSH known_hosts file .* \(EISDIR\)$/);
  });

  it('insecureIgnoreHostKey together with a knownHostsPath', async () => {
    expect(oneLine(await startupError({ privateKeyPath: sshd.clientKey, knownHostsPath: sshd.knownHosts, insecureIgnoreHostKey: true }))).toMatch(/insecureIgnoreHostKey and ssh\.knownHostsPath exclude each other/);
  });

  it('an encrypted key without its passphrase, or with a wrong one; never saying either passphrase', async () => {
    const none = oneLine(await startupError({ privateKeyPath: sshd.passphraseKey, knownHostsPath: sshd.knownHosts }));
    expect(none).toMatch(/cannot use SSH private key .*passphrase_key \(no ssh\.passphraseEnv\): .*passphrase/i);
    const unset = oneLine(await startupError({ privateKeyPath: sshd.passphraseKey, passphraseEnv: 'FG_TEST_SSH_PASSPHRASE', knownHostsPath: sshd.knownHosts }));
    expect(unset).toMatch(/\(\$FG_TEST_SSH_PASSPHRASE is not set\)/);
    const wrongPassphrase = 'not the passphrase';
    const wrong = oneLine(
      await startupError({ privateKeyPath: sshd.passphraseKey, passphraseEnv: 'FG_TEST_SSH_PASSPHRASE', knownHostsPath: sshd.knownHosts }, { FG_TEST_SSH_PASSPHRASE: wrongPassphrase }),
    );
    expect(wrong).toMatch(/cannot use SSH private key .*passphrase_key with the passphrase from \$FG_TEST_SSH_PASSPHRASE: /);
    for (const m of [none, unset, wrong]) {
      expect(m).not.toContain(wrongPassphrase);
      expect(m).not.toContain(sshd.passphrase);
    }
  });

  it('a file that is not a private key', async () => {
    expect(oneLine(await startupError({ privateKeyPath: `${sshd.clientKey}.pub`, knownHostsPath: sshd.knownHosts }))).toMatch(/client_key\.pub \(no ssh\.passphraseEnv\): it is a public key$/);
    expect(oneLine(await startupError({ privateKeyPath: sshd.knownHosts, knownHostsPath: sshd.knownHosts }))).toMatch(/cannot use SSH private key .*known_hosts .*: Unsupported key format$/);
  });
});
