import { describe, expect, it } from 'vitest';
import { referenceProblem } from '../../src/inventory/reference-syntax.js';

describe('referenceProblem: what Docker resolves as one image reference', () => {
  it.each([
    'nginx',
    'nginx:1.20',
    'library/nginx:latest',
    'docker.io/library/nginx:latest',
    'localhost:5000/team/app:v1.2-rc_3',
    '127.0.0.1:5000/app',
    '[::1]:5000/app:x',
    `app@sha256:${'a'.repeat(64)}`,
    `registry.example.com/a/b/c:t@sha256:${'b'.repeat(64)}`,
    'a__b/c--d.e',
    'sha256:0123abcd',
    '0123abcd',
    'f'.repeat(64),
  ])('accepts %s', (ref) => {
    expect(referenceProblem(ref)).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['sha256:', 'is not a valid image reference'],
    ['Nginx', 'is not a valid image reference'],
    ['nginx:', 'is not a valid image reference'],
    ['nginx@', 'is not a valid image reference'],
    ['app@sha256:abc', 'is not a valid image reference'],
    ['/nginx', 'is not a valid image reference'],
    ['nginx/', 'is not a valid image reference'],
    ['a..b', 'is not a valid image reference'],
    ['a b', 'is not a valid image reference'],
    [`x:${'t'.repeat(129)}`, 'is not a valid image reference'],
    [`${'a'.repeat(256)}`, 'repository name over 255'],
    ['a'.repeat(513), 'over 512 characters'],
  ])('refuses %j', (ref, problem) => {
    expect(referenceProblem(ref)).toContain(problem);
  });
});
