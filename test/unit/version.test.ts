import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/version.js';

describe('packageVersion', () => {
  const { version } = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version: string };

  it("finds fleetgraph's package.json from src/ and from dist/src/", () => {
    expect(packageVersion()).toBe(version);
    // the built CLI's location (the file need not exist: only its folder is walked up)
    expect(packageVersion(pathToFileURL(join(process.cwd(), 'dist', 'src', 'version.js')).href)).toBe(version);
  });

  it('says "unknown" where no fleetgraph package.json is above', () => {
    expect(packageVersion(pathToFileURL('/version.js').href)).toBe('unknown');
  });
});
