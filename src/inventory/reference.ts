/**
 * Image references as Docker reads them: familiar ("nginx:latest") and canonical
 * ("docker.io/library/nginx:latest") forms, and Go's path.Match, which Docker's `reference` filter uses.
 * Docker answers in familiar form and Podman in canonical form; matching both makes the same filter
 * select the same images on either.
 */

export interface ParsedRef {
  /** Registry host, e.g. docker.io, localhost:5000. */
  domain: string;
  /** Repository path, e.g. library/nginx. */
  path: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';

export function parseReference(ref: string): ParsedRef {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first === 'index.docker.io' ? DEFAULT_DOMAIN : first;
    path = rest.slice(slash + 1);
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

function suffix(r: ParsedRef): string {
  return `${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

export function canonicalName(r: ParsedRef): string {
  return `${r.domain}/${r.path}`;
}

export function familiarName(r: ParsedRef): string {
  if (r.domain !== DEFAULT_DOMAIN) return canonicalName(r);
  return r.path.startsWith('library/') && r.path.indexOf('/', 8) < 0 ? r.path.slice(8) : r.path;
}

/** The strings a reference filter pattern is matched against: familiar and canonical, with and without tag. */
export function matchForms(ref: string): string[] {
  const r = parseReference(ref);
  const forms = [familiarName(r) + suffix(r), familiarName(r), canonicalName(r) + suffix(r), canonicalName(r)];
  return [...new Set(forms)];
}

export class BadPatternError extends Error {
  override name = 'BadPatternError';
}

/**
 * A path.Match pattern scanned into its chunks once, and checked for syntax errors once: matching it
 * against many names then does only the matching (Go's path.Match rescans the pattern on every call).
 */
export interface CompiledPattern {
  readonly pattern: string;
  readonly chunks: ReadonlyArray<{ star: boolean; chunk: string }>;
}

/** Throws BadPatternError when `pattern` is not a valid path.Match pattern. */
export function compilePattern(pattern: string): CompiledPattern {
  const chunks: Array<{ star: boolean; chunk: string }> = [];
  let p = pattern;
  while (p.length > 0) {
    const { star, chunk, rest } = scanChunk(p);
    p = rest;
    matchChunk(chunk, '');
    chunks.push({ star, chunk });
  }
  return { pattern, chunks };
}

/** Go's path.Match over a compiled pattern, ported line by line so patterns behave exactly as in Docker's reference filter. */
export function matchCompiled(compiled: CompiledPattern, name: string): boolean {
  const { chunks } = compiled;
  let s = name;
  pattern: for (let c = 0; c < chunks.length; c++) {
    const { star, chunk } = chunks[c]!;
    const more = c < chunks.length - 1;
    if (star && chunk === '') return !s.includes('/');
    const first = matchChunk(chunk, s);
    if (first !== null && (first.length === 0 || more)) {
      s = first;
      continue;
    }
    if (star) {
      for (let i = 0; i < s.length && s[i] !== '/'; i++) {
        const t = matchChunk(chunk, s.slice(i + 1));
        if (t !== null) {
          if (!more && t.length > 0) continue;
          s = t;
          continue pattern;
        }
      }
    }
    return false;
  }
  return s.length === 0;
}

/** Go's path.Match: throws BadPatternError for a malformed pattern, as Go returns ErrBadPattern. */
export function pathMatch(pattern: string, name: string): boolean {
  return matchCompiled(compilePattern(pattern), name);
}

/** Throws BadPatternError when `pattern` is not a valid path.Match pattern. */
export function validatePattern(pattern: string): void {
  compilePattern(pattern);
}

function scanChunk(pattern: string): { star: boolean; chunk: string; rest: string } {
  let p = pattern;
  let star = false;
  while (p.length > 0 && p[0] === '*') {
    p = p.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case '\\':
        if (i + 1 < p.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunk: p.slice(0, i), rest: p.slice(i) };
}

/** Returns the rest of `s` after matching `chunk`, or null; throws on a malformed chunk. */
function matchChunk(chunkIn: string, sIn: string): string | null {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0];
    if (c === '[') {
      let r = '';
      if (!failed) {
        r = String.fromCodePoint(s.codePointAt(0)!);
        s = s.slice(r.length);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk.length > 0 && chunk[0] === '^') {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) {
          chunk = chunk.slice(1);
          break;
        }
        const lo = getEsc(chunk);
        chunk = lo.rest;
        let hi = lo.r;
        if (chunk[0] === '-') {
          const h = getEsc(chunk.slice(1));
          hi = h.r;
          chunk = h.rest;
        }
        if (!failed && lo.r <= r && r <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(String.fromCodePoint(s.codePointAt(0)!).length);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === '\\') {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new BadPatternError('syntax error in pattern');
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  return failed ? null : s;
}

function getEsc(chunkIn: string): { r: string; rest: string } {
  let chunk = chunkIn;
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new BadPatternError('syntax error in pattern');
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw new BadPatternError('syntax error in pattern');
  }
  const r = String.fromCodePoint(chunk.codePointAt(0)!);
  const rest = chunk.slice(r.length);
  if (rest.length === 0) throw new BadPatternError('syntax error in pattern');
  return { r, rest };
}

/** Does `pattern` (Docker's reference filter) match any of an image's tags or digests? */
export function referenceMatches(pattern: string | CompiledPattern, refs: readonly string[]): boolean {
  const compiled = typeof pattern === 'string' ? compilePattern(pattern) : pattern;
  return refs.some((ref) => matchForms(ref).some((form) => matchCompiled(compiled, form)));
}

const HEX_ID = /^(sha256:)?[a-f0-9]{1,64}$/;

/**
 * Resolves a reference the way Docker's GetImage does, over one host's image list: a full or
 * prefixed ID (with or without "sha256:"), name[:tag] (tag defaults to latest), or name@digest.
 * Returns the matching image IDs (more than one only for an ambiguous ID prefix).
 */
export function resolveReference(ref: string, images: ReadonlyArray<{ id: string; repoTags: readonly string[]; repoDigests: readonly string[] }>): string[] {
  const byName = (() => {
    if (ref.includes('@')) {
      const want = parseReference(ref);
      return images.filter((i) =>
        i.repoDigests.some((d) => {
          const r = parseReference(d);
          return canonicalName(r) === canonicalName(want) && r.digest === want.digest;
        }),
      );
    }
    const want = parseReference(ref);
    const tag = want.tag ?? 'latest';
    return images.filter((i) =>
      i.repoTags.some((t) => {
        const r = parseReference(t);
        return canonicalName(r) === canonicalName(want) && (r.tag ?? 'latest') === tag;
      }),
    );
  })();
  if (byName.length > 0) return byName.map((i) => i.id);
  if (HEX_ID.test(ref)) {
    const prefix = ref.startsWith('sha256:') ? ref : `sha256:${ref}`;
    return images.filter((i) => i.id.startsWith(prefix)).map((i) => i.id);
  }
  return [];
}
