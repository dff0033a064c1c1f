import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import semver from 'semver';

/**
 * fleetgraph supports Node 20 (the machines' version), 22 and 24. Every package the lock file installs,
 * dependencies and devDependencies alike (the tests run on the same Node), must accept each of them,
 * or `npm ci` warns EBADENGINE and the package may use what that Node lacks.
 */
const SUPPORTED = ['20.19.0', '22.13.0', '24.0.0'];
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

describe('supported Node versions', () => {
  it('package.json claims exactly the supported range', () => {
    for (const v of SUPPORTED) expect(semver.satisfies(v, pkg.engines.node), v).toBe(true);
    expect(semver.satisfies('18.20.0', pkg.engines.node)).toBe(false);
  });

  it('every locked package accepts every supported Node', () => {
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (!path || !range) continue;
      for (const v of SUPPORTED) if (!semver.satisfies(v, range)) refused.push(`${path}@${entry.version} wants node ${range} (not ${v})`);
    }
    expect(refused).toEqual([]);
  });
});
