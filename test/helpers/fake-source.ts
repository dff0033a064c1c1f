/**
 * Module: an in-process {@link InventorySource} for fast schema tests. It holds records already in the
 * normalised shapes of src/inventory/types.ts, fails the hosts it is told to with a {@link HostError}
 * of the given code, and counts every call per method and host. With {@link createFakeApp} a test runs
 * real GraphQL requests through app.fetch in milliseconds: no root, no dockerd, no sockets.
 *
 * Real engines stay the oracle for what the records hold (fields, filters, transports, faults); this
 * source is for what the schema does with them (partial errors, pages, limits, scoping, input checks).
 */
import { createApp } from '../../src/app.js';
import { loadConfig, type ConfigInput } from '../../src/config.js';
import { HostError, type HostErrorCode } from '../../src/docker/errors.js';
import type { ContainerRecord, EngineVersion, ImageRecord } from '../../src/inventory/types.js';
import type { InventorySource } from '../../src/docker/source.js';
import { queryApp, type TestQuery } from './app.js';

export const SOURCE_METHODS = ['images', 'containers', 'version', 'sharedSizes'] as const;
export type SourceMethod = (typeof SOURCE_METHODS)[number];

export interface FakeSourceSpec {
  /** Host names in configuration order; default: every host named in images, containers, versions or fail. */
  hosts?: string[];
  images?: Record<string, ImageRecord[]>;
  containers?: Record<string, ContainerRecord[]>;
  versions?: Record<string, EngineVersion>;
  /** Image ID -> shared size, per host (what the engine computes on request). */
  sharedSizes?: Record<string, Record<string, number | null>>;
  /** A code fails every method of the host; an object fails only the methods it names. */
  fail?: Record<string, HostErrorCode | Partial<Record<SourceMethod, HostErrorCode>>>;
  breaker?: Record<string, 'closed' | 'open' | 'half-open'>;
}

export interface FakeSource extends InventorySource {
  /** Calls so far: method -> host -> count. */
  readonly calls: Record<SourceMethod, Record<string, number>>;
  /** Calls of `method` (on `host`, or on every host). */
  count(method: SourceMethod, host?: string): number;
  reset(): void;
}

/** A 64-hex-digit image ID ("sha256:" + n, zero-padded), so tests can write fakeId(1), fakeId(2). */
export function fakeId(n: number | string): string {
  return `sha256:${String(n).padStart(64, '0')}`;
}

/** An image record with defaults for what a test does not care about. */
export function fakeImage(fields: Partial<ImageRecord> & { id: string }): ImageRecord {
  return {
    parentId: null,
    repoTags: [],
    repoDigests: [],
    created: 1_700_000_000,
    size: 1000,
    sharedSize: 0,
    virtualSize: null,
    labels: {},
    containers: 0,
    ...fields,
  };
}

export function fakeContainer(fields: Partial<ContainerRecord> & { id: string; imageId: string }): ContainerRecord {
  return { names: [`c-${fields.id}`], image: fields.imageId, state: 'created', status: 'Created', created: 1_700_000_000, ...fields };
}

export const FAKE_VERSION: EngineVersion = { version: '20.10.24', apiVersion: '1.41', minApiVersion: '1.12', os: 'linux', arch: 'amd64', kernelVersion: '6.1.0' };

export function fakeSource(spec: FakeSourceSpec): FakeSource {
  const names = spec.hosts ?? [
    ...new Set([...Object.keys(spec.images ?? {}), ...Object.keys(spec.containers ?? {}), ...Object.keys(spec.versions ?? {}), ...Object.keys(spec.fail ?? {})]),
  ];
  const calls = Object.fromEntries(SOURCE_METHODS.map((m) => [m, {}])) as FakeSource['calls'];

  function failure(host: string, method: SourceMethod): HostErrorCode | undefined {
    const f = spec.fail?.[host];
    return typeof f === 'string' ? f : f?.[method];
  }

  /** Counts the call, then answers like an engine source: a HostError for a failing or unknown host. */
  function answer<T>(method: SourceMethod, host: string, value: () => T): Promise<T> {
    calls[method][host] = (calls[method][host] ?? 0) + 1;
    const code = failure(host, method);
    if (code) return Promise.reject(new HostError(host, code, 'fake'));
    if (!names.includes(host)) return Promise.reject(new HostError(host, 'HOST_ERROR', 'not a fake host'));
    // structuredClone: a resolver that mutated a record would otherwise change what later requests see
    return Promise.resolve(structuredClone(value()));
  }

  return {
    calls,
    count: (method, host) => (host === undefined ? Object.values(calls[method]).reduce((a, b) => a + b, 0) : (calls[method][host] ?? 0)),
    reset() {
      for (const m of SOURCE_METHODS) calls[m] = {};
    },
    hostNames: () => names,
    images: (host) => answer('images', host, () => spec.images?.[host] ?? []),
    containers: (host) => answer('containers', host, () => spec.containers?.[host] ?? []),
    version: (host) => answer('version', host, () => spec.versions?.[host] ?? FAKE_VERSION),
    sharedSizes: (host) => answer('sharedSizes', host, () => new Map(Object.entries(spec.sharedSizes?.[host] ?? {}))),
    breakerState: (host) => spec.breaker?.[host] ?? 'closed',
    negotiatedApiVersion: (host) => (failure(host, 'images') ? undefined : (spec.versions?.[host] ?? FAKE_VERSION).apiVersion),
  };
}

export interface FakeApp {
  app: ReturnType<typeof createApp>;
  source: FakeSource;
  query: TestQuery;
}

/**
 * The real app over a fake source. The config is the real one too (loadConfig), so limits, tokens and
 * production mode behave as configured; its host endpoints are never dialled.
 */
export function createFakeApp(source: FakeSource, input: ConfigInput = {}, env: NodeJS.ProcessEnv = {}): FakeApp {
  const config = loadConfig({ ...input, hosts: source.hostNames().map((h) => `${h}=unix:///nonexistent/${h}.sock`) }, env);
  const app = createApp({ source, config });
  return { app, source, query: (query, variables, headers) => queryApp(app, query, variables, headers) };
}
