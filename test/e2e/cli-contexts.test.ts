/**
 * Issue 14 §2: `--docker-contexts` and the config key `dockerContexts`, with contexts made by the real
 * docker CLI (`docker --config DIR context create …`) in a temporary DOCKER_CONFIG, never the user's
 * ~/.docker: a unix one for a provided engine, and a TLS one (ca, cert, key) for a private dockerd that
 * requires client certificates. The oracle for the image counts is each engine's own /images/json.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineGet } from '../../src/dev/engine-api.js';
import { startEngine, type Engine } from '../../src/dev/engine.js';
import { importImage } from '../../src/dev/images.js';
import { freePort } from '../helpers/process.js';
import { fleetEngine } from '../helpers/provided.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';
import { buildCli, cli, DOCKER, tableRows } from '../helpers/cli.js';

const execFileP = promisify(execFile);

let pki: TestPki;
let secure: Engine;
let port: number;
/** DOCKER_CONFIG with the contexts alpha-ctx (unix) and secure (TLS). */
let dockerConfig: string;
/** A DOCKER_CONFIG with no contexts. */
let emptyConfig: string;
let scratch: string;

async function docker(config: string, args: string[]): Promise<void> {
  await execFileP(DOCKER, ['--config', config, ...args], { env: { ...process.env, DOCKER_CONFIG: config } });
}

const imageCount = async (socket: string) => (await engineGet<unknown[]>(socket, '/images/json')).length;

beforeAll(async () => {
  dockerConfig = await mkdtemp(join(tmpdir(), 'fleetgraph-ctx-'));
  emptyConfig = await mkdtemp(join(tmpdir(), 'fleetgraph-ctx-empty-'));
  scratch = await mkdtemp(join(tmpdir(), 'fleetgraph-ctx-scratch-'));
  await buildCli();
  pki = await makeTestPki();
  port = await freePort();
  secure = await startEngine('ctx-tls', { extraArgs: pki.dockerdArgs(port) });
  await importImage(secure.socket, { tag: 'fleetgraph/ctx-probe:1', label: { probe: 'ctx' } });
  await docker(dockerConfig, ['context', 'create', 'alpha-ctx', '--description', 'the alpha engine', '--docker', `host=${fleetEngine('alpha').endpoint}`]);
  const { ca, cert, key } = pki.client;
  await docker(dockerConfig, ['context', 'create', 'secure', '--docker', `host=tcp://127.0.0.1:${port},ca=${ca},cert=${cert},key=${key}`]);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled([secure?.destroy(), pki?.destroy(), ...[dockerConfig, emptyConfig, scratch].map((d) => (d ? rm(d, { recursive: true, force: true }) : undefined))]);
});

/** `fleetgraph hosts --json ARGS` with DOCKER_CONFIG (and `env`): name -> [status, images]. */
async function hosts(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; hosts: Record<string, [string, number | null]>; stderr: string }> {
  const run = await cli(['hosts', '--json', ...args], { env: { DOCKER_CONFIG: dockerConfig, ...env } });
  const list = run.stdout ? (JSON.parse(run.stdout) as Array<{ name: string; status: string; images: number | null }>) : [];
  return { code: run.code, stderr: run.stderr, hosts: Object.fromEntries(list.map((h) => [h.name, [h.status, h.images]])) };
}

describe('--docker-contexts', () => {
  it("reads the docker CLI's contexts as hosts, TLS material included, and skips default", async () => {
    const run = await hosts(['--docker-contexts']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.hosts).toEqual({
      'alpha-ctx': ['UP', await imageCount(fleetEngine('alpha').socket)],
      secure: ['UP', await imageCount(secure.socket)],
    });
  });

  it('=all adds default: DOCKER_HOST, as `docker context ls` shows it', async () => {
    const run = await hosts(['--docker-contexts=all'], { DOCKER_HOST: fleetEngine('beta').endpoint });
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(run.hosts)).toEqual(['default', 'alpha-ctx', 'secure']);
    expect(run.hosts.default).toEqual(['UP', await imageCount(fleetEngine('beta').socket)]);
  });

  it('the config key dockerContexts: true, beside the hosts the flags name', async () => {
    const file = join(scratch, 'contexts.yaml');
    await writeFile(file, 'dockerContexts: true\n');
    const run = await hosts(['--config', file, '--host', `gamma=${fleetEngine('gamma').endpoint}`]);
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(run.hosts)).toEqual(['gamma', 'alpha-ctx', 'secure']);
    expect(run.hosts.secure).toEqual(['UP', await imageCount(secure.socket)]);
  });

  it('works before an operation (the bare flag takes no value from the next word)', async () => {
    const run = await cli(['query', '--docker-contexts', '{ hosts { name status } }'], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ data: { hosts: [{ name: 'alpha-ctx', status: 'UP' }, { name: 'secure', status: 'UP' }] } });
  });

  it('without the TLS material the TLS engine is not reachable: the material is what made it work', async () => {
    const bare = await mkdtemp(join(scratch, 'bare-'));
    await docker(bare, ['context', 'create', 'secure', '--docker', `host=tcp://127.0.0.1:${port}`]);
    const run = await hosts(['--docker-contexts'], { DOCKER_CONFIG: bare });
    expect(run.code).toBe(1);
    expect(run.hosts.secure![0]).not.toBe('UP');
  });

  it.each([
    ['a value other than all', ['--docker-contexts=some'], {}, /^fleetgraph: config error: --docker-contexts: expected true, false or "all"$/],
    ['no contexts besides default', ['--docker-contexts'], { DOCKER_CONFIG: 'EMPTY' }, /^fleetgraph: config error: --docker-contexts: the docker CLI has no contexts besides default/],
    ['a context name that is no host name', ['--docker-contexts'], { DOCKER_CONFIG: 'PLUS' }, /^fleetgraph: config error: docker context "a\+b": name: a host name is/],
  ] as Array<[string, string[], Record<string, string>, RegExp]>)('%s: exit code 2, one line', async (_what, args, env, pattern) => {
    if (env.DOCKER_CONFIG === 'EMPTY') env = { DOCKER_CONFIG: emptyConfig };
    if (env.DOCKER_CONFIG === 'PLUS') {
      const plus = await mkdtemp(join(scratch, 'plus-'));
      await docker(plus, ['context', 'create', 'a+b', '--docker', `host=${fleetEngine('alpha').endpoint}`]);
      env = { DOCKER_CONFIG: plus };
    }
    const run = await cli(['hosts', ...args], { env: { DOCKER_CONFIG: dockerConfig, ...env } });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr.trim()).toMatch(pattern);
  });
});
