import { describe, expect, it } from 'vitest';
import { createFakeApp, fakeId, fakeImage, fakeSource } from '../helpers/fake-source.js';

/**
 * Admission control (src/admission.ts): heavy operations (estimated cost ≥ limits.heavyCost) run at most
 * limits.maxHeavy at once, at most limits.maxHeavyQueued wait, the next gets SERVER_BUSY (503) before any
 * host is asked, and cheap operations go through meanwhile. Host a's image list is held open by the test,
 * so what runs at once is counted by the calls the source has in flight (gates: calls started).
 */

const HEAVY = `{ images(hosts: ["a"]) { totalCount nodes { id repoTags } } }`;
const CHEAP = `{ images(hosts: ["b"], first: 1) { nodes { id } } }`;

function gatedSource() {
  const inner = fakeSource({ hosts: ['a', 'b'], images: { a: [fakeImage({ id: fakeId(1) })], b: [fakeImage({ id: fakeId(2) })] } });
  let inFlight = 0;
  let maxInFlight = 0;
  const gates: Array<() => void> = [];
  const source = {
    ...inner,
    images(host: string) {
      if (host !== 'a') return inner.images(host);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<void>((resolve) => gates.push(resolve)).then(() => {
        inFlight--;
        return inner.images(host);
      });
    },
  };
  return { source, gates, inFlight: () => inFlight, maxInFlight: () => maxInFlight };
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe('admission of heavy queries', () => {
  it('runs at most maxHeavy at once, queues maxHeavyQueued, refuses the rest with SERVER_BUSY; cheap ones pass', async () => {
    const g = gatedSource();
    const app = createFakeApp(g.source as typeof g.source & ReturnType<typeof fakeSource>, { limits: { heavyCost: 1000, maxHeavy: 2, maxHeavyQueued: 3 } });
    const heavy = Array.from({ length: 7 }, () => app.query<{ images: { totalCount: number } }>(HEAVY));
    await expect.poll(() => g.inFlight()).toBe(2);
    // 2 running + 3 waiting: the last 2 were refused at once, without a host call.
    const refused = await Promise.all(heavy.slice(5));
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.errors!.map((e) => e.extensions?.code)).toEqual(['SERVER_BUSY']);
    }
    expect(g.gates).toHaveLength(2);
    // A cheap query is not held behind the heavy ones.
    const cheap = await app.query<{ images: { nodes: Array<{ id: string }> } }>(CHEAP);
    expect(cheap.data!.images.nodes).toEqual([{ id: fakeId(2) }]);
    // Let them all through, one gate at a time: never more than 2 at once.
    for (let opened = 0; opened < 5; opened++) {
      await expect.poll(() => g.gates.length).toBeGreaterThan(opened);
      g.gates[opened]!();
      await settle();
    }
    const answers = await Promise.all(heavy.slice(0, 5));
    for (const a of answers) expect(a.data!.images.totalCount).toBe(1);
    expect(g.maxInFlight()).toBe(2);
    expect(g.gates).toHaveLength(5);
    expect(g.source.count('images', 'a')).toBe(5);
  });

  it('frees the slot of a heavy query that failed, so later ones still run', async () => {
    const s = fakeSource({ hosts: ['a'], fail: { a: 'HOST_TIMEOUT' } });
    const app = createFakeApp(s, { limits: { heavyCost: 1000, maxHeavy: 1, maxHeavyQueued: 0 } });
    for (let i = 0; i < 3; i++) {
      const r = await app.query(`{ images { totalCount nodes { id repoTags } } }`);
      expect(r.errors!.map((e) => e.extensions?.code)).toEqual(['HOST_TIMEOUT']);
    }
    expect(s.count('images', 'a')).toBe(3);
  });
});
