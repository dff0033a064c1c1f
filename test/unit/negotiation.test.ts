/**
 * API version negotiation against versioned fake engines (in-process, no dockerd): Docker 29.1 refuses
 * versions below 1.44, engines newer than this code are capped at MAX_API_VERSION, and an engine whose
 * minimum is past it is spoken to at that minimum, learned from /version or from its refusal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_API_VERSION } from '../../src/docker/hosts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectedSummaries, EVERY_FIELD } from '../helpers/engine-oracle.js';
import { startVersionedEngine, VERSIONED_ENGINES, type VersionedEngine, type VersionedEngineSpec } from '../helpers/fake-engines/server.js';

const FUTURE: VersionedEngineSpec = { name: 'future', release: '31.0.0', apiVersion: '1.60', minApiVersion: '1.56', store: 'containerd' };
const DOCKER30: VersionedEngineSpec = { name: 'docker30', release: '30.0.0', apiVersion: '1.58', minApiVersion: '1.44', store: 'containerd' };

let engines: VersionedEngine[] = [];
let app: TestApp | undefined;
afterEach(async () => {
  app?.close();
  await Promise.all(engines.map((e) => e.stop()));
  engines = [];
});

async function fleet(...specs: VersionedEngineSpec[]): Promise<TestApp> {
  engines = await Promise.all(specs.map((s) => startVersionedEngine(s)));
  app = createTestApp(engines.map((e) => ({ name: e.spec.name, endpoint: e.endpoint })), { maxImages: 500 });
  return app;
}

const versionOf = (path: string) => /^\/v(\d+\.\d+)\//.exec(path)?.[1];

describe('negotiation with engines of today and tomorrow', () => {
  it('Docker 29.1 (1.52, minimum 1.44): spoken to at 1.52, never below 1.44', async () => {
    const t = await fleet(VERSIONED_ENGINES.find((e) => e.name === 'docker29-1')!);
    for (let i = 0; i < 2; i++) expect((await t.query(`{ images { nodes { id containers } } hosts { apiVersion } }`)).errors).toBeUndefined();
    // Before its first answer the gateway asks unversioned (served at the engine's own version); then 1.52 only.
    const versions = engines[0]!.rawPaths.map(versionOf);
    expect(versions.filter((v) => v === undefined).length).toBeLessThanOrEqual(2);
    expect(new Set(versions.filter((v) => v !== undefined))).toEqual(new Set(['1.52']));
  });

  it('an engine newer than this code is capped at MAX_API_VERSION; one whose minimum is newer still gets its minimum after its refusal', async () => {
    const t = await fleet(DOCKER30, FUTURE);
    for (let i = 0; i < 2; i++) expect((await t.query(`{ images { totalCount } }`)).errors).toBeUndefined();
    const res = await t.query<{ hosts: Array<{ name: string; apiVersion: string }>; images: { nodes: Array<{ host: { name: string }; id: string }> } }>(
      `{ hosts { name apiVersion } images { nodes { ${EVERY_FIELD} } } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.hosts).toEqual([
      { name: 'docker30', apiVersion: MAX_API_VERSION },
      { name: 'future', apiVersion: '1.56' },
    ]);
    const [docker30, future] = engines;
    // The future engine refused 1.55 once (400, naming its minimum) and was asked again at 1.56, inside the same call.
    expect(future!.rawPaths.map(versionOf)).toEqual([undefined, '1.55', ...future!.rawPaths.slice(2).map(() => '1.56')]);
    expect(docker30!.rawPaths.slice(1).every((p) => versionOf(p) === MAX_API_VERSION)).toBe(true);
    const expected = (await Promise.all([docker30!, future!].map((f) => expectedSummaries(f.socket, f.spec.name, f.spec.name === 'future' ? '1.56' : MAX_API_VERSION)))).flat();
    const key = (n: { host: { name: string }; id: string }) => `${n.host.name} ${n.id}`;
    expect([...res.data!.images.nodes].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(expected.sort((a, b) => key(a).localeCompare(key(b))));
  });

  it("learns an engine's minimum from /version, so it is never refused", async () => {
    const t = await fleet(FUTURE);
    expect((await t.query(`{ hosts { engine { apiVersion } } }`)).errors).toBeUndefined();
    expect((await t.query(`{ images { totalCount } hosts { apiVersion } }`)).data).toEqual({ images: { totalCount: 4 }, hosts: [{ apiVersion: '1.56' }] });
    // The first request's calls are unversioned (no answer yet); the next goes straight to 1.56, never refused.
    expect(engines[0]!.rawPaths.filter((p) => versionOf(p) !== undefined)).toEqual(['/v1.56/images/json']);
  });
});
