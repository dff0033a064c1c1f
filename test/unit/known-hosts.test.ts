/**
 * known_hosts parsing and host key checks (src/docker/known-hosts.ts). Keys are fresh ed25519 keys from
 * node:crypto, written as OpenSSH writes them; hashed names are made here with node:crypto and, as an
 * oracle no one here wrote, by `ssh-keygen -H`, whose `ssh-keygen -F` also says which lines OpenSSH
 * itself matches for a name.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { checkHostKey, knownHostsName, parseKnownHosts } from '../../src/docker/known-hosts.js';
import { scratchDir } from '../helpers/scratch.js';

const sshString = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => (b.length >>> (24 - 8 * i)) & 0xff)), b]);

/** A new ed25519 public key: its SSH wire blob (what ssh2 hands a hostVerifier) and its known_hosts key fields. */
function newKey(): { blob: Buffer; text: string } {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(Buffer.from(jwk.x!, 'base64url'))]);
  return { blob, text: `ssh-ed25519 ${blob.toString('base64')}` };
}

/** `|1|salt|hmac` as OpenSSH's HashKnownHosts writes it. */
function hashed(name: string, salt = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const A = newKey();
const B = newKey();
const check = (text: string, host: string, port: number, key: Buffer) => checkHostKey(parseKnownHosts(text), host, port, key);

const dir = scratchDir('fleetgraph-known-hosts-');

describe('known_hosts', () => {
  it('the key blob is the one ssh2 reads from the same line', () => {
    const parsed = ssh2.utils.parseKey(`${A.text} comment`);
    if (parsed instanceof Error) throw parsed;
    expect(parsed.getPublicSSH().equals(A.blob)).toBe(true);
    expect(parseKnownHosts(`edge-1 ${A.text}`)[0]!.key.equals(A.blob)).toBe(true);
  });

  it('names: host on port 22, [host]:port otherwise, lowercase', () => {
    expect(knownHostsName('Edge-1.example.com', 22)).toBe('edge-1.example.com');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(knownHostsName('::1', 2222)).toBe('[::1]:2222');
  });

  it('plain, comma-separated patterns match their host on port 22 only, case-insensitively', () => {
    const text = `edge-1.example.com,10.0.0.5 ${A.text} root@edge-1\n`;
    expect(check(text, 'edge-1.example.com', 22, A.blob)).toBe('trusted');
    expect(check(text, 'EDGE-1.example.com', 22, A.blob)).toBe('trusted');
    expect(check(text, '10.0.0.5', 22, A.blob)).toBe('trusted');
    expect(check(text, '10.0.0.6', 22, A.blob)).toBe('not in known_hosts');
    expect(check(text, 'edge-1', 22, A.blob)).toBe('not in known_hosts');
    expect(check(text, '10.0.0.5', 2222, A.blob)).toBe('not in known_hosts');
  });

  it('[host]:port matches that port only', () => {
    const text = `[10.0.0.5]:2222 ${A.text}`;
    expect(check(text, '10.0.0.5', 2222, A.blob)).toBe('trusted');
    expect(check(text, '10.0.0.5', 22, A.blob)).toBe('not in known_hosts');
    expect(check(text, '10.0.0.5', 2223, A.blob)).toBe('not in known_hosts');
    expect(check(`[::1]:2222 ${A.text}`, '::1', 2222, A.blob)).toBe('trusted');
  });

  it('hashed names (HMAC-SHA1 keyed by the salt) match only the name that was hashed', () => {
    const text = [`${hashed('[127.0.0.1]:2222')} ${A.text}`, `${hashed('edge-1.example.com')} ${B.text}`].join('\n');
    expect(check(text, '127.0.0.1', 2222, A.blob)).toBe('trusted');
    expect(check(text, '127.0.0.1', 22, A.blob)).toBe('not in known_hosts');
    expect(check(text, '127.0.0.2', 2222, A.blob)).toBe('not in known_hosts');
    expect(check(text, 'edge-1.example.com', 22, B.blob)).toBe('trusted');
    expect(check(text, 'edge-1.example.com', 22, A.blob)).toBe('changed');
    // not a hash of anything: a damaged line trusts no one
    expect(check(`|1|${randomBytes(20).toString('base64')}|!!! ${A.text}`, '127.0.0.1', 2222, A.blob)).toBe('not in known_hosts');
    expect(check(`|2|${hashed('x').slice(3)} ${A.text}`, 'x', 22, A.blob)).toBe('not in known_hosts');
  });

  it('names hashed by `ssh-keygen -H` are matched as OpenSSH matches them', () => {
    const file = join(dir(), 'hashed');
    writeFileSync(file, `edge-1.example.com ${A.text}\n[127.0.0.1]:2222 ${B.text}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'pipe' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('edge-1');
    expect(text).not.toContain('127.0.0.1');
    expect(text).toMatch(/^\|1\|/);
    expect(check(text, 'edge-1.example.com', 22, A.blob)).toBe('trusted');
    expect(check(text, '127.0.0.1', 2222, B.blob)).toBe('trusted');
    expect(check(text, '127.0.0.1', 22, B.blob)).toBe('not in known_hosts');
    expect(check(text, '127.0.0.1', 2222, A.blob)).toBe('changed');
  });

  it('a host known with another key is "changed", and is refused', () => {
    expect(check(`[127.0.0.1]:2222 ${A.text}`, '127.0.0.1', 2222, B.blob)).toBe('changed');
    // any line with the key is enough (a host may have several keys, one per type or in rotation)
    expect(check(`[127.0.0.1]:2222 ${A.text}\n[127.0.0.1]:2222 ${B.text}`, '127.0.0.1', 2222, B.blob)).toBe('trusted');
  });

  it('@revoked refuses a key even where another line trusts it; other keys of the host still count', () => {
    const text = `@revoked * ${A.text}\nedge-1 ${A.text}\nedge-1 ${B.text}\n`;
    expect(check(text, 'edge-1', 22, A.blob)).toBe('revoked');
    expect(check(text, 'edge-1', 22, B.blob)).toBe('trusted');
    expect(check(`@revoked ${hashed('edge-1')} ${A.text}\nedge-1 ${A.text}`, 'edge-1', 22, A.blob)).toBe('revoked');
    // revoked for another host only
    expect(check(`@revoked edge-2 ${A.text}\nedge-1 ${A.text}`, 'edge-1', 22, A.blob)).toBe('trusted');
    // a revocation alone does not make the host known
    expect(check(`@revoked * ${A.text}`, 'edge-1', 22, B.blob)).toBe('not in known_hosts');
  });

  it('comments, blank lines, CRLF, trailing comments, @cert-authority and malformed lines', () => {
    const text = [
      '# edge-1 ' + A.text,
      '',
      '   ',
      `@cert-authority edge-1 ${A.text}`,
      `@unknown-marker edge-1 ${A.text}`,
      'edge-1 ssh-ed25519',
      `edge-1 ssh-ed25519 not*base64`,
      `edge-3 ${B.text} a comment with spaces\r`,
      `\tedge-4   ${B.text}`,
    ].join('\r\n');
    expect(parseKnownHosts(text)).toHaveLength(2);
    expect(check(text, 'edge-1', 22, A.blob)).toBe('not in known_hosts');
    expect(check(text, 'edge-3', 22, B.blob)).toBe('trusted');
    expect(check(text, 'edge-4', 22, B.blob)).toBe('trusted');
    expect(check('', 'edge-1', 22, A.blob)).toBe('not in known_hosts');
  });

  it('wildcards and negations are matched as `ssh-keygen -F` matches them', () => {
    const lines = [`*.example.com,!bad.example.com ${A.text}`, `[10.0.0.?]:2222 ${A.text}`, `db-* ${A.text}`];
    const file = join(dir(), 'patterns');
    writeFileSync(file, lines.join('\n') + '\n');
    const lookups: Array<[string, number]> = [
      ['a.example.com', 22],
      ['x.y.example.com', 22],
      ['bad.example.com', 22],
      ['example.com', 22],
      ['a.example.com', 2222],
      ['10.0.0.7', 2222],
      ['10.0.0.17', 2222],
      ['10.0.0.7', 22],
      ['db-1', 22],
      ['DB-1', 22],
      ['db', 22],
    ];
    const text = lines.join('\n');
    const ours = lookups.map(([h, p]) => check(text, h, p, A.blob) === 'trusted');
    const openssh = lookups.map(([h, p]) => {
      try {
        execFileSync('ssh-keygen', ['-F', knownHostsName(h, p), '-f', file], { stdio: 'pipe' });
        return true;
      } catch (err) {
        if ((err as { status?: number }).status === 1) return false;
        throw err;
      }
    });
    expect(ours).toEqual(openssh);
    // and the expectations are not vacuous
    expect(ours).toEqual([true, true, false, false, false, true, false, false, true, true, false]);
  });
});
