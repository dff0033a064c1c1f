import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MISSING_DOCKERD, NOT_ROOT, preflight } from '../../src/dev/preflight.js';
import { scratchDir } from '../helpers/scratch.js';

/** What `npm run demo` checks before it starts engines (the e2e test runs the script itself). */

const dir = scratchDir('fleetgraph-preflight-');
const bin = (name: string, mode: number) => {
  const d = join(dir(), name);
  mkdirSync(d);
  writeFileSync(join(d, 'dockerd'), '#!/bin/sh\n', { mode });
  return d;
};

describe('demo preflight', () => {
  it('takes the first executable dockerd on PATH, skipping one that is not executable', () => {
    const off = bin('off', 0o644);
    const on = bin('on', 0o755);
    expect(preflight({ PATH: `${join(dir(), 'none')}:${off}:${on}` }, 0)).toEqual({ dockerd: join(on, 'dockerd'), problems: [] });
  });

  it('says what to install when there is none, and that root is needed when not root', () => {
    expect(preflight({ PATH: join(dir(), 'none') }, 0)).toEqual({ problems: [MISSING_DOCKERD] });
    expect(preflight({ PATH: join(dir(), 'none') }, 1000)).toEqual({ problems: [MISSING_DOCKERD, NOT_ROOT] });
    expect(MISSING_DOCKERD).toContain('apt-get install docker.io');
  });

  it('FLEETGRAPH_DOCKERD replaces the PATH search', () => {
    const on = bin('env', 0o755);
    expect(preflight({ PATH: on, FLEETGRAPH_DOCKERD: join(dir(), 'nope') }, 0).problems[0]).toMatch(/^FLEETGRAPH_DOCKERD=.*nope is not an executable file\.\n/);
    expect(preflight({ PATH: '', FLEETGRAPH_DOCKERD: join(on, 'dockerd') }, 1000)).toEqual({ dockerd: join(on, 'dockerd'), problems: [NOT_ROOT] });
  });
});
