import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { queryApp } from '../helpers/app.js';
import { bulkSource } from '../helpers/bulk-source.js';

describe("an image's container and shared-size fields read the host's answer without a promise per image", () => {
  it('6000 images × usedBy and inUse: far fewer promises than fields, same answer', async () => {
    const hosts = ['a', 'b', 'c'];
    const source = bulkSource(hosts, 2000);
    const config = loadConfig({ hosts: hosts.map((h) => `${h}=unix:///${h}.sock`), maxImages: 10_000, limits: { maxCost: 10_000_000 } }, {});
    const app = createApp({ source, config });
    const query = '{ images { nodes { id usedBy { id } inUse } } }';
    await queryApp(app, query); // compiled and warm
    let promises = 0;
    const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) }).enable();
    let res: Awaited<ReturnType<typeof queryApp>>;
    try {
      res = await queryApp<{ images: { nodes: Array<{ id: string; usedBy: unknown[] | null; inUse: boolean | null }> } }>(app, query);
    } finally {
      hook.disable();
    }
    expect(res.errors).toBeUndefined();
    const nodes = (res.data as { images: { nodes: Array<{ usedBy: unknown[] | null; inUse: boolean | null }> } }).images.nodes;
    expect(nodes).toHaveLength(6000);
    expect(nodes.every((n) => Array.isArray(n.usedBy) && n.usedBy.length === 0 && n.inUse === false)).toBe(true);
    expect(source.calls.containers).toBe(2 * hosts.length);
    // A promise per image and field would be at least 12,000.
    expect(promises).toBeLessThan(2000);
  });
});
