/**
 * Issue #4 at the server level: the built CLI (dist/src/cli.js) as a process. Health and readiness,
 * config errors (exit 2, one line on stderr naming the entry), graceful SIGTERM with a request in
 * flight, and an unhandled rejection that must not take the server down. Fake engines only.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliDecompressSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeEngine, type FakeEngine } from '../helpers/fake-engine.js';
import { freePort } from '../helpers/process.js';
import { scratchDir } from '../helpers/scratch.js';
import { waitFor } from '../../src/dev/wait.js';

const execFileP = promisify(execFile);
const ROOT = process.cwd();
const CLI = join(ROOT, 'dist', 'src', 'cli.js');

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Cli[] = [];

function runCli(args: string[], nodeArgs: string[] = []): Cli {
  const env = { ...process.env };
  delete env.NODE_ENV;
  delete env.FLEETGRAPH_HOSTS;
  delete env.FLEETGRAPH_AUTH_TOKENS;
  delete env.DOCKER_HOST;
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const cli = { child, stdout: () => out, stderr: () => err, exited };
  started.push(cli);
  return cli;
}

async function within<T>(what: string, p: Promise<T>, ms: number, detail: () => string = () => ''): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms\n${detail()}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the CLI has said `line`; throws (ending the wait) once it has exited. */
function said(cli: Cli, line: string): boolean {
  if (cli.stderr().includes(line)) return true;
  if (cli.child.exitCode !== null) throw new Error(`fleetgraph did not start:\n${cli.stderr()}`);
  return false;
}

/** Starts `serve` on a free port and waits until it says it serves. */
async function serve(hosts: string[], extra: string[] = [], nodeArgs: string[] = []): Promise<{ cli: Cli; base: string }> {
  const port = await freePort();
  const cli = runCli(['serve', ...hosts.flatMap((h) => ['--host', h]), '--port', String(port), ...extra], nodeArgs);
  const base = `http://127.0.0.1:${port}`;
  await waitFor('fleetgraph to start', () => said(cli, `at ${base}/graphql`), 20_000, cli.stderr, 50);
  // Then its start-up probe of every host (one image list each), so that tests counting engine calls
  // count only their own.
  const names = hosts.map((h) => h.slice(0, h.indexOf('=')));
  await waitFor('the start-up probe', () => names.every((n) => said(cli, `host \\"${n}\\" is up`) || said(cli, `host \\"${n}\\" is not answering`)), 20_000, cli.stderr, 20);
  return { cli, base };
}

let up: FakeEngine;
let slow: FakeEngine;

/** Config and token files for the bad-configuration cases. */
const scratch = scratchDir('fleetgraph-server-test-');
function scratchFile(name: string, text: string): string {
  writeFileSync(join(scratch(), name), text);
  return join(scratch(), name);
}
const SECRET_A = 'Zq9XwV7kLp3MnB5tYc2R';
const SECRET_B = 'Rj8Hs2Df6Gk1Lm4NqW0e';

beforeAll(async () => {
  await execFileP('npm', ['run', 'build'], { cwd: ROOT, timeout: 240_000 }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`npm run build failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  });
  up = await startFakeEngine('up');
  slow = await startFakeEngine('slow');
  slow.set('/images/json', { slowMs: 1000 });
}, 300_000);

afterEach(async () => {
  // Only the processes this file started, by pid.
  for (const cli of started.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  }
});

afterAll(async () => {
  await Promise.all([up?.stop(), slow?.stop()]);
});

describe('health and readiness', () => {
  it('/healthz is 200; /readyz is 200 with each host reachable or not, and no address in it', async () => {
    const missing = join(up.dir, 'missing', 'docker.sock');
    const { base } = await serve([`up=${up.endpoint}`, `gone=unix://${missing}`]);

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);

    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await ready.text();
    const body = JSON.parse(text) as { hosts: Array<{ name: string; status: string }>; hostsUp: number };
    expect(body.hosts).toEqual([
      { name: 'up', status: 'UP' },
      { name: 'gone', status: 'UNREACHABLE' },
    ]);
    expect(body.hostsUp).toBe(1);
    expect(text).not.toContain(up.dir);
    expect(text).not.toContain('.sock');
    expect(up.count({ method: 'GET' })).toBeGreaterThanOrEqual(1);
    expect(up.count()).toBe(up.count({ method: 'GET' }));
  });
});

