import { createHmac } from 'node:crypto';

/**
 * OpenSSH known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), just enough to verify a server's
 * host key the way `ssh` does with StrictHostKeyChecking=yes.
 *
 * Our own code, not a package: the one npm package for it (`known-hosts` 0.1.0) reads the current
 * user's file when imported, knows neither hashed names, ports nor @revoked, and has had no release
 * since; this is the ~60 lines we need.
 *
 * What is supported: comma-separated host patterns (`host` for port 22, `[host]:port` otherwise), the
 * wildcards `*` and `?` and negated `!pattern`s, hashed names (`|1|salt|hmac`, HMAC-SHA1 keyed by the
 * salt over the name as `ssh` would look it up), comments and blank lines, and `@revoked` (a revoked key
 * is refused even where another line trusts it).
 * Not supported: `@cert-authority` lines are skipped, since ssh2 does not negotiate host certificates
 * (so a host trusted only through a CA is refused); and unlike `ssh` with CheckHostIP, a name is not
 * also looked up by its resolved address. Malformed lines are skipped, as `ssh` does: a skipped line
 * can only take trust away.
 */
export interface KnownHostsLine {
  revoked: boolean;
  /** true when the host field matches the name `ssh` would look up (see {@link knownHostsName}) */
  matches(name: string): boolean;
  /** the key blob (SSH wire format, which starts with the key type), i.e. the base64 field decoded */
  key: Buffer;
}

/**
 * Whether a host key may be used: 'trusted', or why not (in words fit for a client: they name neither
 * the host nor the file). 'no known_hosts file' is for callers that have no file to check against.
 */
export type HostKeyVerdict = 'trusted' | 'not in known_hosts' | 'changed' | 'revoked' | 'no known_hosts file';

/** The name a known_hosts line is matched against: `host` on port 22, `[host]:port` otherwise; lowercase, as `ssh` does. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A glob with `*` and `?` only (OpenSSH's match_pattern), case-insensitive. */
function glob(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hostMatcher(field: string): ((name: string) => boolean) | undefined {
  if (field.startsWith('|')) {
    // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
    const [, magic, salt, hash] = field.split('|');
    if (magic !== '1' || !salt || !hash || !BASE64.test(salt) || !BASE64.test(hash)) return undefined;
    const key = Buffer.from(salt, 'base64');
    const expected = Buffer.from(hash, 'base64');
    return (name) => createHmac('sha1', key).update(name).digest().equals(expected);
  }
  const patterns = field.split(',').filter(Boolean);
  if (!patterns.length) return undefined;
  const negative = patterns.filter((p) => p.startsWith('!')).map((p) => glob(p.slice(1)));
  const positive = patterns.filter((p) => !p.startsWith('!')).map(glob);
  // as OpenSSH's match_hostname: any negated match rules the line out, whatever else matches
  return (name) => !negative.some((re) => re.test(name)) && positive.some((re) => re.test(name));
}

export function parseKnownHosts(text: string): KnownHostsLine[] {
  const lines: KnownHostsLine[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) continue;
    let revoked = false;
    if (fields[0].startsWith('@')) {
      // @cert-authority (and any marker we do not know) is skipped: see the module comment
      if (fields[0] !== '@revoked') continue;
      revoked = true;
      fields.shift();
    }
    const [hosts, , blob] = fields;
    if (!hosts || !blob || !BASE64.test(blob)) continue;
    const matches = hostMatcher(hosts);
    if (matches) lines.push({ revoked, matches, key: Buffer.from(blob, 'base64') });
  }
  return lines;
}

/** `key` is the server's host key blob, as ssh2's hostVerifier gets it (no hostHash). */
export function checkHostKey(lines: readonly KnownHostsLine[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const forHost = lines.filter((l) => l.matches(name));
  if (forHost.some((l) => l.revoked && l.key.equals(key))) return 'revoked';
  if (forHost.some((l) => !l.revoked && l.key.equals(key))) return 'trusted';
  return forHost.some((l) => !l.revoked) ? 'changed' : 'not in known_hosts';
}
