import { z } from 'zod';
import { check, fail, firstIssue, hostNameSchema } from './config-hosts.js';

export interface AuthToken {
  token: string;
  /** Host names this token may see; undefined means every host. */
  hosts?: string[];
}

/** A token and where it was configured ("--auth-token-file f line 3"), for errors that must not quote it. */
export type SourcedToken = AuthToken & { where: string };

/**
 * RFC 6750's b64token, the only form an `Authorization: Bearer` header can carry. It has no space, `,`
 * or `;`, so the separators of FLEETGRAPH_AUTH_TOKENS and the token file can never be read as part of one.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

// No message here may quote the value: a token must never reach a log or a terminal.
export const tokenSchema = z
  .object({
    token: z
      .string()
      .min(16, 'a token has at least 16 characters')
      .regex(B64TOKEN, 'a token is made of A-Z a-z 0-9 - . _ ~ + / (and = at the end), with no spaces, "," or ";"'),
    hosts: z.array(hostNameSchema).min(1, 'hosts names no host').optional(),
  })
  .strict();

/**
 * One entry, `TOKEN` or `TOKEN hosts=a,b`, parsed exactly: a second word that is not `hosts=`, a repeated
 * `hosts=`, an empty host name or a character outside the token alphabet is refused, naming `where` only.
 */
function parseEntry(text: string, where: string): SourcedToken {
  const [token, ...rest] = text.trim().split(/\s+/);
  let hosts: string[] | undefined;
  rest.forEach((part, i) => {
    const m = /^hosts=(.*)$/.exec(part);
    if (!m) fail(where, `word ${i + 2} is not hosts=a,b (the form is "TOKEN [hosts=a,b]", a token has no spaces)`);
    if (hosts) fail(where, 'hosts= is given twice (list every host in one hosts=a,b)');
    hosts = m[1]!.split(',');
  });
  const parsed = check(tokenSchema, { token, ...(hosts ? { hosts } : {}) });
  if (!parsed.success) fail(where, firstIssue(parsed.error));
  return { ...parsed.data, where };
}

/** The token file: one entry per line. Blank lines and `#` comments are ignored. */
export function parseTokenFile(text: string, source: string): SourcedToken[] {
  const tokens: SourcedToken[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed && !trimmed.startsWith('#')) tokens.push(parseEntry(trimmed, `${source} line ${i + 1}`));
  });
  return tokens;
}

/** FLEETGRAPH_AUTH_TOKENS: entries of the token file's form separated by `;` or newlines (commas only inside hosts=). */
export function parseTokenEnv(value: string, source = 'FLEETGRAPH_AUTH_TOKENS'): SourcedToken[] {
  return value
    .split(/;|\r?\n/)
    .map((entry, i) => ({ entry: entry.trim(), where: `${source} entry ${i + 1}` }))
    .filter(({ entry }) => entry !== '')
    .map(({ entry, where }) => parseEntry(entry, where));
}

/**
 * All tokens from every source: a token given twice (in one source or across them) is refused, as is a
 * scope naming a host that is not configured; both errors name where, never the token.
 */
export function checkTokens(tokens: readonly SourcedToken[], hostNames: ReadonlySet<string>): AuthToken[] {
  const first = new Map<string, string>();
  for (const t of tokens) {
    const earlier = first.get(t.token);
    if (earlier) fail(t.where, `the same token as ${earlier} (each token once, with all its hosts)`);
    first.set(t.token, t.where);
    const unknown = (t.hosts ?? []).findIndex((h) => !hostNames.has(h));
    if (unknown >= 0) fail(t.where, `hosts= item ${unknown + 1} is not a configured host (configured: ${[...hostNames].join(', ')})`);
  }
  return tokens.map(({ token, hosts }) => (hosts ? { token, hosts } : { token }));
}
