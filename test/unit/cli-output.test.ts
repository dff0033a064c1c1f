import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { humanDuration, humanSize, table } from '../../src/commands/format.js';
import { imageFilter, imageRows, imagesTable, type ImageNode } from '../../src/commands/images.js';
import { withDockerContextsValue } from '../../src/commands/options.js';
import { dataTables, parseVariables } from '../../src/commands/query.js';
import { loadConfig } from '../../src/config.js';
import { UsageError } from '../../src/commands/usage-error.js';

/** The CLI's pure parts: docker's words for sizes and ages, filters, rows, and the contexts flag. */

describe('docker units (go-units, as `docker images` prints them)', () => {
  it.each([
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [1234, '1.23kB'],
    [65, '65B'],
    [72_800_000, '72.8MB'],
    [133_000_000, '133MB'],
    [999_900, '1e+03kB'],
    [5_368_709_120, '5.37GB'],
  ])('%i bytes -> %s', (bytes, text) => expect(humanSize(bytes)).toBe(text));

  it.each([
    [500, 'Less than a second'],
    [1000, '1 second'],
    [59_000, '59 seconds'],
    [60_000, 'About a minute'],
    [59 * 60_000, '59 minutes'],
    [89 * 60_000, 'About an hour'],
    [90 * 60_000, '2 hours'],
    [47 * 3_600_000, '47 hours'],
    [48 * 3_600_000, '2 days'],
    [14 * 86_400_000, '2 weeks'],
    [60 * 86_400_000, '2 months'],
    [800 * 86_400_000, '2 years'],
  ])('%i ms -> %s', (ms, text) => expect(humanDuration(ms)).toBe(text));

  it('pads columns as the docker CLI tabwriter does (minimum width 10, three spaces)', () => {
    expect(table(['A', 'LONGER'], [['x', 'y'], ['wider-than-ten', 'z']])).toBe(`${'A'.padEnd(17)}LONGER\n${'x'.padEnd(17)}y\nwider-than-ten   z\n`);
  });
});

describe('images', () => {
  it('maps docker images --filter entries onto ImageFilter', () => {
    expect(imageFilter(['reference=fleet/*', 'reference=x', 'label=a=b', 'label=c', 'dangling=true', 'before=a:1', 'since=b:2'])).toEqual({
      reference: ['fleet/*', 'x'],
      label: ['a=b', 'c'],
      dangling: true,
      before: 'a:1',
      since: 'b:2',
    });
    expect(imageFilter(['dangling=0'])).toEqual({ dangling: false });
    expect(() => imageFilter(['until=1h'])).toThrow(UsageError);
    expect(() => imageFilter(['label'])).toThrow(/--filter "label": expected label=value/);
    expect(() => imageFilter(['before=a', 'before=b'])).toThrow(/before is given twice/);
  });

  const node = (repoTags: string[], repoDigests: string[] = []): ImageNode => ({
    host: { name: 'h' },
    id: `sha256:${'ab'.repeat(32)}`,
    repoTags,
    repoDigests,
    created: 0,
    createdAt: '1970-01-01T00:00:00Z',
    size: 1,
    labels: [],
  });

  it('makes rows as the docker CLI: per tag, registry ports kept, digest-only repositories as <none>, untagged as <none> <none>', () => {
    expect(imageRows(node(['localhost:5000/a/b:1', 'c:latest'], ['c@sha256:1', 'd@sha256:2']))).toEqual([
      { repository: 'localhost:5000/a/b', tag: '1' },
      { repository: 'c', tag: 'latest' },
      { repository: 'd', tag: '<none>' },
    ]);
    expect(imageRows(node([]))).toEqual([{ repository: '<none>', tag: '<none>' }]);
  });

  it('with reference filters, shows only the references that matched (as the engine trims RepoTags)', () => {
    const text = imagesTable([node(['fleet/tools:1', 'registry.local:5000/fleet/tools:1'])], ['fleet/*'], 0);
    expect(text).toContain('fleet/tools');
    expect(text).not.toContain('registry.local');
  });
});

describe('query', () => {
  it('prints connection nodes as columns, nested leaves dotted, sizes in docker units, lists joined', () => {
    const text = dataTables({ images: { nodes: [{ host: { name: 'a' }, size: 72_800_000, repoTags: ['x:1', 'y:2'] }] } });
    expect(text).toBe('HOST.NAME   SIZE      REPOTAGS\na           72.8MB    x:1,y:2\n');
  });

  it('--variables must be a JSON object', () => {
    expect(parseVariables('{"a":1}')).toEqual({ a: 1 });
    expect(parseVariables(undefined)).toBeUndefined();
    expect(() => parseVariables('[1]')).toThrow(/expected a JSON object/);
    expect(() => parseVariables('{')).toThrow(/not valid JSON/);
  });
});

describe('--docker-contexts', () => {
  it('a bare flag never takes the next word as its value', () => {
    expect(withDockerContextsValue(['query', '--docker-contexts', '{ hosts { name } }'])).toEqual(['query', '--docker-contexts=true', '{ hosts { name } }']);
    expect(withDockerContextsValue(['--docker-contexts=all'])).toEqual(['--docker-contexts=all']);
    expect(withDockerContextsValue(['query', '--', '--docker-contexts'])).toEqual(['query', '--', '--docker-contexts']);
  });

  const dir = mkdtempSync(join(tmpdir(), 'fleetgraph-contexts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A context as `docker context create` stores it (its layout is checked against the real CLI in test/e2e). */
  function context(name: string, meta: object): void {
    const id = createHash('sha256').update(name).digest('hex');
    mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(dir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, ...meta }));
  }

  it('reads name and endpoint; SkipTLSVerify turns TLS on without verification; a context without a docker endpoint is left out', () => {
    context('b-unix', { Endpoints: { docker: { Host: 'unix:///b.sock', SkipTLSVerify: false } } });
    context('a-tcp', { Endpoints: { docker: { Host: 'tcp://127.0.0.1:2375', SkipTLSVerify: true } } });
    context('k8s-only', { Endpoints: { kubernetes: { Host: 'https://k' } } });
    // DOCKER_CERT_PATH and DOCKER_TLS_VERIFY are for DOCKER_HOST; the docker CLI does not apply them to contexts
    const config = loadConfig({ dockerContexts: true }, { DOCKER_CONFIG: dir, DOCKER_CERT_PATH: join(dir, 'nowhere'), DOCKER_TLS_VERIFY: '1' });
    expect(config.hosts.map((h) => [h.name, h.endpoint, h.tls?.verify])).toEqual([
      ['a-tcp', 'tcp://127.0.0.1:2375', false],
      ['b-unix', 'unix:///b.sock', undefined],
    ]);
  });

  it('the config file key is validated like the flag', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'dockerContexts: yes please\n');
    expect(() => loadConfig({ configFile: file }, { DOCKER_CONFIG: dir })).toThrow(/config file .*bad.yaml: dockerContexts: expected true, false or "all"/);
    expect(() => loadConfig({ dockerContexts: 'some' }, { DOCKER_CONFIG: dir })).toThrow(/^--docker-contexts: expected true, false or "all"$/);
  });

  it('a name in both a context and --host is a duplicate', () => {
    expect(() => loadConfig({ dockerContexts: true, hosts: ['a-tcp=unix:///x.sock'] }, { DOCKER_CONFIG: dir })).toThrow(/host "a-tcp": duplicate host name/);
  });
});
