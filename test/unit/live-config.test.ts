/** --mirror / mirror: and --resync-interval / resyncIntervalSeconds: parsed, defaulted and bounded like every setting. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const HOST = ['a=unix:///nonexistent/a.sock'];

describe('mirror settings', () => {
  it('are off with a 300 s resync by default; flags and the config file set them', () => {
    expect(loadConfig({ hosts: HOST }, {})).toMatchObject({ mirror: false, resyncIntervalSeconds: 300 });
    expect(loadConfig({ hosts: HOST, mirror: true, resyncInterval: '30' }, {})).toMatchObject({ mirror: true, resyncIntervalSeconds: 30 });
    const dir = mkdtempSync(join(tmpdir(), 'fg-live-config-'));
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, 'mirror: true\nresyncIntervalSeconds: 60\n');
      expect(loadConfig({ hosts: HOST, configFile: file }, {})).toMatchObject({ mirror: true, resyncIntervalSeconds: 60 });
      expect(loadConfig({ hosts: HOST, configFile: file, resyncInterval: 5 }, {})).toMatchObject({ resyncIntervalSeconds: 5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuse a resync interval out of bounds, naming the flag', () => {
    for (const bad of ['0', '-1', '1.5', '86401', 'soon']) {
      expect(() => loadConfig({ hosts: HOST, resyncInterval: bad }, {})).toThrow(ConfigError);
      expect(() => loadConfig({ hosts: HOST, resyncInterval: bad }, {})).toThrow(/--resync-interval/);
    }
  });
});
