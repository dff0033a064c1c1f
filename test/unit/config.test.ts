import { mkdtempSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { scratchDir } from '../helpers/scratch.js';

const dir = scratchDir('fleetgraph-config-');
function file(name: string, text: string): string {
  const p = join(dir(), name);
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
    const certs = mkdtempSync(join(dir(), 'certs-'));
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
    ['missing config file', () => loadConfig({ configFile: join(dir(), 'nope.yaml') }, {}), /config file .*nope.yaml: cannot read it \(ENOENT\)/],
    ['invalid YAML', () => loadConfig({ configFile: file('y.yaml', 'hosts: [\n') }, {}), /not valid YAML/],
    ['public listen without tokens', () => loadConfig({ listen: '0.0.0.0' }, {}), /refusing to serve a non-loopback address/],
    ['token scoped to an unknown host', () => loadConfig({ hosts: ['a=unix:///a'] }, { FLEETGRAPH_AUTH_TOKENS: '0123456789abcdef0123 hosts=zzz' }), /FLEETGRAPH_AUTH_TOKENS entry 1: hosts= item 1 is not a configured host \(configured: a\)/],
    // issue 8 §3: flags go through the file's schema, with its bounds
    ['--host-timeout past the cap', () => loadConfig({ hostTimeoutMs: '3000000000' }, {}), /^--host-timeout: must be at most 600000$/],
    ['--host-timeout 0', () => loadConfig({ hostTimeoutMs: '0' }, {}), /^--host-timeout: must be at least 1$/],
    ['--max-images 0', () => loadConfig({ maxImages: '0' }, {}), /^--max-images: must be at least 1$/],
    ['--max-depth 0', () => loadConfig({ limits: { maxDepth: '0' } }, {}), /^--max-depth: must be at least 1$/],
    ['--max-tokens 0', () => loadConfig({ limits: { maxTokens: '0' } }, {}), /^--max-tokens: must be at least 1$/],
    ['--max-cost 0', () => loadConfig({ limits: { maxCost: '0' } }, {}), /^--max-cost: must be at least 1$/],
    ['--max-body-bytes 0', () => loadConfig({ limits: { maxBodyBytes: '0' } }, {}), /^--max-body-bytes: must be at least 1$/],
    ['--max-aliases past the cap', () => loadConfig({ limits: { maxAliases: '100000' } }, {}), /^--max-aliases: must be at most 1000$/],
    ['--max-aliases negative', () => loadConfig({ limits: { maxAliases: '-1' } }, {}), /^--max-aliases: "-1" is not a whole number$/],
    ['--port past 65535', () => loadConfig({ port: '70000' }, {}), /^--port: must be at most 65535$/],
    ['--port not a number', () => loadConfig({ port: 'eighty' }, {}), /^--port: "eighty" is not a whole number$/],
    ['--max-images 1.5', () => loadConfig({ maxImages: '1.5' }, {}), /^--max-images: "1.5" is not a whole number$/],
    ['the same bound in the file', () => loadConfig({ configFile: file('cap.yaml', 'hostTimeoutMs: 3000000000\n') }, {}), /config file .*cap.yaml: hostTimeoutMs: must be at most 600000$/],
    ['a file limit of 0', () => loadConfig({ configFile: file('lim.yaml', 'limits: { maxDepth: 0 }\n') }, {}), /config file .*lim.yaml: limits.maxDepth: must be at least 1$/],
    // a host entry's errors name the entry and the key
    ['a misspelt key in a host entry', () => loadConfig({ configFile: file('e1.yaml', 'hosts:\n  - name: e1\n    endpiont: unix:///e1.sock\n') }, {}), /^host "e1": unknown key "endpiont"$/],
    ['a wrong type in a host entry', () => loadConfig({ configFile: file('e2.yaml', 'hosts:\n  - name: e2\n    endpoint: unix:///e2.sock\n    timeoutMs: fast\n') }, {}), /^host "e2": timeoutMs: "fast" is not a whole number$/],
    ['a bad endpoint in the map form', () => loadConfig({ configFile: file('e3.yaml', 'hosts:\n  e3: ftp://x\n') }, {}), /^host "e3": endpoint: unknown scheme "ftp"/],
    ['a host entry without a name', () => loadConfig({ configFile: file('e4.yaml', 'hosts:\n  - endpoint: unix:///x\n') }, {}), /config file .*e4.yaml, hosts\[0\]: name: required$/],
    ['a misspelt key in a host\'s ssh block', () => loadConfig({ configFile: file('e5.yaml', 'hosts:\n  - name: e5\n    endpoint: ssh://u@h\n    ssh: { privateKeyPth: /k }\n') }, {}), /^host "e5": ssh: unknown key "privateKeyPth"$/],
    // an empty host list or file is refused, not served as `local`
    ['hosts: []', () => loadConfig({ configFile: file('h0.yaml', 'hosts: []\n') }, {}), /config file .*h0.yaml: hosts: is empty/],
    ['hosts: {}', () => loadConfig({ configFile: file('h1.yaml', 'hosts: {}\n') }, {}), /config file .*h1.yaml: hosts: is empty/],
    ['an empty config file', () => loadConfig({ configFile: file('empty.yaml', '# nothing yet\n') }, {}), /config file .*empty.yaml: is empty/],
    ['an empty JSON config file', () => loadConfig({ configFile: file('empty.json', '{}') }, {}), /config file .*empty.json: is empty/],
    ['FLEETGRAPH_HOSTS with no entry', () => loadConfig({}, { FLEETGRAPH_HOSTS: ' , ' }), /^FLEETGRAPH_HOSTS: names no host/],
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

  it('reads numbers given as strings (flags) and as numbers (file, callers) alike', () => {
    const cfg = loadConfig({ port: '0', hostTimeoutMs: ' 600000 ', maxImages: 5, limits: { maxAliases: '0', maxDepth: '3' } }, {});
    expect([cfg.port, cfg.hostTimeoutMs, cfg.maxImages, cfg.limits.maxAliases, cfg.limits.maxDepth, cfg.limits.maxCost]).toEqual([0, 600000, 5, 0, 3, 1_000_000]);
  });

  it('ssh:// without a user logs in as the current user, as ssh does', () => {
    const home = mkdtempSync(join(dir(), 'home-'));
    const me = userInfo().username;
    const [plain, withPort, explicit] = loadConfig({ hosts: ['a=ssh://edge-1', 'b=ssh://edge-2:2222', 'c=ssh://deploy@edge-3'] }, { HOME: home }).hosts;
    expect(plain!.endpoint).toBe(`ssh://${me}@edge-1`);
    expect(withPort!.endpoint).toBe(`ssh://${me}@edge-2:2222`);
    expect(explicit!.endpoint).toBe('ssh://deploy@edge-3');
  });

  it('allows a public listen address with tokens or --insecure-no-auth', () => {
    expect(loadConfig({ listen: '0.0.0.0', insecureNoAuth: true }, {}).listen).toBe('0.0.0.0');
    expect(loadConfig({ listen: '0.0.0.0' }, { FLEETGRAPH_AUTH_TOKENS: '0123456789abcdef0123' }).tokens).toHaveLength(1);
  });
});