describe('bad configuration', () => {
  it.each([
    ['a duplicate host name', ['--host', 'a=unix:///tmp/a.sock', '--host', 'a=unix:///tmp/b.sock'], /host "a".*duplicate/],
    ['an unknown scheme', ['--host', 'a=ftp://example.test/x'], /host "a".*unknown scheme "ftp"/],
    ['a host spec without a name', ['--host', 'unix:///tmp/a.sock'], /--host "unix:\/\/\/tmp\/a.sock"/],
    ['a port that is not a number', ['--host', 'a=unix:///tmp/a.sock', '--port', 'eighty'], /--port.*"eighty"/],
    ['an unknown option', ['--hots', 'a=unix:///tmp/a.sock'], /--hots/],
    ['a public address without tokens', ['--host', 'a=unix:///tmp/a.sock', '--listen', '0.0.0.0'], /--listen 0\.0\.0\.0.*refusing.*--insecure-no-auth/],
    ['a limit that is not a number', ['--host', 'a=unix:///tmp/a.sock', '--max-depth', 'deep'], /--max-depth.*"deep"/],
    // issue 8 §3: flags are held to the config file's bounds
    ['a host timeout past the file\'s cap', ['--host', 'a=unix:///tmp/a.sock', '--host-timeout', '3000000000'], /config error: --host-timeout: must be at most 600000$/],
    ['--max-images 0', ['--host', 'a=unix:///tmp/a.sock', '--max-images', '0'], /config error: --max-images: must be at least 1$/],
    ['--max-depth 0', ['--host', 'a=unix:///tmp/a.sock', '--max-depth', '0'], /config error: --max-depth: must be at least 1$/],
    ['a port past 65535', ['--host', 'a=unix:///tmp/a.sock', '--port', '65536'], /config error: --port: must be at most 65535$/],
    ['a misspelt key in a host entry', () => ['--config', scratchFile('e1.yaml', 'hosts:\n  - name: e1\n    endpiont: unix:///tmp/e1.sock\n')], /config error: host "e1": unknown key "endpiont"$/],
    ['an empty host list', () => ['--config', scratchFile('empty-hosts.yaml', 'hosts: []\n')], /config error: config file .*: hosts: is empty/],
    ['an empty config file', () => ['--config', scratchFile('empty.yaml', '')], /config error: config file .*empty.yaml: is empty/],
    // issue 9 §2: a bad token file is named by line, its tokens never printed
    ['two tokens on one line of the token file', () => ['--host', 'a=unix:///tmp/a.sock', '--auth-token-file', scratchFile('tokens', `# ops\n${SECRET_A} ${SECRET_B}\n`)], /--auth-token-file .*tokens line 2: word 2 is not hosts=a,b/],
  ] as Array<[string, string[] | (() => string[]), RegExp]>)('%s: exit code 2 and one line on stderr naming it', async (_what, argsOf, pattern) => {
    const cli = runCli(['serve', ...(typeof argsOf === 'function' ? argsOf() : argsOf)]);
    const { code } = await within('exit', cli.exited, 20_000, cli.stderr);
    expect(code).toBe(2);
    const lines = cli.stderr().split('\n').filter((l) => l.trim() !== '');
    expect(lines, cli.stderr()).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(lines[0]).toMatch(/^fleetgraph: /);
    expect(cli.stdout()).toBe('');
    for (const secret of [SECRET_A, SECRET_B]) expect(cli.stderr()).not.toContain(secret.slice(0, 5));
  });
});

describe('--version', () => {
  it('prints the version of package.json, as --version and -v; --help mentions it', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const cli = runCli([flag]);
      expect((await within('exit', cli.exited, 20_000, cli.stderr)).code).toBe(0);
      expect(cli.stdout()).toBe(`fleetgraph ${version}\n`);
      expect(cli.stderr()).toBe('');
    }
    const help = runCli(['--help']);
    expect((await within('exit', help.exited, 20_000, help.stderr)).code).toBe(0);
    expect(help.stdout()).toMatch(/-v, --version/);
  });
});

