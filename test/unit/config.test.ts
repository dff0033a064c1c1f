import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseTokenFile } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetgraph-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('loadConfig', () => {
  it('takes hosts from --host first, then FLEETGRAPH_HOSTS, then the file, then DOCKER_HOST', () => {
    const cfg = file('a.yaml', 'hosts:\n  - name: f1\n    endpoint: unix:///f1.sock\n    timeoutMs: 1234\n');
    expect(loadConfig({ hosts: ['c=unix:///c.sock'], configFile: cfg }, { FLEETGRAPH_HOSTS: 'e=unix:///e.sock' }).hosts.map((h) => h.name)).toEqual(['c']);
    expect(loadConfig({ configFile: cfg }, { FLEETGRAPH_HOSTS: 'e1=unix:///e.sock, e2=tcp://127.0.0.1:2375' }).hosts.map((h) => h.name)).toEqual(['e1', 'e2']);
    const fromFile = loadConfig({ configFile: cfg }, {});
    expect(fromFile.hosts).toMatchObject([{ name: 'f1', endpoint: 'unix:///f1.sock', timeoutMs: 1234 }]);
    expect(loadConfig({}, { DOCKER_HOST: 'tcp://127.0.0.1:2375' }).hosts).toMatchObject([{ name: 'local', endpoint: 'tcp://127.0.0.1:2375' }]);
    expect(loadConfig({}, {}).hosts).toMatchObject([{ name: 'local', endpoint: 'unix:///var/run/docker.sock', timeoutMs: 5000 }]);
  });

  it('accepts JSON files and the name: endpoint map form', () => {
    const json = file('b.json', JSON.stringify({ hosts: { x: 'unix:///x.sock' }, hostTimeoutMs: 700 }));
    expect(loadConfig({ configFile: json }, {}).hosts).toMatchObject([{ name: 'x', timeoutMs: 700 }]);
  });

  it('applies per-host file options to CLI hosts of the same name', () => {
    const cfg = file('c.yaml', 'hosts:\n  - name: p\n    endpoint: unix:///p.sock\n    timeoutMs: 99\n');
    expect(loadConfig({ hosts: ['p=unix:///other.sock'], configFile: cfg }, {}).hosts).toMatchObject([{ name: 'p', endpoint: 'unix:///other.sock', timeoutMs: 99 }]);
  });

  it('reads TLS files from certPath (DOCKER_CERT_PATH layout)', () => {
    const certs = mkdtempSync(join(dir, 'certs-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(certs, f), f);
    const cfg = file('t.yaml', `hosts:\n  - name: t\n    endpoint: tcp://127.0.0.1:2376\n    tls: { certPath: ${certs} }\n`);
    const tls = loadConfig({ configFile: cfg }, {}).hosts[0]!.tls!;
    expect([tls.ca?.toString(), tls.cert?.toString(), tls.key?.toString()]).toEqual(['ca.pem', 'cert.pem', 'key.pem']);
    expect(loadConfig({ hosts: ['t=tcp://127.0.0.1:2376'] }, { DOCKER_CERT_PATH: certs }).hosts[0]!.tls?.ca?.toString()).toBe('ca.pem');
  });

  const bad: Array<[string, () => unknown, RegExp]> = [
    ['duplicate names', () => loadConfig({ hosts: ['a=unix:///a', 'a=unix:///b'] }, {}), /host "a": duplicate host name/],
    ['unknown scheme', () => loadConfig({ hosts: ['a=ftp://x'] }, {}), /host "a": unknown scheme "ftp"/],
    ['malformed entry', () => loadConfig({ hosts: ['justaname'] }, {}), /--host "justaname": expected name=endpoint/],
    ['bad name', () => loadConfig({}, { FLEETGRAPH_HOSTS: 'b@d=unix:///x' }), /FLEETGRAPH_HOSTS entry "b@d=unix:\/\/\/x"/],
    ['unreadable cert', () => loadConfig({ configFile: file('u.yaml', 'hosts:\n  - name: u\n    endpoint: https://h\n    tls: { ca: /nonexistent/ca.pem }\n') }, {}), /host "u": cannot read CA file \/nonexistent\/ca.pem \(ENOENT\)/],
    ['unknown key in a file host', () => loadConfig({ configFile: file('k.yaml', 'hosts:\n  - name: k\n    endpoint: unix:///k\n    colour: red\n') }, {}), /host "k": .*colour/],
    ['missing config file', () => loadConfig({ configFile: join(dir, 'nope.yaml') }, {}), /config file .*nope.yaml: cannot read it \(ENOENT\)/],
    ['invalid YAML', () => loadConfig({ configFile: file('y.yaml', 'hosts: [\n') }, {}), /not valid YAML/],
    ['public listen without tokens', () => loadConfig({ listen: '0.0.0.0' }, {}), /refusing to serve a non-loopback address/],
    ['token scoped to an unknown host', () => loadConfig({ hosts: ['a=unix:///a'] }, { FLEETGRAPH_AUTH_TOKENS: '0123456789abcdef0123 hosts=zzz' }), /unknown host "zzz"/],
  ];
  it.each(bad)('refuses %s with one line naming the entry', (_what, run, message) => {
    let err: unknown;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('allows a public listen address with tokens or --insecure-no-auth', () => {
    expect(loadConfig({ listen: '0.0.0.0', insecureNoAuth: true }, {}).listen).toBe('0.0.0.0');
    expect(loadConfig({ listen: '0.0.0.0' }, { FLEETGRAPH_AUTH_TOKENS: '0123456789abcdef0123' }).tokens).toHaveLength(1);
  });
});

describe('parseTokenFile', () => {
  it('reads tokens with optional host scopes, skipping comments', () => {
    expect(parseTokenFile('# ops\n0123456789abcdef0123\n\nfedcba9876543210fedc hosts=a,b\n', 'f')).toEqual([
      { token: '0123456789abcdef0123' },
      { token: 'fedcba9876543210fedc', hosts: ['a', 'b'] },
    ]);
    expect(() => parseTokenFile('short\n', 'f')).toThrow(/f line 1: .*16 characters/);
  });
});
