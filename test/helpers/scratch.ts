/**
 * Module: a temp dir for one test file, made before its first test and removed after its last. It is made in
 * beforeAll, not at import: when none of a file's tests runs (a -t filter, every test skipped), vitest runs
 * neither hook, and a dir made at import would stay in /tmp.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** Registers the hooks (call it at the top level of a test file); the returned function gives the dir's path. */
export function scratchDir(prefix: string): () => string {
  let dir: string | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (dir === undefined) throw new Error(`scratchDir(${prefix}): used before the file's first test`);
    return dir;
  };
}
