/**
 * Issue 14 §1: the built binary (dist/src/cli.js) as users run it from a shell: `hosts`, `images`, `query`,
 * `--help` per command, progress on a terminal only. The oracles are the engines' own /version and
 * /images/json, and the real docker CLI's `docker images` over the same sockets (same filters, same
 * size and age words). §2 (docker contexts) is in cli-contexts.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineGet } from '../../src/dev/engine-api.js';
import { startFakeEngine, type FakeEngine } from '../helpers/fake-engine.js';
import { fleetEngines, type ProvidedEngine } from '../helpers/provided.js';
import { buildCli, cli, DOCKER, hostArgs, tableRows } from '../helpers/cli.js';

const execFileP = promisify(execFile);

interface RawImage {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Size: number;
  Created: number;
}

let slow: FakeEngine;
/** The docker CLI's own config dir for the oracle runs (never the user's ~/.docker). */
let dockerConfig: string;

beforeAll(async () => {
  dockerConfig = await mkdtemp(join(tmpdir(), 'fleetgraph-cli-docker-'));
  await buildCli();
  slow = await startFakeEngine('slow');
  slow.set('/images/json', { slowMs: 1500 });
}, 300_000);

afterAll(async () => {
  await slow?.stop();
  if (dockerConfig) await rm(dockerConfig, { recursive: true, force: true });
});

