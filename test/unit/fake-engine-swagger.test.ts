/**
 * The versioned fake engines (test/helpers/fake-engines/) against the Engine API's own swagger files
 * (moby/moby's, in ../shared/engine-api/; the definitions used here are copied unmodified into
 * test/fixtures/engine-api/ so the suite runs without that folder): every /images/json item they send at API 1.41, 1.44, 1.51
 * and 1.55 has every field the version's ImageSummary requires, no field it does not define, and each
 * of the documented type (nested manifests and descriptors too). The version semantics the swagger
 * cannot express (sentinels, counts) come from Docker's API changelog.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineGet, engineRequest } from '../../src/dev/engine-api.js';
import { startVersionedEngine, VERSIONED_ENGINES, type VersionedEngine } from '../helpers/fake-engines/server.js';

type Schema = { $ref?: string; type?: string; required?: string[]; properties?: Record<string, Schema>; additionalProperties?: Schema | boolean; items?: Schema; 'x-nullable'?: boolean; enum?: unknown[] };

const SPEC_DIR = new URL('../fixtures/engine-api/', import.meta.url);
const definitions = (v: string) => (JSON.parse(readFileSync(new URL(`definitions-v${v}.json`, SPEC_DIR), 'utf8')) as { definitions: Record<string, Schema> }).definitions;

/** Where `value` breaks `schema` (paths of the problems; empty when it conforms). */
function problems(value: unknown, schema: Schema, defs: Record<string, Schema>, at = '$'): string[] {
  if (schema.$ref) return problems(value, { ...defs[schema.$ref.replace('#/definitions/', '')]!, ...(schema['x-nullable'] !== undefined ? { 'x-nullable': schema['x-nullable'] } : {}) }, defs, at);
  if (value === null) return schema['x-nullable'] === true ? [] : [`${at}: null`];
  switch (schema.type) {
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: not an integer`];
    case 'string':
      return typeof value === 'string' && (!schema.enum || schema.enum.includes(value)) ? [] : [`${at}: not a documented string`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: not a boolean`];
    case 'array':
      return Array.isArray(value) ? value.flatMap((v, i) => problems(v, schema.items ?? {}, defs, `${at}[${i}]`)) : [`${at}: not an array`];
  }
  if (schema.type === 'object' || schema.properties) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: not an object`];
    const o = value as Record<string, unknown>;
    // A required key the definition does not define is the swagger's slip, not a field: ImageManifestSummary's
    // ImageData requires "UnpackedSize" but defines (and Docker's Go type sends) Size.Unpacked.
    const out = (schema.required ?? []).filter((k) => !(k in o) && (!schema.properties || k in schema.properties)).map((k) => `${at}.${k}: missing`);
    for (const [k, v] of Object.entries(o)) {
      const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (!sub) out.push(`${at}.${k}: not defined at this version`);
      else out.push(...problems(v, sub, defs, `${at}.${k}`));
    }
    return out;
  }
  return [];
}

const VERSIONS = ['1.41', '1.44', '1.51', '1.55'] as const;
const QUERIES = ['', '?shared-size=1', '?manifests=1', '?shared-size=1&manifests=1&digests=1'];

describe('versioned fake engines follow the swagger of each version', () => {
  let classic: VersionedEngine;
  let containerd: VersionedEngine;
  let docker291: VersionedEngine;
  beforeAll(async () => {
    // Engines that still speak 1.41, so every version can be asked of both stores.
    classic = await startVersionedEngine({ name: 'classic', release: '29.7.0', apiVersion: '1.55', minApiVersion: '1.24', store: 'classic' });
    containerd = await startVersionedEngine({ name: 'containerd', release: '29.7.0', apiVersion: '1.55', minApiVersion: '1.24', store: 'containerd' });
    docker291 = await startVersionedEngine(VERSIONED_ENGINES.find((e) => e.name === 'docker29-1')!);
  });
  afterAll(async () => {
    await Promise.all([classic?.stop(), containerd?.stop(), docker291?.stop()]);
  });

  for (const version of VERSIONS) {
    it(`ImageSummary at ${version}, both stores, with and without shared-size/manifests`, async () => {
      const defs = definitions(version);
      for (const engine of [classic, containerd]) {
        for (const query of QUERIES) {
          const list = await engineGet<Array<Record<string, unknown>>>(engine.socket, `/v${version}/images/json${query}`);
          expect(list).toHaveLength(4);
          for (const item of list) expect(problems(item, defs.ImageSummary!, defs), `${engine.spec.name} ${version}${query}`).toEqual([]);
          const store = engine.spec.store;
          const v = (w: string) => Number(version.split('.')[1]) >= Number(w.split('.')[1]);
          // Changelog semantics per version.
          expect(list.every((i) => ('VirtualSize' in i) === !v('1.44'))).toBe(true);
          expect(list.every((i) => (i.Containers === -1) === !v('1.51'))).toBe(true);
          expect(list.every((i) => (i.SharedSize === -1) === !(query.includes('shared-size') && v('1.42')))).toBe(true);
          expect(list.every((i) => ('Manifests' in i) === (store === 'containerd' && v('1.47') && query.includes('manifests')))).toBe(true);
          expect(list.every((i) => ('Descriptor' in i) === (store === 'containerd' && v('1.48')))).toBe(true);
          const untagged = list.find((i) => (i.Created as number) === 1_759_000_000)!;
          expect([untagged.RepoTags, untagged.RepoDigests]).toEqual(v('1.43') ? [[], []] : [['<none>:<none>'], ['<none>@<none>']]);
        }
      }
    });
  }

  it('a containerd-store image is known by its index digest, a classic one by its config digest', async () => {
    const [c, d] = await Promise.all([
      engineGet<Array<{ Id: string; RepoDigests: string[]; Size: number; Descriptor?: { digest: string } }>>(classic.socket, '/v1.55/images/json'),
      engineGet<Array<{ Id: string; RepoDigests: string[]; Size: number; Descriptor?: { digest: string } }>>(containerd.socket, '/v1.55/images/json?manifests=1'),
    ]);
    const multiC = c.find((i) => i.RepoDigests.some((r) => r.includes('fleet/multi')))!;
    const multiD = d.find((i) => i.RepoDigests.some((r) => r.includes('fleet/multi')))!;
    expect(multiC.Id).not.toBe(multiD.Id);
    expect(multiD.Descriptor!.digest).toBe(multiD.Id);
    expect(multiC.RepoDigests).toEqual(multiD.RepoDigests);
    expect(multiD.RepoDigests[0]!.endsWith(`@${multiD.Id}`)).toBe(true);
  });

  it('refuses versions below its minimum and above its highest with 400 and Docker\'s message', async () => {
    const old = await engineRequest(docker291.socket, 'GET', '/v1.41/images/json');
    expect(old.status).toBe(400);
    expect(JSON.parse(old.body.toString())).toEqual({ message: 'client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version' });
    expect(old.headers['api-version']).toBe('1.52');
    const newer = await engineRequest(docker291.socket, 'GET', '/v1.55/images/json');
    expect(newer.status).toBe(400);
    const version = await engineGet<{ ApiVersion: string; MinAPIVersion: string }>(docker291.socket, '/version');
    expect(problems(version, definitions('1.55').SystemVersion!, definitions('1.55'))).toEqual([]);
    expect(version).toMatchObject({ ApiVersion: '1.52', MinAPIVersion: '1.44' });
  });

  it('honours filters (dangling, label, reference, until on the store\'s own time)', async () => {
    const ids = async (e: VersionedEngine, filters: object) =>
      (await engineGet<Array<{ Created: number }>>(e.socket, `/images/json?filters=${encodeURIComponent(JSON.stringify(filters))}`)).map((i) => i.Created).sort();
    expect(await ids(classic, { dangling: ['true'] })).toEqual([1_759_000_000]);
    expect(await ids(classic, { label: ['tier=web'] })).toEqual([1_762_000_000]);
    expect(await ids(classic, { reference: ['fleet/*'] })).toEqual([1_761_000_000, 1_762_000_000]);
    expect(await ids(classic, { until: ['1762000050'] })).toEqual([1_759_000_000, 1_760_000_000, 1_761_000_000, 1_762_000_000]);
    expect(await ids(containerd, { until: ['1762000050'] })).toEqual([1_759_000_000]);
    expect((await engineRequest(classic.socket, 'GET', `/images/json?filters=${encodeURIComponent('{"nope":["x"]}')}`)).status).toBe(400);
  });
});
