import { describe, expect, it } from 'vitest';
import { BadPatternError, matchForms, parseReference, pathMatch, referenceMatches, resolveReference, validatePattern } from '../../src/inventory/reference.js';

describe('pathMatch (Go path.Match)', () => {
  // Cases from Go's src/path/match_test.go.
  const cases: Array<[string, string, boolean | 'err']> = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['a[!a]b', 'a☺b', false],
    ['*x', 'xxx', true],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'x', true],
    ['[\\-x]', 'a', false],
    ['[', 'a', 'err'],
    ['[^', 'a', 'err'],
    ['[^bc', 'a', 'err'],
    ['a[', 'a', 'err'],
    ['a[', 'ab', 'err'],
    ['a[', 'x', 'err'],
    ['a/b[', 'x', 'err'],
    ['*x', 'xxx', true],
  ];
  it.each(cases)('%s ~ %s', (pattern, name, want) => {
    if (want === 'err') {
      expect(() => pathMatch(pattern, name)).toThrow(BadPatternError);
      expect(() => validatePattern(pattern)).toThrow(BadPatternError);
    } else {
      expect(pathMatch(pattern, name)).toBe(want);
    }
  });
});

describe('references', () => {
  it('parses familiar and canonical forms alike', () => {
    expect(parseReference('nginx')).toEqual({ domain: 'docker.io', path: 'library/nginx' });
    expect(parseReference('docker.io/library/nginx:1.25')).toEqual({ domain: 'docker.io', path: 'library/nginx', tag: '1.25' });
    expect(parseReference('localhost:5000/a/b:x@sha256:00')).toEqual({ domain: 'localhost:5000', path: 'a/b', tag: 'x', digest: 'sha256:00' });
    expect(parseReference('fleet/app:1')).toEqual({ domain: 'docker.io', path: 'fleet/app', tag: '1' });
  });
  it('matches a pattern against familiar and canonical forms', () => {
    expect(matchForms('nginx:latest')).toEqual(['nginx:latest', 'nginx', 'docker.io/library/nginx:latest', 'docker.io/library/nginx']);
    expect(referenceMatches('nginx', ['docker.io/library/nginx:latest'])).toBe(true);
    expect(referenceMatches('docker.io/library/nginx:latest', ['nginx:latest'])).toBe(true);
    expect(referenceMatches('fleet/*', ['fleet/app:1'])).toBe(true);
    expect(referenceMatches('fleet/*:1', ['fleet/app:2'])).toBe(false);
    expect(referenceMatches('*', ['registry.local:5000/fleet/tools:1'])).toBe(false);
  });
  it('resolves IDs, prefixes and tags as Docker does', () => {
    const a = 'sha256:' + 'a'.repeat(64);
    const b = 'sha256:' + 'ab'.repeat(32);
    const images = [
      { id: a, repoTags: ['nginx:latest'], repoDigests: ['nginx@sha256:' + 'f'.repeat(64)] },
      { id: b, repoTags: ['fleet/app:1'], repoDigests: [] },
    ];
    expect(resolveReference('nginx', images)).toEqual([a]);
    expect(resolveReference('docker.io/library/nginx:latest', images)).toEqual([a]);
    expect(resolveReference('nginx@sha256:' + 'f'.repeat(64), images)).toEqual([a]);
    expect(resolveReference('fleet/app', images)).toEqual([]);
    expect(resolveReference('aaaa', images)).toEqual([a]);
    expect(resolveReference('a', images).sort()).toEqual([a, b].sort());
    expect(resolveReference(b, images)).toEqual([b]);
  });
});