/** `docker images` of one engine, by the real docker CLI: REPOSITORY TAG ID CREATED SIZE per row. */
async function dockerImages(engine: ProvidedEngine, filters: string[] = []): Promise<string[][]> {
  const { stdout } = await execFileP(DOCKER, ['-H', engine.endpoint, 'images', ...filters.flatMap((f) => ['--filter', f]), '--format', '{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'], {
    env: { ...process.env, DOCKER_CONFIG: dockerConfig },
  });
  return stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

describe('fleetgraph hosts', () => {
  it("prints each host's status, API and engine version, image count and latency, as the engines report them; exit 0", async () => {
    const run = await cli(['hosts', ...hostArgs()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const rows = tableRows(run.stdout);
    expect(rows[0]).toEqual(['HOST', 'STATUS', 'API', 'ENGINE', 'IMAGES', 'LATENCY']);
    expect(rows.slice(1).map((r) => r[0])).toEqual(fleetEngines().map((e) => e.name));
    for (const engine of fleetEngines()) {
      const version = await engineGet<{ Version: string; ApiVersion: string }>(engine.socket, '/version');
      const images = await engineGet<RawImage[]>(engine.socket, '/images/json');
      const row = rows.find((r) => r[0] === engine.name)!;
      expect(row.slice(1, 5)).toEqual(['UP', expect.stringMatching(/^1\.\d+$/), version.Version, String(images.length)]);
      // the negotiated version: the engine's own, or ours when it is newer
      expect(Number(row[2]!.split('.')[1])).toBeLessThanOrEqual(Number(version.ApiVersion.split('.')[1]));
      expect(row[5]).toMatch(/^\d+ ms$/);
    }
  });

  it('--json: the same facts for scripts; a host that is down is listed with its code and makes the exit code 1', async () => {
    const run = await cli(['hosts', '--json', ...hostArgs(), '--host', `gone=unix://${join(slow.dir, 'missing.sock')}`]);
    expect(run.code).toBe(1);
    const checks = JSON.parse(run.stdout) as Array<{ name: string; status: string; message: string | null; engineVersion: string | null; images: number | null; latencyMs: number }>;
    expect(checks.map((c) => [c.name, c.status])).toEqual([...fleetEngines().map((e) => [e.name, 'UP']), ['gone', 'HOST_UNREACHABLE']]);
    for (const engine of fleetEngines()) {
      const images = await engineGet<RawImage[]>(engine.socket, '/images/json');
      expect(checks.find((c) => c.name === engine.name)!.images).toBe(images.length);
    }
    const gone = checks.find((c) => c.name === 'gone')!;
    expect(gone).toMatchObject({ engineVersion: null, images: null, message: expect.stringContaining('could not be reached') });
    expect(run.stdout).not.toContain('missing.sock');
  });
});

describe('fleetgraph images', () => {
  it("lists every host's images as `docker images` does (rows, IDs, ages, sizes), with a HOST column", async () => {
    const run = await cli(['images', ...hostArgs()]);
    expect(run.code, run.stderr).toBe(0);
    const rows = tableRows(run.stdout);
    expect(rows[0]).toEqual(['HOST', 'REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    for (const engine of fleetEngines()) {
      const ours = rows.slice(1).filter((r) => r[0] === engine.name).map((r) => r.slice(1));
      const docker = await dockerImages(engine);
      expect(ours.length).toBeGreaterThan(2);
      expect(ours.sort()).toEqual(docker.sort());
    }
  });

  it.each([
    [['reference=fleet/*']],
    [['label=tier=app']],
    [['label=team', 'reference=fleet/app']],
    [['dangling=true']],
    [['dangling=false']],
    [['before=fleet/web:latest']],
    [['since=fleet/base:1', 'label=tier']],
  ])('--filter %j means what it means to docker images', async (filters) => {
    const run = await cli(['images', ...hostArgs(), ...filters.flatMap((f) => ['--filter', f])]);
    expect(run.code, run.stderr).toBe(0);
    const rows = tableRows(run.stdout).slice(1);
    let seen = 0;
    for (const engine of fleetEngines()) {
      const docker = await dockerImages(engine, filters);
      seen += docker.length;
      expect(rows.filter((r) => r[0] === engine.name).map((r) => r.slice(1)).sort()).toEqual(docker.sort());
    }
    expect(rows).toHaveLength(seen);
  });

  it('--format json: one entry per image summary, as /images/json has it', async () => {
    const run = await cli(['images', '--format', 'json', ...hostArgs()]);
    expect(run.code, run.stderr).toBe(0);
    const list = JSON.parse(run.stdout) as Array<{ host: string; id: string; size: number; repoTags: string[] }>;
    for (const engine of fleetEngines()) {
      const raw = await engineGet<RawImage[]>(engine.socket, '/images/json');
      expect(list.filter((i) => i.host === engine.name).map((i) => [i.id, i.size, [...i.repoTags].sort()]).sort()).toEqual(
        raw.map((r) => [r.Id, r.Size, (r.RepoTags ?? []).filter((t) => t !== '<none>:<none>').sort()]).sort(),
      );
    }
  });

  it.each([
    [['--filter', 'colour=red'], /--filter "colour=red": unknown filter "colour"/],
    [['--filter', 'dangling=maybe'], /--filter "dangling=maybe": dangling takes true or false/],
    [['--format', 'yaml'], /--format: expected table or json/],
  ])('%j is a usage error: one line, exit code 2', async (args, pattern) => {
    const run = await cli(['images', ...hostArgs(), ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(pattern);
    expect(run.stdout).toBe('');
  });

  it('a host that cannot be read: the others are listed, its error is one line on stderr, exit code 1', async () => {
    const run = await cli(['images', ...hostArgs(), '--host', `gone=unix://${join(slow.dir, 'missing.sock')}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^fleetgraph: host "gone": .*\[HOST_UNREACHABLE\]\n$/);
    expect(new Set(tableRows(run.stdout).slice(1).map((r) => r[0]))).toEqual(new Set(fleetEngines().map((e) => e.name)));
  });
});

describe('fleetgraph query', () => {
  const QUERY = 'query ($f: ImageFilter) { images(filter: $f, orderBy: [{ field: SIZE }]) { nodes { host { name } id size repoTags } } }';

  it('--format json prints the whole answer; --variables are passed', async () => {
    const run = await cli(['query', QUERY, '--variables', '{"f": {"reference": ["fleet/base"]}}', ...hostArgs()]);
    expect(run.code, run.stderr).toBe(0);
    const body = JSON.parse(run.stdout) as { data: { images: { nodes: Array<{ host: { name: string }; id: string }> } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    const alpha = await engineGet<RawImage[]>(fleetEngines()[0]!.socket, '/images/json?filters=' + encodeURIComponent('{"reference":["fleet/base"]}'));
    expect(body.data.images.nodes.map((n) => n.host.name)).toEqual(fleetEngines().map((e) => e.name).sort());
    expect(body.data.images.nodes[0]!.id).toBe(alpha[0]!.Id);
  });

  it('--format table prints the images nodes as columns, sizes as docker images writes them', async () => {
    const run = await cli(['query', QUERY, '--format', 'table', ...hostArgs()]);
    expect(run.code, run.stderr).toBe(0);
    const rows = tableRows(run.stdout);
    expect(rows[0]).toEqual(['HOST.NAME', 'ID', 'SIZE', 'REPOTAGS']);
    for (const engine of fleetEngines()) {
      const docker = await dockerImages(engine);
      const sizeById = new Map(docker.map((d) => [d[2], d[4]]));
      const mine = rows.slice(1).filter((r) => r[0] === engine.name);
      expect(mine.length).toBe(new Set(docker.map((d) => d[2])).size);
      for (const r of mine) expect(r[2]).toBe(sizeById.get(r[1]!.replace('sha256:', '').slice(0, 12)));
    }
  });

  it('runs with tokens configured: they guard the HTTP API, not whoever runs the CLI with the configuration', async () => {
    const run = await cli(['query', '{ hosts { name } }', ...hostArgs()], { env: { FLEETGRAPH_AUTH_TOKENS: 'Zq9XwV7kLp3MnB5tYc2R hosts=alpha' } });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ data: { hosts: fleetEngines().map((e) => ({ name: e.name })) } });
  });

  it('an invalid operation: its errors, exit code 1; bad --variables: exit code 2', async () => {
    const bad = await cli(['query', '{ images { nope } }', ...hostArgs()]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ errors: [{ message: expect.stringContaining('nope') }] });
    const vars = await cli(['query', QUERY, '--variables', '{f:', ...hostArgs()]);
    expect(vars.code).toBe(2);
    expect(vars.stderr).toBe('fleetgraph: --variables: not valid JSON (e.g. \'{"first": 5}\')\n');
  });
});

describe('--help and progress', () => {
  it.each(['serve', 'hosts', 'query', 'images', 'schema'])('fleetgraph %s --help describes the command and exits 0', async (command) => {
    const run = await cli([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: fleetgraph ${command} `));
    if (command !== 'schema') expect(run.stdout).toContain('--host <name=endpoint>');
  });

  it('a slow host: progress on a terminal (stderr a TTY), nothing on stderr when piped', async () => {
    const args = ['hosts', '--host', `slow=${slow.endpoint}`, '--host', `alpha=${fleetEngines()[0]!.endpoint}`];
    const piped = await cli(args);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe('');
    // util-linux script(1) gives the command a pseudo-terminal: stdout and stderr both reach it
    const tty = await cli(['-qec', [process.execPath, join(process.cwd(), 'dist/src/cli.js'), ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], { command: 'script' });
    expect(tty.code, tty.stdout).toBe(0);
    expect(tty.stdout).toMatch(/checking hosts: 1\/2 done \(\d\.\d s\)/);
    expect(tty.stdout).toContain('\x1b[2K');
    expect(tty.stdout).toMatch(/slow\s+UP/);
  });
});