describe('flags', () => {
  it('--auth-token-file: 401 without a token, scoped answers with one', async () => {
    const file = join(up.dir, 'tokens');
    writeFileSync(file, '# ops\nserver-test-all-0123456789\nserver-test-up-0123456789 hosts=up\n');
    const { base } = await serve([`up=${up.endpoint}`, `slow=${slow.endpoint}`], ['--auth-token-file', file, '--listen', '127.0.0.1']);
    const ask = (token?: string) =>
      fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query: '{ hosts { name } }' }),
      });
    expect((await ask()).status).toBe(401);
    expect((await ask('server-test-nope-0123456789')).status).toBe(401);
    expect(await (await ask('server-test-all-0123456789')).json()).toEqual({ data: { hosts: [{ name: 'up' }, { name: 'slow' }] } });
    expect(await (await ask('server-test-up-0123456789')).json()).toEqual({ data: { hosts: [{ name: 'up' }] } });
  });

  it('--listen on a public address starts with tokens, or with --insecure-no-auth', async () => {
    const file = join(up.dir, 'tokens2');
    writeFileSync(file, 'server-test-all-0123456789\n');
    for (const extra of [['--auth-token-file', file], ['--insecure-no-auth']]) {
      const port = await freePort();
      const cli = runCli(['serve', '--host', `up=${up.endpoint}`, '--listen', '0.0.0.0', '--port', String(port), ...extra]);
      await waitFor('fleetgraph to start', () => said(cli, `:${port}/graphql`), 20_000, cli.stderr, 50);
      cli.child.kill('SIGTERM');
      expect((await within('exit', cli.exited, 10_000, cli.stderr)).code).toBe(0);
    }
  });

  it('applies query limits given on the command line', async () => {
    const { base } = await serve([`up=${up.endpoint}`], ['--max-depth', '2']);
    const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ hosts { engine { version } } }' }) });
    const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string; limit?: string } }> };
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'maxDepth' });
  });

  it('--max-answer-bytes caps the answer: past it RESPONSE_TOO_LARGE and no data; a bad value exits 2', async () => {
    const { base } = await serve([`up=${up.endpoint}`], ['--max-answer-bytes', '200']);
    const ask = async (query: string) => (await (await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })).json()) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> };
    expect((await ask('{ hosts { name } }')).errors).toBeUndefined();
    const big = await ask('{ images { nodes { id parentId repoTags repoDigests created size labels { key value } } } }');
    expect(big.data ?? null).toBeNull();
    expect(big.errors?.map((e) => e.extensions?.code)).toEqual(['RESPONSE_TOO_LARGE']);
    const bad = runCli(['serve', '--host', `up=${up.endpoint}`, '--max-answer-bytes', '0']);
    expect((await within('exit', bad.exited, 20_000, bad.stderr)).code).toBe(2);
    expect(bad.stderr()).toContain('--max-answer-bytes');
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM lets a slow request in flight finish with 200, refuses new connections, and exits 0', async () => {
    const { cli, base } = await serve([`slow=${slow.endpoint}`]);
    slow.reset();
    slow.set('/images/json', { slowMs: 1000 });

    const t0 = Date.now();
    const inFlight = fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ images { totalCount nodes { id } } }' }),
    });
    // The request has reached the engine: it is in flight in the gateway.
    await waitFor('the request to reach the engine', () => slow.count({ path: '/images/json' }) > 0, 5000, undefined, 20);
    expect(slow.count({ path: '/images/json' })).toBe(1);

    cli.child.kill('SIGTERM');
    await waitFor('the SIGTERM message', () => cli.stderr().includes('SIGTERM'), 5000, cli.stderr, 20);

    // No new connections once shutting down.
    const refused = await new Promise<string>((resolve) => {
      const req = http.get(`${base}/healthz`, { agent: false }, (res) => {
        res.resume();
        resolve(`HTTP ${res.statusCode}`);
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');

    const res = await within('the in-flight answer', inFlight, 10_000, cli.stderr);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { errors?: unknown; data: { images: { totalCount: number } } };
    expect(body.errors).toBeUndefined();
    expect(body.data.images.totalCount).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);

    // The client would keep its connection alive (for the server's 5 s keep-alive timeout): the server must
    // close it with that last answer and exit promptly, not wait for the client.
    const { code, signal } = await within('exit after SIGTERM', cli.exited, 2500, cli.stderr);
    expect(signal).toBeNull();
    expect(code).toBe(0);
  });

  it('SIGTERM with nothing in flight exits 0 at once, even with idle keep-alive clients', async () => {
    const { cli, base } = await serve([`up=${up.endpoint}`]);
    const agent = new http.Agent({ keepAlive: true });
    try {
      await new Promise<void>((resolve, reject) => {
        http.get(`${base}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
      const t0 = Date.now();
      cli.child.kill('SIGTERM');
      const { code } = await within('exit after SIGTERM', cli.exited, 5000, cli.stderr);
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      agent.destroy();
    }
  });
});

describe('start-up', () => {
  it("logs each host's first reachability: API version and image count, or the coded error", async () => {
    const { cli } = await serve([`up=${up.endpoint}`, `gone=unix://${join(scratch(), 'no-such.sock')}`]);
    await waitFor('both hosts to be reported', () => cli.stderr().includes('host \\"up\\" is up') && cli.stderr().includes('host \\"gone\\" is not answering'), 10_000, cli.stderr, 20);
    const lines = cli.stderr().split('\n').filter((l) => l.includes('"host":')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.host === 'up')).toMatchObject({ apiVersion: expect.stringMatching(/^\d+\.\d+$/), images: 2 });
    expect(lines.find((l) => l.host === 'gone')).toMatchObject({ code: 'HOST_UNREACHABLE' });
  });
});

describe('over the wire', () => {
  it('serves GraphiQL compressed, and a reload with its ETag is a 304 without a body', async () => {
    const { base } = await serve([`up=${up.endpoint}`]);
    const first = await rawGet(`${base}/graphql`, { accept: 'text/html', 'accept-encoding': 'gzip, br' });
    expect(first.status).toBe(200);
    expect(first.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(first.body).toString('utf8')).toContain('<title>fleetgraph</title>');
    expect(first.body.length).toBeLessThan(3 * 1024 * 1024);
    const etag = first.headers.etag as string;
    const again = await rawGet(`${base}/graphql`, { accept: 'text/html', 'accept-encoding': 'gzip, br', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('a client that disconnects stops its request: no engine call is started for it afterwards', async () => {
    const { base } = await serve([`slow=${slow.endpoint}`]);
    const before = { images: slow.count({ path: '/images/json' }), containers: slow.count({ path: '/containers/json' }) };
    // The calls the selection tells of start with the request (prefetch); none may start once the client is gone.
    const body = JSON.stringify({ query: '{ images { nodes { id usedBy { id } } } }' });
    const req = http.request(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    req.on('error', () => {});
    req.end(body);
    await waitFor('the image list to be asked for', () => slow.count({ path: '/images/json' }) !== before.images, 5000, undefined, 10);
    await new Promise((r) => setTimeout(r, 100));
    const atDisconnect = { images: slow.count({ path: '/images/json' }), containers: slow.count({ path: '/containers/json' }), all: slow.count({}) };
    req.destroy();
    // The image list arrives after 1 s; give the gateway time to (not) go on.
    await new Promise((r) => setTimeout(r, 1800));
    expect({ images: slow.count({ path: '/images/json' }), containers: slow.count({ path: '/containers/json' }), all: slow.count({}) }).toEqual(atDisconnect);
  });
});

function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

describe('unhandled rejections', () => {
  it('are logged and do not take the server down', async () => {
    // A rejection nobody handles, after start-up (as a bug in a dependency would make one): once the CLI has
    // installed its handler, not after a fixed delay, which a loaded machine outlasts while loading modules.
    const preload = `data:text/javascript,const t = setInterval(() => { if (process.listenerCount('unhandledRejection') > 0) { clearInterval(t); Promise.reject(new Error('boom /var/run/secret.sock')); } }, 20);`;
    const { cli, base } = await serve([`up=${up.endpoint}`], [], ['--import', preload]);
    await waitFor('the rejection to be logged', () => cli.stderr().includes('unhandled rejection'), 5000, cli.stderr, 20);
    expect(cli.child.exitCode).toBeNull();
    const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ images { totalCount } }' }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { images: { totalCount: number } } }).data.images.totalCount).toBe(2);
    // The log names the kind of error, not its text (which may hold paths).
    expect(cli.stderr()).not.toContain('secret.sock');
  });
});
