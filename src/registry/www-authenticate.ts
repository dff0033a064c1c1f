/**
 * Module: the `WWW-Authenticate` challenge of a registry's 401 (RFC 7235 auth-params, as the Docker
 * token spec uses them: `Bearer realm="https://auth.example/token",service="registry.example",scope="…"`).
 * Hand-written: the npm parsers for it are unmaintained or parse far more (Digest, Negotiate); this one
 * reads only the first challenge, bounded in length and parameter count.
 */

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

const MAX_HEADER = 4096;
const MAX_PARAMS = 16;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/** The first challenge, or undefined when the header is missing, too long, malformed or of another scheme. */
export function parseChallenge(header: string | null | undefined): Challenge | undefined {
  if (!header || header.length > MAX_HEADER) return undefined;
  const m = /^\s*([A-Za-z]+)(?:\s+|$)/.exec(header);
  const scheme = m?.[1]?.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  let rest = header.slice(m![0].length);
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let n = 0; rest.trim() !== '' && n < MAX_PARAMS; n++) {
    const name = TOKEN.exec(rest)?.[0];
    if (!name) break;
    rest = rest.slice(name.length).replace(/^\s*=\s*/, (eq) => (eq ? '=' : ''));
    if (!rest.startsWith('=')) break;
    rest = rest.slice(1);
    let value: string;
    if (rest.startsWith('"')) {
      let i = 1;
      value = '';
      for (; i < rest.length && rest[i] !== '"'; i++) value += rest[i] === '\\' && i + 1 < rest.length ? rest[++i] : rest[i];
      if (i >= rest.length) return undefined;
      rest = rest.slice(i + 1);
    } else {
      value = TOKEN.exec(rest)?.[0] ?? '';
      rest = rest.slice(value.length);
    }
    params[name.toLowerCase()] = value;
    // The next parameter, or another challenge (which we do not read).
    const comma = /^\s*,\s*/.exec(rest);
    if (!comma) break;
    rest = rest.slice(comma[0].length);
  }
  return { scheme, params };
}
